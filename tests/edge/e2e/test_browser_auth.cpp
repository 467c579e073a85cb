// What a browser needs to authenticate: in-band auth on a WebSocket opened without credentials,
// CORS on the REST API for the allow-list, same-origin cookie requests without an Origin header,
// and the development sign-in. A real edge, a real redis-server, real sockets.
#include <catch2/catch.hpp>

#include <string>

#include "bench/ws_client.hpp"
#include "common/clock.hpp"
#include "tests/edge/support/edge_fixture.hpp"
#include "tests/edge/support/jwt_test_tokens.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;
using namespace std::chrono_literals;
using test::edge_fixture;

namespace {

const std::string secret = "an-hs256-secret-of-at-least-32-bytes!";
const std::string app_origin = "https://app.example";
using headers = std::vector<std::pair<std::string, std::string>>;

std::string token_for(const std::string& user, std::int64_t ttl_s = 600) {
  const auto exp = common::now_us() / 1'000'000 + ttl_s;
  return test::token("HS256", R"({"sub":")" + user + R"(","exp":)" + std::to_string(exp) + "}",
                     [](std::string_view in) { return test::hmac(secret, in); });
}

void browser_edge(edge::app_config& c) {
  c.jwt_algorithms = "HS256";
  c.jwt_hs_secret = secret;
  c.session_cookie = "sid";
  c.allowed_origins = app_origin;
  c.allow_in_band_auth = true;
  c.dev_login = true;
}

// The next frame of type `type`, skipping others; empty when none comes.
std::string next_of(client::ws_client& c, const std::string& type) {
  for (;;) {
    auto f = c.next(5s);
    if (!f) return {};
    if (test::type_of(*f) == type) return *f;
  }
}

client::http_reply request(edge_fixture& fx, std::string_view method, const std::string& target, const headers& h = {},
                           const std::string& body = {}) {
  auto r = client::http_request("127.0.0.1", std::to_string(fx.edge->port()), method, target, 5s, h, body);
  REQUIRE(r.ok());
  return std::move(r).value();
}

}  // namespace

TEST_CASE("in-band auth: a browser's first message authenticates, private channels wait for it", "[auth][browser]") {
  edge_fixture fx(browser_edge);
  auto c = fx.connect({{"Origin", app_origin}});  // no credentials: accepted, pending authentication
  REQUIRE(c->send(R"({"type":"subscribe","channels":["positions"]})"));
  const auto refused = next_of(*c, "error");
  CHECK(refused.find(R"("code":"auth_required")") != std::string::npos);
  REQUIRE(c->send(R"({"type":"ping","id":1})"));  // pings are answered meanwhile, with the node
  CHECK(test::parse(next_of(*c, "pong"))["node"].GetString() == std::string("test-edge"));

  REQUIRE(c->send(R"({"type":"auth","token":")" + token_for("u-7") + R"("})"));
  const auto ok = test::parse(next_of(*c, "authenticated"));
  CHECK(ok["user_id"].GetString() == std::string("u-7"));
  CHECK(ok["expires_at_s"].IsInt64());
  CHECK(ok["node"].GetString() == std::string("test-edge"));
  REQUIRE(c->send(R"({"type":"subscribe","channels":["positions"]})"));
  const auto sub = next_of(*c, "subscribed");
  CHECK(sub.find(R"("channels":["positions"])") != std::string::npos);
  CHECK(next_of(*c, "snapshot").find(R"("positions":[])") != std::string::npos);
  // A second auth is refused; the connection stays.
  REQUIRE(c->send(R"({"type":"auth","token":")" + token_for("u-8") + R"("})"));
  CHECK(next_of(*c, "error").find("already_authenticated") != std::string::npos);
  CHECK_FALSE(c->closed());
}

TEST_CASE("in-band auth: a bad token or none in time closes with 4003", "[auth][browser]") {
  edge_fixture fx([](edge::app_config& c) {
    browser_edge(c);
    c.limits.auth_timeout = std::chrono::milliseconds(300);
    c.limits.idle_timeout = std::chrono::milliseconds(4000);  // sweeps every second
  });
  auto bad = fx.connect();
  REQUIRE(bad->send(R"({"type":"auth","token":")" + token_for("u-1") + R"(x"})"));
  CHECK(next_of(*bad, "error").find(R"("code":"bad_signature")") != std::string::npos);
  REQUIRE(test::wait_until([&] {
    bad->next(10ms);
    return bad->closed();
  }));
  CHECK(bad->close_code() == 4003);

  auto silent = fx.connect();
  CHECK(next_of(*silent, "error").find(R"("code":"auth_timeout")") != std::string::npos);
  REQUIRE(test::wait_until([&] {
    silent->next(10ms);
    return silent->closed();
  }));
  CHECK(silent->close_code() == 4003);
  // Credentials in the upgrade still work, and a bad one is still refused there.
  CHECK(fx.try_connect({{"Authorization", "Bearer " + token_for("u-1")}}).ok());
  CHECK_FALSE(fx.try_connect({{"Authorization", "Bearer nonsense"}}).ok());
}

TEST_CASE("in-band auth counts against the user's connection limit", "[auth][browser][limits]") {
  edge_fixture fx([](edge::app_config& c) {
    browser_edge(c);
    c.max_connections_per_user = 1;
  });
  auto first = fx.connect({{"Authorization", "Bearer " + token_for("u-2")}});
  auto second = fx.connect();
  REQUIRE(second->send(R"({"type":"auth","token":")" + token_for("u-2") + R"("})"));
  CHECK(next_of(*second, "error").find("max_connections") != std::string::npos);
  REQUIRE(test::wait_until([&] {
    second->next(10ms);
    return second->closed();
  }));
  CHECK(second->close_code() == 4009);
  CHECK_FALSE(first->closed());
}

TEST_CASE("REST from a browser: CORS for the allow-list, same-origin cookies, nothing for other sites",
          "[auth][browser][rest]") {
  edge_fixture fx(browser_edge);
  // The development sign-in sets the session cookie.
  const auto login = request(fx, "POST", "/api/dev/login",
                             {{"Content-Type", "application/json"}, {"Origin", app_origin}}, R"({"user":"demo"})");
  REQUIRE(login.status == 200);
  CHECK(test::parse(login.body)["user_id"].GetString() == std::string("demo"));
  const auto set_cookie = login.header("Set-Cookie");
  REQUIRE(set_cookie.starts_with("sid="));
  CHECK(set_cookie.find("HttpOnly") != std::string::npos);
  CHECK(set_cookie.find("SameSite=Strict") != std::string::npos);
  const auto cookie = set_cookie.substr(0, set_cookie.find(';'));

  // Pre-flight: allowed for the allow-list, refused for anyone else.
  const auto pre =
      request(fx, "OPTIONS", "/api/positions", {{"Origin", app_origin}, {"Access-Control-Request-Method", "GET"}});
  CHECK(pre.status == 204);
  CHECK(pre.header("Access-Control-Allow-Origin") == app_origin);
  CHECK(pre.header("Access-Control-Allow-Credentials") == "true");
  CHECK(pre.header("Access-Control-Allow-Headers").find("Authorization") != std::string::npos);
  CHECK(request(fx, "OPTIONS", "/api/positions", {{"Origin", "https://evil.example"}}).status == 403);

  // The allowed origin reads the user's own data with the cookie, with CORS headers.
  const auto mine = request(fx, "GET", "/api/positions", {{"Origin", app_origin}, {"Cookie", cookie}});
  CHECK(mine.status == 200);
  CHECK(mine.header("Access-Control-Allow-Origin") == app_origin);
  CHECK(mine.header("Vary") == "Origin");
  // A same-origin GET carries no Origin: the browser's Sec-Fetch-Site says where it comes from.
  CHECK(request(fx, "GET", "/api/account", {{"Cookie", cookie}, {"Sec-Fetch-Site", "same-origin"}}).status == 200);
  // A cookie without either, or from another site, is refused; no CORS headers go to other sites.
  CHECK(request(fx, "GET", "/api/account", {{"Cookie", cookie}}).status == 403);
  const auto cross =
      request(fx, "GET", "/api/account",
              {{"Cookie", cookie}, {"Origin", "https://evil.example"}, {"Sec-Fetch-Site", "cross-site"}});
  CHECK(cross.status == 403);
  CHECK(cross.header("Access-Control-Allow-Origin").empty());
  // The WebSocket with the same cookie, from the allowed origin.
  auto ws = fx.connect({{"Cookie", cookie}, {"Origin", app_origin}});
  REQUIRE(ws->send(R"({"type":"subscribe","channels":["account"]})"));
  CHECK(next_of(*ws, "subscribed").find(R"("channels":["account"])") != std::string::npos);
  CHECK_FALSE(fx.try_connect({{"Cookie", cookie}, {"Origin", "https://evil.example"}}).ok());
  // A sign-in is refused from another site, and for a malformed user.
  CHECK(request(fx, "POST", "/api/dev/login", {{"Origin", "https://evil.example"}}, R"({"user":"demo"})").status ==
        403);
  CHECK(request(fx, "POST", "/api/dev/login", {{"Origin", app_origin}}, R"({"user":"no spaces"})").status == 400);
}

TEST_CASE("the development sign-in is off unless asked for, and needs a session cookie", "[auth][browser]") {
  edge_fixture fx([](edge::app_config& c) {
    c.jwt_algorithms = "HS256";
    c.jwt_hs_secret = secret;
  });
  CHECK(request(fx, "POST", "/api/dev/login", {}, R"({"user":"demo"})").status == 404);
  edge::app_config c;
  c.dev_login = true;
  auto made = edge::app::make(c);
  REQUIRE_FALSE(made);
  CHECK(made.err().code == "dev-login");
  edge::app_config d;
  d.allow_in_band_auth = true;  // without JWTs there is nothing to verify
  CHECK(edge::app::make(d).err().code == "allow-in-band-auth");
}
