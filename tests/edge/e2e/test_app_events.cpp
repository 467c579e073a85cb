// The application's own events end to end: the backend publishes through the real ingest's server
// API; edges deliver them on the "events" channel, in the user's sequence with broker events,
// to that user only, and a resume with since covers them.

#include <catch2/catch.hpp>

#include <atomic>

#include "common/redis/redis_client.hpp"
#include "ingest/publish/private_store.hpp"
#include "tests/edge/support/edge_fixture.hpp"
#include "tests/edge/support/jwt_test_tokens.hpp"
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
             "api-ingest.log") {
    REQUIRE(wait_until([&] { return client::http_get("127.0.0.1", std::to_string(port), "/", 1s).ok(); }));
  }
  client::http_reply post(const std::string& target, const std::string& body) {
    auto r = client::http_request(
        "127.0.0.1", std::to_string(port), "POST", target, 5s,
        {{"Authorization", "Bearer " + std::string(api_key)}, {"Content-Type", "application/json"}}, body);
    REQUIRE(r.ok());
    return std::move(r).value();
  }
  void publish(const std::string& user, const std::string& type, const std::string& data) {
    const auto r = post("/v1/publish", R"({"user":")" + user + R"(","type":")" + type + R"(","data":)" + data + "}");
    REQUIRE(r.status == 200);
  }
};

std::int64_t put_order(ingest::private_store& store, const std::string& user, const std::string& id) {
  common::order_update o;
  o.header = test::header_for(user);
  o.order_id = id;
  o.broker_order_id = "b-" + id;
  o.symbol = "AAPL";
  o.side = "buy";
  o.order_type = "limit";
  o.status = "new";
  o.qty = "1";
  o.submitted_at_us = o.header.time_us;
  std::atomic<std::int64_t> seq{-1};
  store.store(o, [&](common::result<std::int64_t> r) { seq = r ? r.value() : 0; });
  REQUIRE(wait_until([&] { return seq.load() >= 0; }));
  return seq.load();
}

// The frames a client receives until one carries seq (batches are off in these edges).
std::vector<std::string> until_seq(client::ws_client& ws, std::int64_t seq) {
  std::vector<std::string> out;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto f = ws.next(200ms);
    if (!f) continue;
    out.push_back(*f);
    auto d = test::parse(*f);
    if (d.HasMember("seq") && d["seq"].GetInt64() == seq && test::type_of(*f) != "snapshot") return out;
  }
  FAIL("no frame with seq " << seq);
  return out;
}

void subscribe(client::ws_client& ws, const std::string& channels, const std::string& extra = {}) {
  REQUIRE(ws.send(R"({"type":"subscribe","channels":)" + channels + extra + "}"));
  auto sub = ws.next(5s);
  REQUIRE(sub);
  REQUIRE(test::type_of(*sub) == "subscribed");
  CHECK(sub->find(R"("rejected":[])") != std::string::npos);
}

}  // namespace

TEST_CASE("an app event reaches only its user, in seq order with broker events, and resumes with since",
          "[api][portfolio]") {
  test::edge_fixture edge([](edge::app_config& c) {
    c.jwt_algorithms = "HS256";
    c.jwt_hs_secret = test::user_secret;
    c.max_connects_per_ip = 0;
  });
  api_ingest api(edge.redis.port());
  common::redis_options ro;
  ro.port = edge.redis.port();
  common::redis_client redis(ro);
  redis.start();
  ingest::private_store store(redis, 1000);

  auto mine = test::connect_as(edge.edge->port(), "u-app");
  auto orders_only = test::connect_as(edge.edge->port(), "u-app");
  auto other = test::connect_as(edge.edge->port(), "u-other");
  subscribe(*mine, R"(["orders","events"])");
  subscribe(*orders_only, R"(["orders"])");
  subscribe(*other, R"(["orders","events"])");
  for (auto* c : {mine.get(), orders_only.get(), other.get()}) {
    auto snap = c->next(5s);
    REQUIRE(snap);
    REQUIRE(test::type_of(*snap) == "snapshot");
  }

  CHECK(put_order(store, "u-app", "o1") == 1);
  api.publish("u-app", "decision_made", R"({"symbol":"AAPL","action":"buy","confidence":"0.82"})");
  CHECK(put_order(store, "u-app", "o2") == 3);

  const auto got = until_seq(*mine, 3);
  REQUIRE(got.size() == 3);
  CHECK(test::type_of(got[0]) == "order_update");
  CHECK(test::type_of(got[1]) == "decision_made");
  CHECK(got[1].find(R"("userId":"u-app","seq":2,)") != std::string::npos);
  CHECK(got[1].find(R"("data":{"symbol":"AAPL","action":"buy","confidence":"0.82"},)") != std::string::npos);
  CHECK(got[1].find(R"("source":"api")") != std::string::npos);
  // Without the events channel the stream skips the app event, and no gap is seen in it.
  const auto filtered = until_seq(*orders_only, 3);
  REQUIRE(filtered.size() == 2);
  CHECK(test::type_of(filtered[0]) == "order_update");
  // Another user hears nothing of it.
  api.publish("u-other", "alert", R"({"text":"yours"})");
  const auto theirs = until_seq(*other, 1);
  REQUIRE(theirs.size() == 1);
  CHECK(test::type_of(theirs[0]) == "alert");

  // A client resuming after seq 1 gets the app event from the history, then what follows.
  mine->close();
  auto resumed = test::connect_as(edge.edge->port(), "u-app");
  subscribe(*resumed, R"(["orders","events"])", R"(,"since":1)");
  api.publish("u-app", "portfolio_update", R"({"portfolioId":"p1"})");
  const auto replay = until_seq(*resumed, 4);
  std::vector<std::string> types;
  for (const auto& f : replay) {
    if (test::type_of(f) != "snapshot") types.push_back(test::type_of(f));
  }
  CHECK(types == std::vector<std::string>{"decision_made", "order_update", "portfolio_update"});
}

TEST_CASE("entitlements: the token's claim, the configured default and the anonymous public set", "[entitlements]") {
  const auto reasons = [](const std::string& subscribed) {
    auto d = test::parse(subscribed);
    std::vector<std::string> out;
    for (const auto& r : d["rejected"].GetArray())
      out.push_back(std::string(r["name"].GetString()) + ":" + r["code"].GetString());
    return out;
  };
  {
    test::edge_fixture edge([](edge::app_config& c) {
      c.jwt_algorithms = "HS256";
      c.jwt_hs_secret = test::user_secret;
      c.max_connects_per_ip = 0;
      c.default_entitlements = "US:*";
    });
    const auto claims = R"({"sub":"u-e","entitlements":["AAPL","crypto:*"],"exp":)" +
                        std::to_string(common::now_us() / 1'000'000 + 600) + "}";
    const auto t = test::token("HS256", claims, [](std::string_view in) { return test::hmac(test::user_secret, in); });
    auto premium = edge.connect({{"Authorization", "Bearer " + t}});
    CHECK(reasons(test::subscribe(*premium, R"(["AAPL","CRYPTO:BTC","MSFT"])")) ==
          std::vector<std::string>{"MSFT:not_entitled"});
    auto basic = test::connect_as(edge.edge->port(), "u-basic");
    CHECK(reasons(test::subscribe(*basic, R"(["US:AAPL","AAPL"])")) == std::vector<std::string>{"AAPL:not_entitled"});
  }
  {
    test::edge_fixture open([](edge::app_config& c) { c.anonymous_entitlements = "SPY"; });
    auto anon = open.connect();
    CHECK(reasons(test::subscribe(*anon, R"(["spy","AAPL"])")) == std::vector<std::string>{"AAPL:not_entitled"});
  }
  // A list that is not one is refused at start-up, naming the flag.
  edge::app_config bad;
  bad.default_entitlements = "US:*,A*B";
  auto made = edge::app::make(bad);
  REQUIRE_FALSE(made.ok());
  CHECK(made.err().code == "default-entitlements");
}
