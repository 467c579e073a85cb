// The tier-wide per-user connection limit, across an in-process edge and a real tickstream-edge
// process, with a real redis-server: leases, the 6th connection refused on either edge, a closed
// connection freeing its slot at once, and a SIGKILLed edge's slots lapsing by themselves.
#include <catch2/catch.hpp>

#include <signal.h>

#include <string>
#include <vector>

#include "common/clock.hpp"
#include "tests/edge/support/edge_fixture.hpp"
#include "tests/edge/support/user_clients.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;
using namespace std::chrono_literals;
using test::wait_until;

namespace {

using test::user_secret;

std::unique_ptr<client::ws_client> open(int port, const std::string& user) { return test::connect_as(port, user); }

// True when the connection is served: a ping gets its pong.
bool served(client::ws_client& c) {
  if (!c.send(R"({"type":"ping"})")) return false;
  auto f = c.next(5s);
  return f && f->find(R"("type":"pong")") != std::string::npos;
}

// True when the connection was refused as the limit says: the error frame, then close 4009.
bool refused_over_limit(client::ws_client& c) {
  auto f = c.next(5s);
  if (!f || f->find(R"("code":"max_connections","message":"Maximum connections exceeded")") == std::string::npos) {
    return false;
  }
  wait_until(
      [&] {
        c.next(20ms);
        return c.closed();
      },
      5s);
  return c.closed() && c.close_code() == 4009;
}

}  // namespace

TEST_CASE("five connections per user across two edges: the sixth is refused on either, and slots come back",
          "[limits]") {
  test::edge_fixture a([](edge::app_config& c) {
    c.jwt_algorithms = "HS256";
    c.jwt_hs_secret = user_secret;
    c.max_connections_per_user = 5;
    c.lease_ttl_ms = 2000;
    c.max_connects_per_ip = 0;  // the wait below retries quickly; the rate limit is tested elsewhere
  });
  const int b_port = test::free_port();
  test::child_process b({TICKSTREAM_EDGE_BIN, "--listen-host", "127.0.0.1", "--port", std::to_string(b_port),
                         "--redis-port", std::to_string(a.redis.port()), "--threads", "1", "--jwt-algorithms", "HS256",
                         "--jwt-hs-secret", user_secret, "--lease-ttl-ms", "2000", "--node-id", "edge-b"});
  REQUIRE(wait_until([&] { return client::http_get("127.0.0.1", std::to_string(b_port), "/healthz", 1s).ok(); }));
  const int a_port = a.edge->port();

  std::vector<std::unique_ptr<client::ws_client>> on_b, on_a;
  for (int i = 0; i < 3; ++i) on_b.push_back(open(b_port, "trader"));
  for (int i = 0; i < 2; ++i) on_a.push_back(open(a_port, "trader"));
  for (auto& c : on_b) CHECK(served(*c));
  for (auto& c : on_a) CHECK(served(*c));
  CHECK(a.redis.cli({"ZCARD", "ts:{u:trader}:conns"}) == "5\n");

  // The sixth, on either edge.
  auto sixth_a = open(a_port, "trader");
  CHECK(refused_over_limit(*sixth_a));
  auto sixth_b = open(b_port, "trader");
  CHECK(refused_over_limit(*sixth_b));
  // Another user is not affected.
  auto other = open(a_port, "someone-else");
  CHECK(served(*other));

  // Closing one frees its slot at once (no waiting for a lease to lapse).
  on_a.back()->close();
  on_a.pop_back();
  REQUIRE(wait_until([&] { return a.redis.cli({"ZCARD", "ts:{u:trader}:conns"}) == "4\n"; }, 5s));
  on_a.push_back(open(a_port, "trader"));
  CHECK(served(*on_a.back()));

  // An edge killed without cleanup: its three leases lapse by themselves (TTL 2 s here).
  b.signal(SIGKILL);
  REQUIRE(b.wait(5s));
  const auto killed_at = std::chrono::steady_clock::now();
  // Each lease lapses 2 s after its own last refresh, so the three free up one by one.
  for (int freed = 0; freed < 3; ++freed) {
    REQUIRE(wait_until(
        [&] {
          auto c = open(a_port, "trader");
          if (!served(*c)) return false;
          on_a.push_back(std::move(c));
          return true;
        },
        30s));
  }
  CHECK(std::chrono::steady_clock::now() - killed_at <= 30s);
  CHECK(on_a.size() == 5);
  auto over = open(a_port, "trader");
  CHECK(refused_over_limit(*over));
}
