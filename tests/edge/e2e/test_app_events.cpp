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

namespace {

// What a client saw of its private stream: each seq delivered (and its type), each conflated range.
struct stream_seen {
  std::int64_t next = 1;  // the next seq due: every one before it was seen or covered once
  std::vector<std::pair<std::int64_t, std::string>> events;
  std::vector<std::pair<std::int64_t, std::int64_t>> conflated;
  bool out_of_order = false;
  bool resync = false;

  void member(const rapidjson::Value& v) {
    const std::string type = v["type"].GetString();
    if (type == "conflated") {
      out_of_order |= v["fromSeq"].GetInt64() != next || v["toSeq"].GetInt64() < next;
      conflated.emplace_back(v["fromSeq"].GetInt64(), v["toSeq"].GetInt64());
      next = v["toSeq"].GetInt64() + 1;
    } else if (v.HasMember("seq")) {
      out_of_order |= v["seq"].GetInt64() != next;
      events.emplace_back(v["seq"].GetInt64(), type);
      next = v["seq"].GetInt64() + 1;
    }
  }
  void frame(const std::string& text) {
    const auto d = test::parse(text);
    const std::string type = d["type"].GetString();
    if (type == "resync") resync = true;
    if (type == "batch") {
      for (const auto& e : d["events"].GetArray()) member(e);
    } else if (type != "snapshot" && type != "subscribed") {
      member(d);
    }
  }
  // Reads until seq last has been seen or covered.
  void read_through(client::ws_client& ws, std::int64_t last) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (next <= last && std::chrono::steady_clock::now() < deadline) {
      if (auto f = ws.next(200ms)) frame(*f);
    }
    REQUIRE(next == last + 1);
  }
  std::size_t count(const std::string& type) const {
    return static_cast<std::size_t>(
        std::count_if(events.begin(), events.end(), [&](const auto& e) { return e.second == type; }));
  }
};

// One server API request publishing events (type, data JSON) for user; returns their last seq.
void publish_batch(api_ingest& api, const std::string& user,
                   const std::vector<std::pair<std::string, std::string>>& events) {
  std::string body = R"({"events":[)";
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (i > 0) body += ',';
    body.append(R"({"user":")")
        .append(user)
        .append(R"(","type":")")
        .append(events[i].first)
        .append(R"(","data":)")
        .append(events[i].second)
        .append("}");
  }
  body += "]}";
  const auto r = api.post("/v1/publish", body);
  REQUIRE(r.status == 200);
}

std::string portfolio(const std::string& id, std::int64_t n, std::size_t pad = 0) {
  return R"({"portfolioId":")" + id + R"(","n":)" + std::to_string(n) + R"(,"pad":")" + std::string(pad, 'x') + "\"}";
}

}  // namespace

TEST_CASE("a client that does not read gets every decision and the latest portfolio, the rest as conflated seqs",
          "[api][portfolio][conflation]") {
  test::edge_fixture edge([](edge::app_config& c) {
    c.jwt_algorithms = "HS256";
    c.jwt_hs_secret = test::user_secret;
    c.max_connects_per_ip = 0;
    c.conflate = "portfolio_update=portfolioId";
    // Room for what the kernel holds of a client that does not read: this test is about what
    // waits, not about closing it.
    c.limits.queue.max_bytes = 64 * 1024 * 1024;
    c.limits.queue.max_frames = 100'000;
  });
  api_ingest api(edge.redis.port());
  auto slow = test::connect_as(edge.edge->port(), "u-slow");
  subscribe(*slow, R"(["events"])");
  auto snap = slow->next(5s);
  REQUIRE(snap);
  REQUIRE(test::type_of(*snap) == "snapshot");

  // The client reads nothing from here on: the socket's buffers fill, then the edge's queue, and
  // then events wait in the connection's held buffer, where portfolio updates conflate. Published
  // in rounds until the edge reports conflation (how much the kernel takes varies), then more.
  std::int64_t seq = 0;
  std::size_t decisions = 0;
  const auto round = [&] {
    std::vector<std::pair<std::string, std::string>> events;
    for (int i = 0; i < 400; ++i) {
      ++seq;
      if (i % 50 == 25) {
        events.emplace_back("decision_made", R"({"n":)" + std::to_string(seq) + "}");
        ++decisions;
      } else {
        events.emplace_back("portfolio_update", portfolio("p1", seq, 900));
      }
    }
    publish_batch(api, "u-slow", events);
  };
  const auto conflated = [&] {
    return test::metric_value(edge.get("/metrics").body, "tickstream_edge_conflated_total");
  };
  for (int i = 0; i < 40 && conflated() <= 0; ++i) round();
  REQUIRE(conflated() > 0);
  round();
  round();
  publish_batch(api, "u-slow", {{"portfolio_update", portfolio("p1", ++seq)}});  // the last word

  stream_seen seen;
  seen.read_through(*slow, seq);
  CHECK_FALSE(seen.out_of_order);  // every seq exactly once, in order, seen or covered
  CHECK_FALSE(seen.resync);
  CHECK(seen.count("decision_made") == decisions);
  REQUIRE_FALSE(seen.events.empty());
  CHECK(seen.events.back() == std::pair<std::int64_t, std::string>{seq, "portfolio_update"});
  CHECK_FALSE(seen.conflated.empty());
  CHECK(seen.count("portfolio_update") < static_cast<std::size_t>(seq) - decisions);
}

TEST_CASE("app events are conflated only for the types configured, and never without --conflate",
          "[api][portfolio][conflation]") {
  // A batching window holds what follows a connection's first event: the same burst reaches a
  // client of an edge with --conflate and one of an edge without.
  const auto tweak = [](edge::app_config& c) {
    c.jwt_algorithms = "HS256";
    c.jwt_hs_secret = test::user_secret;
    c.max_connects_per_ip = 0;
    c.limits.batch_window = std::chrono::milliseconds(1000);
  };
  test::edge_fixture plain(tweak);
  edge::app_config with;
  with.listen_host = "127.0.0.1";
  with.port = 0;
  with.threads = 1;
  with.redis_port = plain.redis.port();
  with.node_id = "test-edge-conflating";
  with.shutdown_grace_ms = 1000;
  tweak(with);
  with.conflate = "portfolio_update=portfolioId";
  auto conflating = test::make_edge(with);
  conflating->start();
  api_ingest api(plain.redis.port());

  auto a = test::connect_as(plain.edge->port(), "u-burst");
  auto b = test::connect_as(conflating->port(), "u-burst");
  for (auto* c : {a.get(), b.get()}) {
    subscribe(*c, R"(["events"])");
    auto snap = c->next(5s);
    REQUIRE(snap);
    REQUIRE(test::type_of(*snap) == "snapshot");
  }
  // Portfolios p1 and p2 interleaved with decisions: 1 p1, 2 p2, 3 decision, 4 p1, 5 p2, ...
  std::vector<std::pair<std::string, std::string>> events;
  for (std::int64_t s = 1; s <= 30; ++s) {
    if (s % 3 == 0) {
      events.emplace_back("decision_made", R"({"n":)" + std::to_string(s) + "}");
    } else {
      events.emplace_back("portfolio_update", portfolio(s % 3 == 1 ? "p1" : "p2", s));
    }
  }
  publish_batch(api, "u-burst", events);

  stream_seen all;
  all.read_through(*a, 30);
  CHECK_FALSE(all.out_of_order);
  CHECK(all.conflated.empty());
  CHECK(all.events.size() == 30);

  stream_seen latest;
  latest.read_through(*b, 30);
  CHECK_FALSE(latest.out_of_order);
  CHECK_FALSE(latest.resync);
  CHECK(latest.count("decision_made") == 10);
  // The first event left at once; of the rest (held for the window) each portfolio's latest
  // remains: 29 (p2) and 28 (p1).
  const auto has = [&](std::int64_t s) {
    return std::any_of(latest.events.begin(), latest.events.end(), [s](const auto& e) { return e.first == s; });
  };
  CHECK(has(1));
  CHECK(has(28));
  CHECK(has(29));
  CHECK_FALSE(has(2));
  CHECK_FALSE(has(25));
  CHECK_FALSE(latest.conflated.empty());
  CHECK(latest.events.size() == 13);  // 1, ten decisions, 28, 29
}
