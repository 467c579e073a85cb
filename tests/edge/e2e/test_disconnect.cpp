// Tier-wide disconnect and revocation through the real ingest's server API: every connection of
// a user closes with 4010 on every edge, a revoked session or token id cannot reconnect, and
// nobody else is touched.

#include <catch2/catch.hpp>

#include "tests/edge/support/edge_fixture.hpp"
#include "tests/edge/support/user_clients.hpp"

using namespace tickstream;
using namespace std::chrono_literals;
using test::wait_until;

namespace {

constexpr std::string_view api_key = "test-api-key-0123456789";

// A 10-minute HS256 token for user carrying a session id ("sid").
std::pair<std::string, std::string> bearer_with_sid(const std::string& user, const std::string& sid) {
  const auto t = test::token("HS256",
                             R"({"sub":")" + user + R"(","sid":")" + sid + R"(","exp":)" +
                                 std::to_string(common::now_us() / 1'000'000 + 600) + "}",
                             [](std::string_view in) { return test::hmac(test::user_secret, in); });
  return {"Authorization", "Bearer " + t};
}

client::http_reply api_post(int port, const std::string& target, const std::string& body) {
  auto r = client::http_request(
      "127.0.0.1", std::to_string(port), "POST", target, 5s,
      {{"Authorization", "Bearer " + std::string(api_key)}, {"Content-Type", "application/json"}}, body);
  REQUIRE(r.ok());
  return std::move(r).value();
}

// Answers a ping: the connection is open and served.
bool alive(client::ws_client& c) {
  if (!c.send(R"({"type":"ping","id":1})")) return false;
  for (int i = 0; i < 20; ++i) {
    auto f = c.next(250ms);
    if (f && f->find(R"("type":"pong")") != std::string::npos) return true;
    if (c.closed()) return false;
  }
  return false;
}

}  // namespace

TEST_CASE("disconnect closes a user's connections on every edge, and a revoked session stays out", "[api][auth]") {
  test::edge_fixture a([](edge::app_config& c) {
    c.jwt_algorithms = "HS256";
    c.jwt_hs_secret = test::user_secret;
    c.max_connects_per_ip = 0;
  });
  test::edge_process b(a.redis.port(), "edge-revoke-b");
  const int api_port = test::free_port();
  test::child_process ingest({TICKSTREAM_INGEST_BIN, "--webhook-listen", "127.0.0.1:" + std::to_string(api_port),
                              "--api-key", std::string(api_key), "--redis-port", std::to_string(a.redis.port())},
                             "revoke-ingest.log");
  REQUIRE(wait_until([&] { return client::http_get("127.0.0.1", std::to_string(api_port), "/", 1s).ok(); }));
  // Both edges hold the tier channel before the command goes out.
  REQUIRE(wait_until([&] { return a.redis.cli({"PUBSUB", "NUMSUB", "ts:tier"}) == "ts:tier\n2\n"; }));

  std::vector<std::unique_ptr<client::ws_client>> target;
  for (int i = 0; i < 3; ++i) target.push_back(test::connect_as(a.edge->port(), "u-gone"));
  for (int i = 0; i < 2; ++i) target.push_back(test::connect_as(b.port, "u-gone"));
  auto bystander_a = test::connect_as(a.edge->port(), "u-stays");
  auto bystander_b = test::connect_as(b.port, "u-stays");
  for (auto& c : target) REQUIRE(alive(*c));
  // Who is online: the user's five connections, by edge, from the tier's connection leases.
  const auto online = api_post(api_port, "/v1/presence", R"({"user":"u-gone"})");
  CHECK(online.status == 200);
  CHECK(online.body.find(R"({"user":"u-gone","count":5,"connections":[)") == 0);
  const auto on_edge = [&](const std::string& node) {
    std::size_t n = 0;
    for (auto at = online.body.find(R"("edge":")" + node + "\""); at != std::string::npos;
         at = online.body.find(R"("edge":")" + node + "\"", at + 1)) {
      ++n;
    }
    return n;
  };
  CHECK(on_edge("test-edge") == 3);
  CHECK(on_edge("edge-revoke-b") == 2);

  const auto r = api_post(api_port, "/v1/disconnect", R"({"user":"u-gone","reason":"account suspended"})");
  CHECK(r.status == 200);
  CHECK(r.body == R"({"edges":2})");
  for (auto& c : target) {
    REQUIRE(wait_until([&] {
      c->next(50ms);
      return c->closed();
    }));
    CHECK(c->close_code() == 4010);
  }
  CHECK(alive(*bystander_a));
  CHECK(alive(*bystander_b));
  // Their slots are free at once.
  REQUIRE(wait_until([&] {
    return api_post(api_port, "/v1/presence", R"({"user":"u-gone"})").body.find(R"("count":0)") != std::string::npos;
  }));

  SECTION("one session: its connections close, it cannot reconnect, the user's other session stays") {
    auto s1 = test::connect_as(a.edge->port(), "u-two");  // no session id: untouched by a session revoke
    auto with_s1 =
        client::ws_client::connect({"127.0.0.1", std::to_string(b.port), "/ws"}, 5s, {bearer_with_sid("u-two", "s-1")});
    auto with_s2 = client::ws_client::connect({"127.0.0.1", std::to_string(a.edge->port()), "/ws"}, 5s,
                                              {bearer_with_sid("u-two", "s-2")});
    REQUIRE(with_s1.ok());
    REQUIRE(with_s2.ok());
    a.redis.cli({"HSET", "ts:sess:s-1", "user", "u-two"});
    const auto one = api_post(api_port, "/v1/disconnect", R"({"user":"u-two","session":"s-1","revoke_for_s":60})");
    CHECK(one.status == 200);
    REQUIRE(wait_until([&] {
      (*with_s1)->next(50ms);
      return (*with_s1)->closed();
    }));
    CHECK((*with_s1)->close_code() == 4010);
    CHECK(alive(**with_s2));
    CHECK(alive(*s1));
    // Revoked for its TTL on every edge; its session record is gone.
    const auto again = client::ws_client::connect({"127.0.0.1", std::to_string(a.edge->port()), "/ws"}, 5s,
                                                  {bearer_with_sid("u-two", "s-1")});
    REQUIRE_FALSE(again.ok());
    CHECK(again.err().message.find("(HTTP 401") != std::string::npos);
    CHECK(again.err().message.find("revoked") != std::string::npos);
    CHECK(a.redis.cli({"EXISTS", "ts:sess:s-1"}) == "0\n");
    const auto ttl = std::stoi(a.redis.cli({"TTL", "ts:revoked:s-1"}));
    CHECK(ttl > 0);
    CHECK(ttl <= 60);
    CHECK(
        client::ws_client::connect({"127.0.0.1", std::to_string(b.port), "/ws"}, 5s, {bearer_with_sid("u-two", "s-3")})
            .ok());
    // Nor does it extend a connection through refresh.
    const auto refresh_with = [&](const std::string& sid) {
      const auto token = bearer_with_sid("u-two", sid).second.substr(7);
      REQUIRE((*with_s2)->send(R"({"type":"refresh","token":")" + token + R"("})"));
      for (int i = 0; i < 40; ++i) {
        auto f = (*with_s2)->next(250ms);
        if (f && (f->find(R"("type":"refreshed")") != std::string::npos ||
                  f->find(R"("type":"error")") != std::string::npos)) {
          return *f;
        }
      }
      return std::string("(no answer)");
    };
    CHECK(refresh_with("s-1").find(R"("code":"revoked")") != std::string::npos);
    CHECK(refresh_with("s-4").find(R"("type":"refreshed")") != std::string::npos);
    CHECK(alive(**with_s2));
  }
  SECTION("a broadcast reaches every connection on every edge, once") {
    auto third = test::connect_as(b.port, "u-other");
    REQUIRE(alive(*third));
    const auto r2 =
        api_post(api_port, "/v1/broadcast", R"({"data":{"notice":"Maintenance at 22:00 UTC","minutes":30}})");
    CHECK(r2.status == 200);
    CHECK(r2.body == R"({"edges":2})");
    for (auto* c : {bystander_a.get(), bystander_b.get(), third.get()}) {
      std::optional<std::string> got;
      REQUIRE(wait_until([&] {
        got = c->next(50ms);
        return got && got->find(R"("type":"broadcast")") != std::string::npos;
      }));
      CHECK(got->find(
                R"({"type":"broadcast","data":{"notice":"Maintenance at 22:00 UTC","minutes":30},"timestamp":")") == 0);
    }
    CHECK(api_post(api_port, "/v1/broadcast", R"({"data":"not an object"})").status == 400);
  }
  SECTION("a bad disconnect request is refused with a clear error") {
    const auto bad = api_post(api_port, "/v1/disconnect", R"({"user":"u-stays","everyone":true})");
    CHECK(bad.status == 400);
    CHECK(bad.body.find("unknown field 'everyone'") != std::string::npos);
    CHECK(alive(*bystander_a));
  }
}
