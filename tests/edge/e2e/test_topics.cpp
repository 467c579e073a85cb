// Public topics end to end: the back end publishes through the real ingest's server API; clients
// on two edges subscribe with "topics", get a topic's retained message first, then its live ones,
// and stop hearing it once unsubscribed; entitlements apply to topics as to symbols.

#include <catch2/catch.hpp>

#include "tests/edge/support/edge_fixture.hpp"
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
             "topics-ingest.log") {
    REQUIRE(wait_until([&] { return client::http_get("127.0.0.1", std::to_string(port), "/", 1s).ok(); }));
  }
  client::http_reply post(const std::string& target, const std::string& body) {
    auto r = client::http_request(
        "127.0.0.1", std::to_string(port), "POST", target, 5s,
        {{"Authorization", "Bearer " + std::string(api_key)}, {"Content-Type", "application/json"}}, body);
    REQUIRE(r.ok());
    return std::move(r).value();
  }
  std::string publish(const std::string& topic, const std::string& data, bool retain = false) {
    const auto r = post("/v1/topics/publish",
                        R"({"topic":")" + topic + R"(","data":)" + data + (retain ? R"(,"retain":true})" : "}"));
    REQUIRE(r.status == 200);
    return r.body;
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

// Whether the client receives nothing but pongs for a moment: a ping's answer arrives after
// anything queued before it.
bool quiet(client::ws_client& c) {
  if (!c.send(R"({"type":"ping","id":"q"})")) return false;
  for (int i = 0; i < 50; ++i) {
    auto f = c.next(100ms);
    if (!f) continue;
    return test::type_of(*f) == "pong";
  }
  return false;
}

std::string subscribe_topics(client::ws_client& c, const std::string& topics) {
  REQUIRE(c.send(R"({"type":"subscribe","topics":)" + topics + "}"));
  const auto f = next_frame(c);
  REQUIRE(test::type_of(f) == "subscribed");
  return f;
}

std::vector<std::string> rejected(const std::string& subscribed) {
  auto d = test::parse(subscribed);
  std::vector<std::string> out;
  for (const auto& r : d["rejected"].GetArray())
    out.push_back(std::string(r["name"].GetString()) + ":" + r["code"].GetString());
  return out;
}

}  // namespace

TEST_CASE("topics: the retained message first, live ones on every edge, none after unsubscribe", "[api][topics]") {
  // Edge a is open (anonymous clients); edge b authenticates its users.
  test::edge_fixture a([](edge::app_config& c) { c.max_connects_per_ip = 0; });
  test::edge_process b(a.redis.port(), "edge-topics-b");
  api_ingest api(a.redis.port());

  // Retained before anyone listens: kept in Redis as published.
  CHECK(api.publish("news", R"({"headline":"Markets open higher"})", true) == R"({"accepted":1,"deliveries":0})");
  CHECK(a.redis.cli({"GET", "ts:{t:news}:last"}).find(R"({"type":"topic_message","topic":"news",)") == 0);

  auto anon = a.connect();
  auto user = test::connect_as(b.port, "u-reader");
  for (auto* c : {anon.get(), user.get()}) {
    const auto sub = subscribe_topics(*c, R"(["news","signals:momentum","News!"])");
    CHECK(sub.find(R"("topics":["news","signals:momentum"])") != std::string::npos);
    CHECK(rejected(sub) == std::vector<std::string>{"News!:invalid_topic"});
    // The retained message comes first, marked; signals:momentum has none.
    const auto retained = next_frame(*c);
    CHECK(retained.find(R"({"type":"topic_message","topic":"news","data":{"headline":"Markets open higher"},)") == 0);
    CHECK(retained.find(R"("retained":true})") != std::string::npos);
    CHECK(quiet(*c));
  }

  // Live messages reach both edges (one delivery per edge), unmarked.
  CHECK(api.publish("signals:momentum", R"({"symbol":"AAPL","score":3})") == R"({"accepted":1,"deliveries":2})");
  for (auto* c : {anon.get(), user.get()}) {
    const auto live = next_frame(*c);
    CHECK(live.find(R"({"type":"topic_message","topic":"signals:momentum","data":{"symbol":"AAPL","score":3},)") == 0);
    CHECK(live.find("retained") == std::string::npos);
  }
  // A new retained message replaces the old one for later subscribers, and reaches the present
  // ones once.
  api.publish("news", R"({"headline":"Rates unchanged"})", true);
  for (auto* c : {anon.get(), user.get()}) CHECK(next_frame(*c).find("Rates unchanged") != std::string::npos);
  auto late = a.connect();
  subscribe_topics(*late, R"(["news"])");
  const auto late_retained = next_frame(*late);
  CHECK(late_retained.find("Rates unchanged") != std::string::npos);
  CHECK(late_retained.find(R"("retained":true})") != std::string::npos);
  CHECK(quiet(*late));
  // "snapshot":false skips the retained message.
  auto resumed = a.connect();
  REQUIRE(resumed->send(R"({"type":"subscribe","topics":["news"],"snapshot":false})"));
  CHECK(test::type_of(next_frame(*resumed)) == "subscribed");
  CHECK(quiet(*resumed));

  // Unsubscribed: no more of that topic, the other one still flows.
  REQUIRE(anon->send(R"({"type":"unsubscribe","topics":["news","alerts"]})"));
  CHECK(next_frame(*anon) == R"({"type":"unsubscribed","symbols":[],"channels":[],"topics":["news"]})");
  api.publish("news", R"({"headline":"Not for you"})");
  api.publish("signals:momentum", R"({"symbol":"MSFT","score":1})");
  CHECK(next_frame(*anon).find(R"("topic":"signals:momentum")") != std::string::npos);
  CHECK(next_frame(*user).find("Not for you") != std::string::npos);
  CHECK(next_frame(*user).find(R"("topic":"signals:momentum")") != std::string::npos);

  // A bad request is refused whole and publishes nothing.
  const auto bad =
      api.post("/v1/topics/publish", R"({"messages":[{"topic":"news","data":{}},{"topic":"x y","data":{}}]})");
  CHECK(bad.status == 400);
  CHECK(bad.body.find(R"("error":"invalid_topic")") != std::string::npos);
  CHECK(quiet(*user));
}

TEST_CASE("topics: entitlements apply to topics as to symbols", "[api][topics][entitlements]") {
  test::edge_fixture edge([](edge::app_config& c) {
    c.jwt_algorithms = "HS256";
    c.jwt_hs_secret = test::user_secret;
    c.max_connects_per_ip = 0;
    c.default_entitlements = "US:*";
  });
  const auto claims = R"({"sub":"u-t","entitlements":["US:*","signals:*"],"exp":)" +
                      std::to_string(common::now_us() / 1'000'000 + 600) + "}";
  const auto t = test::token("HS256", claims, [](std::string_view in) { return test::hmac(test::user_secret, in); });
  auto premium = edge.connect({{"Authorization", "Bearer " + t}});
  CHECK(rejected(subscribe_topics(*premium, R"(["signals:momentum","news"])")) ==
        std::vector<std::string>{"news:not_entitled"});
  auto basic = test::connect_as(edge.edge->port(), "u-basic");
  CHECK(rejected(subscribe_topics(*basic, R"(["news"])")) == std::vector<std::string>{"news:not_entitled"});
  // The anonymous public set, on an open edge.
  test::edge_fixture open([](edge::app_config& c) { c.anonymous_entitlements = "SPY,news"; });
  auto anon = open.connect();
  CHECK(rejected(subscribe_topics(*anon, R"(["news","signals:momentum"])")) ==
        std::vector<std::string>{"signals:momentum:not_entitled"});
}
