// The per-user connection limit survives a Redis that restarts empty: the open connections' leases
// are put back as soon as the edge reaches Redis again, so a user at the limit cannot open more;
// connections let in without the check while Redis stalled are counted once it answers.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "tests/edge/support/edge_fixture.hpp"
#include "tests/edge/support/user_clients.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;
using namespace std::chrono_literals;
using test::wait_until;

namespace {

// True when the connection is served: a ping gets its pong.
bool served(client::ws_client& c) {
  if (!c.send(R"({"type":"ping"})")) return false;
  auto f = c.next(5s);
  return f && f->find(R"("type":"pong")") != std::string::npos;
}

// True when the connection was refused by the limit: the error frame, then close 4009.
bool refused_over_limit(client::ws_client& c) {
  auto f = c.next(5s);
  if (!f || f->find(R"("code":"max_connections")") == std::string::npos) return false;
  wait_until(
      [&] {
        c.next(20ms);
        return c.closed();
      },
      5s);
  return c.closed() && c.close_code() == 4009;
}

}  // namespace

TEST_CASE("a Redis restarted empty gets the open connections' leases back: the limit still holds",
          "[faults][redis][limits]") {
  test::edge_fixture fx([](edge::app_config& c) {
    c.jwt_algorithms = "HS256";
    c.jwt_hs_secret = test::user_secret;
    c.max_connections_per_user = 5;
    // Long enough that the periodic refresh (every ttl/3 = 20 s) cannot be what puts them back.
    c.lease_ttl_ms = 60'000;
    c.max_connects_per_ip = 0;
  });
  const int port = fx.edge->port();
  std::vector<std::unique_ptr<client::ws_client>> open;
  for (int i = 0; i < 5; ++i) open.push_back(test::connect_as(port, "trader"));
  for (auto& c : open) REQUIRE(served(*c));
  REQUIRE(fx.redis.cli({"ZCARD", "ts:{u:trader}:conns"}) == "5\n");

  fx.redis.restart();  // no persistence: it comes back with no keys at all
  const auto back = std::chrono::steady_clock::now();
  REQUIRE(wait_until([&] { return fx.redis.cli({"ZCARD", "ts:{u:trader}:conns"}) == "5\n"; }, 10s));
  const auto reasserted_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - back).count();
  WARN("leases back " << reasserted_ms << " ms after Redis restarted empty");
  // The key expires like a fresh one (twice the TTL), not never.
  const auto pttl = std::stoll(fx.redis.cli({"PTTL", "ts:{u:trader}:conns"}));
  CHECK(pttl > 60'000);
  CHECK(pttl <= 120'000);

  // Five more are refused, as before the restart; the five open ones are still served.
  for (int i = 0; i < 5; ++i) {
    auto extra = test::connect_as(port, "trader");
    CHECK(refused_over_limit(*extra));
  }
  for (auto& c : open) CHECK(served(*c));

  // A connection that closes still gives its slot back at once.
  open.back()->close();
  open.pop_back();
  REQUIRE(wait_until([&] { return fx.redis.cli({"ZCARD", "ts:{u:trader}:conns"}) == "4\n"; }, 5s));
  open.push_back(test::connect_as(port, "trader"));
  CHECK(served(*open.back()));
  auto sixth = test::connect_as(port, "trader");
  CHECK(refused_over_limit(*sixth));
}

TEST_CASE("connections accepted without the limit check during a Redis stall count against it once Redis answers",
          "[faults][redis][limits]") {
  test::edge_fixture fx([](edge::app_config& c) {
    c.jwt_algorithms = "HS256";
    c.jwt_hs_secret = test::user_secret;
    c.max_connections_per_user = 5;
    // Refreshed every 2 s (at the once-a-second heartbeat sweep): seconds of margin before a lease
    // lapses on a loaded machine, and the unchecked ones are added within a few seconds.
    c.lease_ttl_ms = 6000;
    c.redis_timeout_ms = 300;
    c.max_connects_per_ip = 0;
  });
  const int port = fx.edge->port();
  std::vector<std::unique_ptr<client::ws_client>> open;
  fx.redis.pause();
  // Redis does not answer: each goes ahead after the deadline without a lease Redis knows of.
  for (int i = 0; i < 3; ++i) open.push_back(test::connect_as(port, "trader"));
  for (auto& c : open) REQUIRE(served(*c));
  fx.redis.resume();
  // Their refreshes add their leases: they count from now on.
  REQUIRE(wait_until([&] { return fx.redis.cli({"ZCARD", "ts:{u:trader}:conns"}) == "3\n"; }, 10s));
  for (int i = 0; i < 2; ++i) {
    open.push_back(test::connect_as(port, "trader"));
    CHECK(served(*open.back()));
  }
  auto sixth = test::connect_as(port, "trader");
  CHECK(refused_over_limit(*sixth));
  // Closing one of them frees its slot as for any other.
  open.front()->close();
  open.erase(open.begin());
  REQUIRE(wait_until([&] { return fx.redis.cli({"ZCARD", "ts:{u:trader}:conns"}) == "4\n"; }, 5s));
}
