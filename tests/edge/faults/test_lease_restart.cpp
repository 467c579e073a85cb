// The per-user connection limit survives a Redis that restarts empty: the open connections' leases
// are put back as soon as the edge reaches Redis again, so a user at the limit cannot open more.
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
  wait_until([&] {
    c.next(20ms);
    return c.closed();
  }, 5s);
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
