// Redis Cluster's key space: slots computed here against known values and against a real
// 3-master cluster started by the test, its CLUSTER SLOTS read into a slot map, and its MOVED
// redirects parsed.
#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <vector>

#include "common/redis/cluster_slots.hpp"
#include "common/redis/keys.hpp"
#include "common/redis/redis_client.hpp"
#include "tests/support/redis_cluster.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;

namespace {

common::redis_reply run(common::redis_client& c, const std::vector<std::string>& args) {
  std::atomic<bool> done{false};
  common::redis_reply out;
  c.command(args, [&](common::result<common::redis_reply> r) {
    if (r.ok()) {
      out = std::move(r).value();
    } else {
      out.type = common::redis_reply::kind::error;
      out.str = r.err().message;
    }
    done = true;
  });
  REQUIRE(test::wait_until([&] { return done.load(); }));
  return out;
}

}  // namespace

TEST_CASE("a key's slot is CRC16 of its hash tag, as Redis Cluster computes it", "[cluster]") {
  CHECK(common::key_slot("123456789") == 0x31C3);  // the CRC16/XMODEM check value
  CHECK(common::key_slot("foo") == 12182);
  CHECK(common::key_slot("{user1000}.following") == common::key_slot("{user1000}.followers"));
  CHECK(common::key_slot("foo{{bar}}zap") == common::key_slot("{bar"));
  // A symbol's channel and its keys share a slot; so do a user's.
  CHECK(common::key_slot(common::market_channel("AAPL")) == common::key_slot("md:AAPL"));
  CHECK(common::key_slot(common::user_channel("42")) == common::key_slot("u:42"));
}

TEST_CASE("redirects name the slot and the node to ask", "[cluster]") {
  const auto moved = common::parse_cluster_redirect("MOVED 3999 127.0.0.1:6381");
  REQUIRE(moved);
  CHECK_FALSE(moved->ask);
  CHECK(moved->slot == 3999);
  CHECK(moved->node == common::cluster_node{"127.0.0.1", 6381});
  const auto ask = common::parse_cluster_redirect("ASK 12 redis-2.internal:7000");
  REQUIRE(ask);
  CHECK(ask->ask);
  CHECK(ask->node.host == "redis-2.internal");
  CHECK_FALSE(common::parse_cluster_redirect("ERR unknown command"));
  CHECK_FALSE(common::parse_cluster_redirect("MOVED 99999 h:1"));
  CHECK_FALSE(common::parse_cluster_redirect("MOVED 1 nohost"));
}

TEST_CASE("a slot map from a real cluster agrees with the cluster on every tier key", "[cluster]") {
  test::redis_cluster cluster(3);
  common::redis_options o;
  o.port = cluster.ports()[0];
  o.reconnect_min = std::chrono::milliseconds(20);
  common::redis_client c(o);
  c.start();
  auto map = common::cluster_slot_map::from_cluster_slots(run(c, {"CLUSTER", "SLOTS"}));
  REQUIRE(map.ok());
  CHECK(map->masters().size() == 3);
  const std::vector<std::string> keys{common::market_channel("AAPL"),
                                      common::market_channel("MSFT"),
                                      common::market_channel("BRK.B"),
                                      common::user_channel("42"),
                                      common::user_channel("alice"),
                                      "plain-key",
                                      "foo{}{bar}",
                                      "foo{{bar}}zap",
                                      "{}",
                                      "{a"};
  for (const auto& key : keys) {
    INFO(key);
    const auto slot = common::key_slot(key);
    CHECK(cluster.cli(o.port, {"CLUSTER", "KEYSLOT", key}) == std::to_string(slot) + "\n");
    // The node the map names serves the key; this client's node redirects unless it is that one.
    const auto& owner = map->owner(slot);
    CHECK(owner.host == "127.0.0.1");
    const auto reply = run(c, {"GET", key});
    if (owner.port == o.port) {
      CHECK(reply.type == common::redis_reply::kind::nil);
    } else {
      REQUIRE(reply.type == common::redis_reply::kind::error);
      const auto redirect = common::parse_cluster_redirect(reply.str);
      REQUIRE(redirect);
      CHECK_FALSE(redirect->ask);
      CHECK(redirect->slot == slot);
      CHECK(redirect->node == owner);
    }
  }
  // A malformed topology is refused, not trusted.
  common::redis_reply partial;
  partial.type = common::redis_reply::kind::array;
  CHECK_FALSE(common::cluster_slot_map::from_cluster_slots(partial).ok());
}
