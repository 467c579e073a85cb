// Entitlements kept in Redis through the real ingest's server API: a user's and a plan's records,
// merged with the token's claim, refused and granted on subscribe, and narrowed while connections
// on two edges are subscribed (they are released with a not_entitled notice).

#include <catch2/catch.hpp>

#include "tests/edge/support/edge_fixture.hpp"
#include "tests/edge/support/publisher.hpp"
#include "tests/edge/support/user_clients.hpp"

using namespace tickstream;
using namespace std::chrono_literals;
using test::wait_until;

namespace {

constexpr std::string_view api_key = "test-api-key-0123456789";

struct api_ingest {
  int port = test::free_port();
  test::child_process proc;
  explicit api_ingest(int redis_port)
      : proc({TICKSTREAM_INGEST_BIN, "--webhook-listen", "127.0.0.1:" + std::to_string(port), "--api-key",
              std::string(api_key), "--redis-port", std::to_string(redis_port)},
             "entitlements-ingest.log") {
    REQUIRE(wait_until([&] { return client::http_get("127.0.0.1", std::to_string(port), "/", 1s).ok(); }));
  }
  client::http_reply entitle(const std::string& body) {
    auto r = client::http_request(
        "127.0.0.1", std::to_string(port), "POST", "/v1/entitlements", 5s,
        {{"Authorization", "Bearer " + std::string(api_key)}, {"Content-Type", "application/json"}}, body);
    REQUIRE(r.ok());
    return std::move(r).value();
  }
};

// The next frame other than a pong, or "" after 5 s.
std::string next_frame(client::ws_client& c) {
  for (int i = 0; i < 50; ++i) {
    auto f = c.next(100ms);
    if (f && test::type_of(*f) != "pong") return *f;
  }
  return {};
}

// Nothing but the answer to a ping arrives (anything queued before it would come first).
bool quiet(client::ws_client& c) {
  if (!c.send(R"({"type":"ping","id":"q"})")) return false;
  const auto f = c.next(5s);
  return f && test::type_of(*f) == "pong";
}

std::vector<std::string> rejected(const std::string& subscribed) {
  auto d = test::parse(subscribed);
  std::vector<std::string> out;
  for (const auto& r : d["rejected"].GetArray())
    out.push_back(std::string(r["name"].GetString()) + ":" + r["code"].GetString());
  return out;
}

std::string subscribe(client::ws_client& c, const std::string& symbols, const std::string& topics = "[]") {
  REQUIRE(c.send(R"({"type":"subscribe","snapshot":false,"symbols":)" + symbols + R"(,"topics":)" + topics + "}"));
  const auto f = next_frame(c);
  REQUIRE(test::type_of(f) == "subscribed");
  return f;
}

}  // namespace

TEST_CASE("entitlement records: refused, granted, and narrowed while subscribed on two edges", "[api][entitlements]") {
  test::edge_fixture a([](edge::app_config& c) {
    c.jwt_algorithms = "HS256";
    c.jwt_hs_secret = test::user_secret;
    c.max_connects_per_ip = 0;
    c.entitlement_records = true;
  });
  test::edge_process b(a.redis.port(), "edge-entitle-b", {"--entitlement-records"});
  api_ingest api(a.redis.port());
  REQUIRE(wait_until([&] { return a.redis.cli({"PUBSUB", "NUMSUB", "ts:tier"}) == "ts:tier\n2\n"; }));

  // A plan, and a user on it with patterns of its own; stored as sent.
  CHECK(api.entitle(R"({"plan":"basic","patterns":["US:*","news"]})").body == R"({"edges":2})");
  CHECK(api.entitle(R"({"user":"u-ent","plan":"basic","patterns":["crypto:*"]})").status == 200);
  CHECK(a.redis.cli({"GET", "ts:{u:u-ent}:ent"}) == R"({"plan":"basic","patterns":["crypto:*"]})"
                                                    "\n");
  CHECK(api.entitle(R"({"user":"u-peer","plan":"basic"})").status == 200);

  // Refused: what neither record (nor a claim) grants; the edge's default ("*") no longer applies.
  auto mine = test::connect_as(a.edge->port(), "u-ent");
  CHECK(rejected(subscribe(*mine, R"(["US:AAPL","CRYPTO:BTC","MSFT"])", R"(["news","alerts"])")) ==
        std::vector<std::string>{"MSFT:not_entitled", "alerts:not_entitled"});
  auto peer = test::connect_as(b.port, "u-peer");
  CHECK(rejected(subscribe(*peer, R"(["US:MSFT","CRYPTO:ETH"])")) ==
        std::vector<std::string>{"CRYPTO:ETH:not_entitled"});
  // A user without a record keeps the edge's default.
  auto other = test::connect_as(b.port, "u-other");
  CHECK(rejected(subscribe(*other, R"(["MSFT","CRYPTO:ETH"])")).empty());

  // Granted: a wider record applies to the open connection's next subscribe.
  CHECK(api.entitle(R"({"user":"u-ent","plan":"basic","patterns":["crypto:*","alerts"]})").status == 200);
  REQUIRE(wait_until([&] { return rejected(subscribe(*mine, "[]", R"(["alerts"])")).empty(); }));

  // Narrowed while subscribed: the user's own crypto:* goes, and its CRYPTO:BTC with a notice.
  CHECK(api.entitle(R"({"user":"u-ent","plan":"basic","patterns":["alerts"]})").status == 200);
  CHECK(next_frame(*mine) ==
        R"({"type":"unsubscribed","symbols":["CRYPTO:BTC"],"channels":[],"topics":[],"reason":"not_entitled"})");
  test::publisher ticks(a.redis.port());
  ticks.tick("CRYPTO:BTC", 1);
  ticks.flush();
  CHECK(quiet(*mine));
  // The plan narrowed: every user on it, on every edge, loses US:*; a user off the plan keeps all.
  CHECK(api.entitle(R"({"plan":"basic","patterns":["news"]})").body == R"({"edges":2})");
  CHECK(next_frame(*mine) ==
        R"({"type":"unsubscribed","symbols":["US:AAPL"],"channels":[],"topics":[],"reason":"not_entitled"})");
  CHECK(next_frame(*peer) ==
        R"({"type":"unsubscribed","symbols":["US:MSFT"],"channels":[],"topics":[],"reason":"not_entitled"})");
  CHECK(quiet(*other));
  // Cleared: back to the edge's default.
  CHECK(api.entitle(R"({"user":"u-ent","clear":true})").status == 200);
  CHECK(a.redis.cli({"EXISTS", "ts:{u:u-ent}:ent"}) == "0\n");
  REQUIRE(wait_until([&] { return rejected(subscribe(*mine, R"(["MSFT"])")).empty(); }));

  // A bad request is refused and changes nothing.
  const auto bad = api.entitle(R"({"user":"u-peer","patterns":["A*B"]})");
  CHECK(bad.status == 400);
  CHECK(bad.body.find(R"("error":"invalid_request")") != std::string::npos);
  CHECK(a.redis.cli({"GET", "ts:{u:u-peer}:ent"}) == R"({"plan":"basic","patterns":[]})"
                                                     "\n");
}
