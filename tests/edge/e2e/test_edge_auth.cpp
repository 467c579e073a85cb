// Authentication at the upgrade, against an edge with a real redis-server (sessions) and real
// WebSocket clients: every bad credential is refused before the socket is upgraded.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>

#include "common/clock.hpp"
#include "tests/edge/support/edge_fixture.hpp"
#include "tests/edge/support/jwt_test_tokens.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;
using namespace std::chrono_literals;
using test::edge_fixture;

namespace {

const std::string secret = "an-hs256-secret-of-at-least-32-bytes!";
const std::string origin = "https://app.example";

std::int64_t now_s() { return common::now_us() / 1'000'000; }

std::string hs_token(const std::string& claims, const std::string& key = secret, const std::string& alg = "HS256") {
  return test::token(alg, claims, [&](std::string_view in) { return test::hmac(key, in); });
}

std::string claims(std::int64_t exp_offset, const std::string& extra = "") {
  return R"({"sub":"u-1","aud":"tickstream","exp":)" + std::to_string(now_s() + exp_offset) + extra + "}";
}

// The HTTP status and error code of a refused upgrade ("101" when it was accepted).
std::string outcome(edge_fixture& fx, const std::vector<std::pair<std::string, std::string>>& headers,
                    const std::string& target = "/ws") {
  auto c = fx.try_connect(headers, target);
  if (c.ok()) return "101";
  const auto& m = c.err().message;
  const auto http = m.find("(HTTP ");
  const auto code = m.find(R"("code":")");
  if (http == std::string::npos || code == std::string::npos) return "?" + m;
  return m.substr(http + 6, 3) + " " + m.substr(code + 8, m.find('"', code + 8) - code - 8);
}

}  // namespace

TEST_CASE("bearer tokens, session cookies and origins at the upgrade", "[auth]") {
  edge_fixture fx([](edge::app_config& c) {
    c.jwt_algorithms = "HS256";
    c.jwt_hs_secret = secret;
    c.jwt_audience = "tickstream";
    c.session_cookie = "sid";
    c.allowed_origins = origin;
  });
  const auto bearer = [](const std::string& t) {
    return std::vector<std::pair<std::string, std::string>>{{"Authorization", "Bearer " + t}};
  };

  CHECK(outcome(fx, bearer(hs_token(claims(60)))) == "101");
  // The scheme is case-insensitive; anything but Bearer is not a credential we take.
  CHECK(outcome(fx, {{"Authorization", "bearer " + hs_token(claims(60))}}) == "101");
  CHECK(outcome(fx, {{"Authorization", "BEARER " + hs_token(claims(60))}}) == "101");
  CHECK(outcome(fx, {{"Authorization", "Basic dXNlcjpwYXNz"}}) == "401 malformed_credentials");
  CHECK(outcome(fx, bearer(hs_token(R"({"sub":"u-1","aud":"tickstream"})"))) == "401 missing_expiry");
  CHECK(outcome(fx, {}) == "401 missing_credentials");
  CHECK(outcome(fx, bearer(hs_token(claims(60), "another-secret-of-at-least-32-bytes"))) == "401 bad_signature");
  CHECK(outcome(fx, bearer(test::token("none", claims(60), [](std::string_view) { return std::string(); }))) ==
        "401 alg_not_allowed");
  CHECK(outcome(fx, bearer(hs_token(claims(-60)))) == "401 expired");
  CHECK(outcome(fx, bearer(hs_token(claims(600, R"(,"nbf":)" + std::to_string(now_s() + 120))))) ==
        "401 not_yet_valid");
  CHECK(outcome(fx, bearer(hs_token(R"({"sub":"u-1","aud":"elsewhere","exp":)" + std::to_string(now_s() + 60) +
                                    "}"))) == "401 wrong_audience");
  CHECK(outcome(fx, {{"Authorization", "Basic dXNlcjpwdw=="}}) == "401 malformed_credentials");
  // ?token= is off unless enabled.
  CHECK(outcome(fx, {}, "/ws?token=" + hs_token(claims(60))) == "401 missing_credentials");

  // Sessions live in Redis.
  fx.redis.cli({"HSET", "ts:sess:good", "user", "u-2", "roles", "trader", "expires", std::to_string(now_s() + 600)});
  fx.redis.cli({"HSET", "ts:sess:old", "user", "u-3", "expires", std::to_string(now_s() - 1)});
  CHECK(outcome(fx, {{"Cookie", "theme=dark; sid=good"}, {"Origin", origin}}) == "101");
  CHECK(outcome(fx, {{"Cookie", "sid=nope"}, {"Origin", origin}}) == "401 unknown_session");
  CHECK(outcome(fx, {{"Cookie", "sid=old"}, {"Origin", origin}}) == "401 expired_session");
  CHECK(outcome(fx, {{"Cookie", "sid=../../etc"}, {"Origin", origin}}) == "401 unknown_session");
  // Cookie credentials from a foreign page: cross-site WebSocket hijacking refused.
  CHECK(outcome(fx, {{"Cookie", "sid=good"}, {"Origin", "https://evil.example"}}) == "403 forbidden_origin");
  CHECK(outcome(fx, {{"Cookie", "sid=good"}}) == "403 forbidden_origin");

  const auto metrics = fx.get("/metrics").body;
  CHECK(metrics.find(R"(tickstream_edge_rejected_upgrades_total{reason="forbidden_origin"} 2)") != std::string::npos);
  CHECK(metrics.find(R"(tickstream_edge_rejected_upgrades_total{reason="expired"} 1)") != std::string::npos);
}

TEST_CASE("an RS256 edge refuses HS256 tokens made with its public key, and ?token= when enabled", "[auth]") {
  test::pkey_ptr rsa(EVP_RSA_gen(2048));
  const auto pem = test::public_pem(rsa.get());
  const std::string key_file = "/tmp/tickstream-test-key-" + std::to_string(::getpid()) + ".pem";
  std::ofstream(key_file) << pem;
  edge_fixture fx([&](edge::app_config& c) {
    c.jwt_algorithms = "RS256";
    c.jwt_public_key_file = key_file;
    c.allow_query_token = true;
  });
  const auto rs = test::token("RS256", claims(60), [&](std::string_view in) { return test::sign_with(rsa.get(), in); });
  CHECK(outcome(fx, {{"Authorization", "Bearer " + rs}}) == "101");
  CHECK(outcome(fx, {}, "/ws?token=" + rs) == "101");
  // The classic confusion: HMAC keyed with the public key, labelled HS256.
  CHECK(outcome(fx, {{"Authorization", "Bearer " + hs_token(claims(60), pem)}}) == "401 alg_not_allowed");
  std::remove(key_file.c_str());
}

TEST_CASE("bad authentication settings are refused at start-up, naming the flag", "[auth]") {
  const auto refusal = [](const edge::app_config& config) {
    auto made = edge::app::make(config);
    REQUIRE_FALSE(made);
    return "--" + made.err().code + ": " + made.err().message;
  };
  edge::app_config c;
  c.session_cookie = "sid";  // cookies without an Origin allow-list
  CHECK_THAT(refusal(c), Catch::StartsWith("--allowed-origins: "));
  edge::app_config d;
  d.jwt_algorithms = "HS512";
  CHECK_THAT(refusal(d), Catch::StartsWith("--jwt-algorithms: unknown algorithm 'HS512'"));
  edge::app_config e;
  e.jwt_algorithms = "HS256";
  e.jwt_hs_secret = "short";
  CHECK_THAT(refusal(e), Catch::Contains("at least 32 bytes"));
}

TEST_CASE("a token expiring while connected: warned, then closed with 4001 unless refreshed", "[auth]") {
  edge_fixture fx([](edge::app_config& c) {
    c.jwt_algorithms = "HS256";
    c.jwt_hs_secret = secret;
    c.jwt_leeway_s = 0;
    c.limits.token_expiry_warning = std::chrono::seconds(2);
    c.limits.idle_timeout =
        std::chrono::milliseconds(8000);  // heartbeat sweeps every second; neither client is idle for long
  });
  const auto short_lived = [] {
    return std::vector<std::pair<std::string, std::string>>{
        {"Authorization", "Bearer " + hs_token(R"({"sub":"u-1","exp":)" + std::to_string(now_s() + 3) + "}")}};
  };
  auto lapsing = fx.connect(short_lived());
  auto refreshing = fx.connect(short_lived());

  // The warning comes before the expiry.
  auto warn = refreshing->next(4s);
  REQUIRE(warn);
  CHECK(test::type_of(*warn) == "token_expiring");
  // A token for someone else is refused; a fresh one for the same user is taken.
  REQUIRE(refreshing->send(R"({"type":"refresh","token":")" +
                           hs_token(R"({"sub":"u-2","exp":)" + std::to_string(now_s() + 600) + "}") + "\"}"));
  CHECK(test::parse(*refreshing->next(4s))["code"].GetString() == std::string("wrong_subject"));
  REQUIRE(refreshing->send(R"({"type":"refresh","token":")" +
                           hs_token(R"({"sub":"u-1","exp":)" + std::to_string(now_s() + 600) + "}") + "\"}"));
  auto refreshed = refreshing->next(4s);
  REQUIRE(refreshed);
  CHECK(test::type_of(*refreshed) == "refreshed");

  // The other one is warned, then closed at expiry.
  auto other_warn = lapsing->next(4s);
  REQUIRE(other_warn);
  CHECK(test::type_of(*other_warn) == "token_expiring");
  REQUIRE(test::wait_until(
      [&] {
        lapsing->next(20ms);
        return lapsing->closed();
      },
      6s));
  CHECK(lapsing->close_code() == 4001);

  // Past the first token's expiry the refreshed connection still works.
  REQUIRE(refreshing->send(R"({"type":"ping"})"));
  std::optional<std::string> pong;
  while ((pong = refreshing->next(3s)) && test::type_of(*pong) != "pong") {
  }
  CHECK(pong);
  CHECK_FALSE(refreshing->closed());
}
