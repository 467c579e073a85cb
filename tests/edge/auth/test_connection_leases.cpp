// The tier-wide connection leases against a real redis-server.
#include <catch2/catch.hpp>

#include <mutex>
#include <string>
#include <vector>

#include "common/redis/redis_client.hpp"
#include "edge/auth/connection_leases.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;
using namespace std::chrono_literals;
using test::wait_until;

namespace {

// How many ZREM commands the server has executed.
long long zrem_calls(const test::redis_server& server) {
  const auto stats = server.cli({"INFO", "commandstats"});
  const auto at = stats.find("cmdstat_zrem:calls=");
  return at == std::string::npos ? 0 : std::stoll(stats.substr(at + 19));
}

}  // namespace

TEST_CASE("connection leases: an unused lease is given back, and an empty one sends nothing", "[limits][redis]") {
  test::redis_server server;
  common::redis_options o;
  o.port = server.port();
  o.reconnect_min = 20ms;
  o.reconnect_max = 200ms;
  common::redis_client redis(o);
  redis.start();
  edge::connection_leases leases(redis, "edge-a", 2, 60s);

  std::mutex mu;
  std::vector<std::string> granted;
  for (int i = 0; i < 2; ++i) {
    leases.acquire("trader", [&](common::result<std::string> r) {
      std::lock_guard lock(mu);
      granted.push_back(r ? r.value() : "refused: " + r.err().code);
    });
  }
  REQUIRE(wait_until([&] {
    std::lock_guard lock(mu);
    return granted.size() == 2;
  }));
  REQUIRE(granted[0].rfind("edge-a:", 0) == 0);
  REQUIRE(granted[1].rfind("edge-a:", 0) == 0);
  REQUIRE(server.cli({"ZCARD", "ts:{u:trader}:conns"}) == "2\n");

  // An empty lease (none was granted) is nothing to give back; a granted one goes. Commands are
  // sent in order, so once the second has taken effect the first would have too.
  leases.release_unused("trader", "");
  leases.release_unused("trader", granted[0]);
  REQUIRE(wait_until([&] { return server.cli({"ZCARD", "ts:{u:trader}:conns"}) == "1\n"; }, 5s));
  CHECK(server.cli({"ZRANGE", "ts:{u:trader}:conns", "0", "-1"}) == granted[1] + "\n");
  CHECK(zrem_calls(server) == 1);
}
