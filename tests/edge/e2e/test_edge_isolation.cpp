// User isolation across a tier: two edge processes' worth of edges on one Redis, many users with
// connections on both, and a random stream of private events stored the way ingest stores them.
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/redis/redis_client.hpp"
#include "ingest/publish/private_store.hpp"
#include "tests/edge/support/edge_fixture.hpp"
#include "tests/edge/support/jwt_test_tokens.hpp"
#include "tests/edge/support/user_clients.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;
using namespace std::chrono_literals;
using test::wait_until;

namespace {

using test::connect_as;
using test::header_for;
using test::user_secret;

std::unique_ptr<edge::app> start_edge(int redis_port, const std::string& node) {
  edge::app_config c;
  c.listen_host = "127.0.0.1";
  c.port = 0;
  c.threads = 2;
  c.limits.batch_window = std::chrono::milliseconds(0);
  c.redis_port = redis_port;
  c.node_id = node;
  c.shutdown_grace_ms = 1000;
  c.jwt_algorithms = "HS256";
  c.jwt_hs_secret = user_secret;
  auto e = test::make_edge(c);
  e->start();
  return e;
}

common::event random_event(const std::string& user, int n, std::mt19937& rng) {
  switch (rng() % 4) {
    case 0: {
      common::order_update o;
      o.header = header_for(user);
      o.order_id = "o" + std::to_string(n);
      o.broker_order_id = "b" + std::to_string(n);
      o.symbol = "AAPL";
      o.side = "buy";
      o.order_type = "limit";
      o.status = "new";
      o.submitted_at_us = o.header.time_us;
      return o;
    }
    case 1: {
      common::trade_executed t;
      t.header = header_for(user);
      t.execution_id = "x" + std::to_string(n);
      t.order_id = "o" + std::to_string(n);
      t.symbol = "MSFT";
      t.side = "sell";
      t.qty = "1";
      t.price = "400.5";
      return t;
    }
    case 2: {
      common::position_update p;  // distinct symbols, so nothing is conflated away
      p.header = header_for(user);
      p.symbol = "S" + std::to_string(n);
      p.quantity = "3";
      p.entry_price = "10.25";
      p.side = "long";
      return p;
    }
    default: {
      common::order_update o;
      o.header = header_for(user);
      o.order_id = "c" + std::to_string(n);
      o.broker_order_id = "cb" + std::to_string(n);
      o.symbol = "NVDA";
      o.side = "sell";
      o.order_type = "market";
      o.status = "canceled";
      o.submitted_at_us = o.header.time_us;
      return o;
    }
  }
}

}  // namespace

TEST_CASE("every connection receives exactly its own user's events, in sequence, on either of two edge processes",
          "[isolation]") {
  test::redis_server redis;
  // Edge A in this process, edge B a real tickstream-edge process.
  auto edge_a = start_edge(redis.port(), "edge-a");
  const int a_port = edge_a->port();
  const int b_port = test::free_port();
  test::child_process edge_b({TICKSTREAM_EDGE_BIN, "--listen-host", "127.0.0.1", "--port", std::to_string(b_port),
                              "--redis-port", std::to_string(redis.port()), "--threads", "2", "--batch-window-ms", "0",
                              "--jwt-algorithms", "HS256", "--jwt-hs-secret", user_secret, "--node-id", "edge-b"});
  REQUIRE(wait_until([&] { return client::http_get("127.0.0.1", std::to_string(b_port), "/healthz", 1s).ok(); }));
  constexpr int users = 20;
  struct conn {
    std::string user;
    std::unique_ptr<client::ws_client> ws;
  };
  std::vector<conn> conns;
  for (int u = 0; u < users; ++u) {
    const auto user = "user-" + std::to_string(u);
    conns.push_back({user, connect_as(a_port, user)});
    conns.push_back({user, connect_as(b_port, user)});
    if (u % 4 == 0) conns.push_back({user, connect_as(u % 8 == 0 ? a_port : b_port, user)});
  }
  for (auto& c : conns) {
    REQUIRE(c.ws->send(R"({"type":"subscribe","channels":["positions","orders","account","trades"]})"));
    auto reply = c.ws->next(5s);
    REQUIRE(reply);
    REQUIRE(reply->find(R"("channels":["positions","orders","account","trades"])") != std::string::npos);
    // Then the state to start from: nothing stored yet.
    auto snapshot = c.ws->next(5s);
    REQUIRE(snapshot);
    CHECK(*snapshot == R"({"type":"snapshot","seq":0,"positions":[],"orders":[],"account":null})");
  }
  // Trying to reach another user's stream is not even expressible: unknown names are refused.
  REQUIRE(conns[0].ws->send(R"({"type":"subscribe","channels":["ts:{u:user-1}"]})"));
  CHECK(conns[0].ws->next(5s)->find(R"("code":"unknown_channel")") != std::string::npos);

  common::redis_options o;
  o.port = redis.port();
  common::redis_client store_redis(o);
  store_redis.start();
  ingest::private_store store(store_redis, 10'000);
  std::mt19937 rng(20261123);
  std::map<std::string, int> expected;  // user -> events stored
  std::atomic<int> stored{0};
  constexpr int events = 600;
  for (int n = 0; n < events; ++n) {
    const auto user = "user-" + std::to_string(rng() % users);
    ++expected[user];
    store.store(random_event(user, n, rng), [&](common::result<std::int64_t> r) {
      if (r.ok()) ++stored;
    });
  }
  REQUIRE(wait_until([&] { return stored.load() == events; }));

  for (auto& c : conns) {
    INFO(c.user);
    std::int64_t last_seq = 0;
    int received = 0;
    while (received < expected[c.user]) {
      auto f = c.ws->next(5s);
      REQUIRE(f);
      auto d = test::parse(*f);
      REQUIRE(std::string(d["userId"].GetString()) == c.user);  // never another user's event
      const auto seq = d["seq"].GetInt64();
      CHECK(seq == last_seq + 1);  // gap-free, in order
      last_seq = seq;
      ++received;
    }
    // Nothing more: the next frame is the answer to a ping.
    REQUIRE(c.ws->send(R"({"type":"ping"})"));
    auto pong = c.ws->next(5s);
    REQUIRE(pong);
    CHECK(test::type_of(*pong) == "pong");
  }
}

TEST_CASE("anonymous connections on an open edge cannot hold private channels", "[isolation]") {
  test::edge_fixture fx;
  auto c = fx.connect();
  REQUIRE(c->send(R"({"type":"subscribe","symbols":["AAPL"],"channels":["orders"]})"));
  auto reply = c->next(5s);
  REQUIRE(reply);
  CHECK(reply->find(R"("symbols":["AAPL"],"channels":[])") != std::string::npos);
  CHECK(reply->find(R"({"name":"orders","code":"unauthenticated")") != std::string::npos);
}
