// Redis Cluster: the pure parts (the cluster URL, which key routes a command, scripts with
// SPUBLISH, channels moving between shard tables), then the client against a real 3-master
// cluster: commands and scripts on every shard, one sharded subscription per channel on its
// owner, slots migrated under live traffic, and a master killed.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/redis/channel_table.hpp"
#include "common/redis/cluster_slots.hpp"
#include "common/redis/keys.hpp"
#include "common/redis/redis_client.hpp"
#include "common/redis/redis_script.hpp"
#include "common/redis_access.hpp"
#include "tests/support/redis_cluster.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;
using namespace std::chrono_literals;

namespace {

using ms = std::chrono::milliseconds;

// A cluster client with quick reconnects, subscribed or not.
common::redis_options cluster_options(const test::redis_cluster& cluster, bool subscriber) {
  common::redis_options o;
  for (const int port : cluster.ports()) o.cluster_nodes.push_back({"127.0.0.1", port});
  o.reconnect_min = 20ms;
  o.reconnect_max = 200ms;
  o.command_timeout = 3000ms;
  o.subscriber = subscriber;
  o.control_channel = "ts:edge:test";
  o.name = "cluster-test";
  return o;
}

common::result<common::redis_reply> run(common::redis_client& c, const std::vector<std::string>& args) {
  std::atomic<bool> done{false};
  common::result<common::redis_reply> out = common::error{"none", ""};
  c.command(args, [&](common::result<common::redis_reply> r) {
    out = std::move(r);
    done = true;
  });
  REQUIRE(test::wait_until([&] { return done.load(); }));
  return out;
}

// What a subscriber received, per channel, in order (the payloads).
struct inbox {
  std::mutex mu;
  std::map<std::string, std::vector<std::string>, std::less<>> got;
  std::atomic<int> activations{0};
  std::atomic<int> again{0};

  void add(std::string_view channel, std::string_view payload) {
    std::lock_guard lock(mu);
    got[std::string(channel)].emplace_back(payload);
  }
  std::size_t count(const std::string& channel) {
    std::lock_guard lock(mu);
    const auto it = got.find(channel);
    return it == got.end() ? 0 : it->second.size();
  }
};

// The number of subscribers of a shard channel on the node at port.
long long shard_subscribers(const test::redis_cluster& cluster, int port, const std::string& channel) {
  const auto out = cluster.cli(port, {"PUBSUB", "SHARDNUMSUB", channel});
  const auto nl = out.find('\n');
  return nl == std::string::npos ? -1 : std::stoll(out.substr(nl + 1));
}

}  // namespace

TEST_CASE("a cluster URL lists its seed nodes and shares one user, password and TLS setting", "[cluster]") {
  std::string host;
  std::int64_t port = 0;
  std::string password;
  common::redis_access access;
  REQUIRE_FALSE(common::parse_redis_url("redis+cluster://app:s%40cret@10.0.0.1:7000,10.0.0.2,[::1]:7002", host, port,
                                        password, access));
  REQUIRE(access.cluster_nodes.size() == 3);
  CHECK(access.cluster_nodes[0] == common::redis_endpoint{"10.0.0.1", 7000});
  CHECK(access.cluster_nodes[1] == common::redis_endpoint{"10.0.0.2", 6379});
  CHECK(access.cluster_nodes[2] == common::redis_endpoint{"::1", 7002});
  CHECK(host == "10.0.0.1");
  CHECK(port == 7000);
  CHECK(access.user == "app");
  CHECK(password == "s@cret");
  CHECK_FALSE(access.tls);

  // Without user-info, the user and password given by their own flags (a secret in the
  // environment) stay.
  REQUIRE_FALSE(common::parse_redis_url("rediss+cluster://h1:1,h2:2/0", host, port, password, access));
  CHECK(access.tls);
  CHECK(access.cluster_nodes.size() == 2);
  CHECK(access.user == "app");
  CHECK(password == "s@cret");
  REQUIRE_FALSE(common::parse_redis_url("redis+cluster://:other@h1:1", host, port, password, access));
  CHECK(access.user.empty());
  CHECK(password == "other");

  CHECK(common::parse_redis_url("redis+cluster://h1:1,,h2:2", host, port, password, access) ==
        "must list the nodes as host:port,host:port");
  CHECK(common::parse_redis_url("redis+cluster://h1:99999", host, port, password, access) ==
        "must give a port from 1 to 65535");
  CHECK(common::parse_redis_url("redis+cluster://h1:1/3", host, port, password, access)->starts_with("must name "));
  // A one-node URL afterwards is one Redis again.
  REQUIRE_FALSE(common::parse_redis_url("redis://h:6380", host, port, password, access));
  CHECK(access.cluster_nodes.empty());
  CHECK(common::redact_redis_url("redis+cluster://app:secret@h1:1,h2:2") == "redis+cluster://app:***@h1:1,h2:2");
}

TEST_CASE("a command is routed by its first key, a script by its first KEYS", "[cluster]") {
  using v = std::vector<std::string>;
  const auto key = [](const v& args) { return common::routing_key(args); };
  CHECK(key(v{"SET", "ts:{md:AAPL}:last", "x"}) == "ts:{md:AAPL}:last");
  CHECK(key(v{"publish", "ts:{u:42}", "x"}) == "ts:{u:42}");
  CHECK(key(v{"EVALSHA", "abc", "2", "ts:{u:1}:seq", "ts:{u:1}:hist", "arg"}) == "ts:{u:1}:seq");
  CHECK_FALSE(key(v{"EVALSHA", "abc", "0", "arg"}));
  CHECK_FALSE(key(v{"PING"}));
  CHECK_FALSE(key(v{"time"}));
  CHECK_FALSE(key(v{"CLUSTER", "SLOTS"}));
  CHECK_FALSE(key(v{"SCRIPT", "LOAD", "return 1"}));
}

TEST_CASE("a script for a cluster publishes with SPUBLISH and changes nothing else", "[cluster]") {
  const std::string lua =
      "redis.call('PUBLISH', ARGV[6], ev)\n"
      "local ok = redis.pcall( \"PUBLISH\", ch, x)\n"
      "local s = 'PUBLISH' -- a string, not a call\n";
  CHECK(common::sharded_script_text(lua) ==
        "redis.call('SPUBLISH', ARGV[6], ev)\n"
        "local ok = redis.pcall( \"SPUBLISH\", ch, x)\n"
        "local s = 'PUBLISH' -- a string, not a call\n");
}

TEST_CASE("an idle channel goes to its slot's master, or waits for its own to reconnect", "[cluster]") {
  // Two masters: slots 0-8191 on a, the rest on b.
  common::redis_reply slots;
  slots.type = common::redis_reply::kind::array;
  const auto range = [](long long lo, long long hi, const std::string& host) {
    common::redis_reply r;
    r.type = common::redis_reply::kind::array;
    common::redis_reply a, b, node, h, p;
    a.type = b.type = p.type = common::redis_reply::kind::integer;
    a.integer = lo;
    b.integer = hi;
    h.type = common::redis_reply::kind::string;
    h.str = host;
    p.integer = 7000;
    node.type = common::redis_reply::kind::array;
    node.elements = {h, p};
    r.elements = {a, b, node};
    return r;
  };
  slots.elements = {range(0, 8191, "a"), range(8192, 16383, "b")};
  auto map = common::cluster_slot_map::from_cluster_slots(slots);
  REQUIRE(map);
  const common::cluster_node a{"a", 7000};
  const common::cluster_node b{"b", 7000};
  std::string on_a;
  std::string on_b;
  for (int i = 0; on_a.empty() || on_b.empty(); ++i) {
    const auto ch = common::user_channel(std::to_string(i));
    (common::key_slot(ch) < 8192 ? on_a : on_b) = ch;
  }
  // Owned here, subscriber down: it waits (the reconnect subscribes it here).
  CHECK_FALSE(common::channel_destination(*map, on_a, a, false, false));
  // Owned here and connected (a stale redirect bounced it): subscribed here again.
  CHECK(common::channel_destination(*map, on_a, a, false, true) == a);
  // Owned elsewhere now (a slot moved, a failover): to the owner, connected here or not.
  CHECK(common::channel_destination(*map, on_b, a, false, true) == b);
  CHECK(common::channel_destination(*map, on_b, a, false, false) == b);
  // A master let go keeps nothing.
  CHECK(common::channel_destination(*map, on_a, a, true, false) == a);
  // A MOVED redirect moves the slot in the map at once.
  map->move(common::key_slot(on_a), b);
  CHECK(common::channel_destination(*map, on_a, a, false, true) == b);
}

TEST_CASE("a channel moved between shard tables keeps its holders and their confirmations", "[cluster]") {
  using actions = common::channel_actions;
  common::channel_table from("ctl", ms(0));
  common::channel_table to("ctl", ms(0));
  (void)from.connected();
  (void)to.connected();
  (void)from.subscribed("ctl");
  (void)to.subscribed("ctl");
  CHECK(from.acquire("ts:{u:7}", 1, 11).subscribe == std::vector<std::string>{"ts:{u:7}"});
  const actions first = from.subscribed("ts:{u:7}");
  REQUIRE(first.activations.size() == 1);
  CHECK_FALSE(first.activations[0].again);
  (void)from.acquire("ts:{u:7}", 2, 22);  // confirmed at once: active
  (void)from.pin("ts:sys");
  (void)from.subscribed("ts:sys");

  // Nothing moves while it is subscribed here.
  CHECK_FALSE(from.take("ts:{u:7}"));
  // The node ended it (its slot moved): subscribed again here, and the redirect bounces it.
  CHECK(from.dropped("ts:{u:7}").subscribe == std::vector<std::string>{"ts:{u:7}"});
  from.bounce("ts:{u:7}");
  CHECK(from.idle_channels() == std::vector<std::string>{"ts:{u:7}"});
  auto moved = from.take("ts:{u:7}");
  REQUIRE(moved);
  CHECK(moved->holders.size() == 2);
  CHECK_FALSE(from.contains("ts:{u:7}"));
  CHECK(from.held_count() == 0);
  CHECK(from.referenced_count() == 1);  // ts:sys

  CHECK(to.adopt(std::move(*moved)).subscribe == std::vector<std::string>{"ts:{u:7}"});
  CHECK(to.held_count() == 1);
  const actions confirmed = to.subscribed("ts:{u:7}");
  REQUIRE(confirmed.activations.size() == 2);
  // Both were confirmed before: they hear it again (messages in between may be lost to pub/sub).
  CHECK(confirmed.activations[0].again);
  CHECK(confirmed.activations[1].again);
  CHECK(confirmed.activations[0].tag == 11);

  // A pinned channel moves with its pin, after a disconnect.
  from.disconnected();
  CHECK(from.idle_channels() == std::vector<std::string>{"ts:sys"});
  auto pinned = from.take("ts:sys");
  REQUIRE(pinned);
  CHECK(pinned->pinned);
  CHECK(to.adopt(std::move(*pinned)).subscribe == std::vector<std::string>{"ts:sys"});
  CHECK(to.referenced_count() == 2);
  // A holder that leaves while the channel is on its way is let go normally.
  CHECK(to.release("ts:{u:7}", 1, ms(0)).unsubscribe.empty());
  CHECK(to.release("ts:{u:7}", 2, ms(0)).unsubscribe == std::vector<std::string>{"ts:{u:7}"});
}

TEST_CASE("cluster client: commands, scripts and shard channels each reach their own master", "[cluster]") {
  test::redis_cluster cluster(3);
  inbox box;
  auto o = cluster_options(cluster, true);
  common::redis_client sub(o, [&](std::string_view ch, std::string_view payload) { box.add(ch, payload); });
  sub.set_activation_handler([&](const common::channel_activation& a) {
    ++box.activations;
    if (a.again) ++box.again;
  });
  sub.start();
  common::redis_client pub(cluster_options(cluster, false));
  pub.start();

  // Channels on all three masters.
  std::vector<std::string> channels;
  std::set<int> owners;
  for (int i = 0; owners.size() < 3 || channels.size() < 6; ++i) {
    auto ch = common::market_channel("S" + std::to_string(i));
    owners.insert(cluster.owner(common::key_slot(ch)));
    channels.push_back(std::move(ch));
  }
  for (const auto& ch : channels) sub.subscribe(ch, 1);
  REQUIRE(test::wait_until([&] { return box.activations.load() == static_cast<int>(channels.size()); }));
  CHECK(sub.subscriber_connected());
  CHECK(sub.channel_count() == channels.size());
  for (const auto& ch : channels) {
    // One sharded subscription, on the owner only.
    const int owner = cluster.owner(common::key_slot(ch));
    CHECK(shard_subscribers(cluster, owner, ch) == 1);
    for (const int port : cluster.ports()) {
      if (port != owner) CHECK(shard_subscribers(cluster, port, ch) == 0);
    }
  }

  // PUBLISH goes out as SPUBLISH on the owner; SET/GET follow their key to its slot.
  for (const auto& ch : channels) {
    auto r = run(pub, {"PUBLISH", ch, "hello " + ch});
    REQUIRE(r);
    CHECK(r->integer == 1);
    REQUIRE(run(pub, {"SET", ch + ":last", ch}));
    auto got = run(pub, {"GET", ch + ":last"});
    REQUIRE(got);
    CHECK(got->str == ch);
  }
  REQUIRE(test::wait_until([&] {
    return std::all_of(channels.begin(), channels.end(), [&](const auto& ch) { return box.count(ch) == 1; });
  }));

  // A script publishes on its key's slot with SPUBLISH.
  static const std::string text = "redis.call('SET', KEYS[1], ARGV[1]) return redis.call('PUBLISH', KEYS[1], ARGV[1])";
  const common::redis_script script("test_publish", text);
  for (const auto& ch : channels) {
    std::atomic<bool> done{false};
    long long receivers = -1;
    pub.eval(script, {ch}, {"from-script"}, [&](common::result<common::redis_reply> r) {
      if (r) receivers = r->integer;
      done = true;
    });
    REQUIRE(test::wait_until([&] { return done.load(); }));
    CHECK(receivers == 1);
  }
  REQUIRE(test::wait_until([&] {
    return std::all_of(channels.begin(), channels.end(), [&](const auto& ch) { return box.count(ch) == 2; });
  }));
  // Keyless commands go to any master.
  auto pong = run(pub, {"PING"});
  REQUIRE(pong);
  CHECK(pong->str == "PONG");
}

TEST_CASE("cluster client: a slot migrated again and again under traffic keeps its subscription", "[cluster]") {
  test::redis_cluster cluster(3);
  inbox box;
  common::redis_client sub(cluster_options(cluster, true),
                           [&](std::string_view ch, std::string_view payload) { box.add(ch, payload); });
  sub.set_activation_handler([&](const common::channel_activation& a) {
    ++box.activations;
    if (a.again) ++box.again;
  });
  sub.start();
  common::redis_client pub(cluster_options(cluster, false));
  pub.start();
  const auto ch = common::user_channel("mover");
  const int slot = common::key_slot(ch);
  sub.subscribe(ch, 1);
  REQUIRE(test::wait_until([&] { return box.activations.load() == 1; }));

  std::atomic<bool> stop{false};
  std::atomic<int> published{0};
  std::atomic<int> failed{0};
  std::thread traffic([&] {
    while (!stop) {
      std::atomic<bool> done{false};
      pub.command({"SET", ch + ":seq", std::to_string(published.load())}, {});
      pub.command({"PUBLISH", ch, std::to_string(published.load())}, [&](common::result<common::redis_reply> r) {
        if (!r) ++failed;
        done = true;
      });
      test::wait_until([&] { return done.load(); }, 5s);
      ++published;
      std::this_thread::sleep_for(2ms);
    }
  });
  constexpr int moves = 8;
  for (int i = 0; i < moves; ++i) {
    const int from = cluster.owner(slot);
    const int to =
        cluster
            .ports()[(std::find(cluster.ports().begin(), cluster.ports().end(), from) - cluster.ports().begin() + 1) %
                     3];
    cluster.move_slot(slot, to);
    // Subscribed on the new owner, by this client only, and hearing the traffic there.
    REQUIRE(test::wait_until([&] { return shard_subscribers(cluster, to, ch) == 1; }, 5s));
    const auto before = box.count(ch);
    REQUIRE(test::wait_until([&] { return box.count(ch) > before + 3; }, 5s));
  }
  stop = true;
  traffic.join();
  CHECK(failed.load() == 0);         // every publish and SET followed its slot
  CHECK(box.again.load() >= moves);  // each move told the holder again (a gap check)
  CHECK(sub.channel_count() == 1);
  CHECK(sub.refused_subscriptions() == 0);
}

TEST_CASE("cluster client: a master killed stops its own slots only", "[cluster][faults]") {
  test::redis_cluster cluster(3);
  inbox box;
  common::redis_client sub(cluster_options(cluster, true),
                           [&](std::string_view ch, std::string_view payload) { box.add(ch, payload); });
  sub.set_activation_handler([&](const common::channel_activation&) { ++box.activations; });
  sub.start();
  auto po = cluster_options(cluster, false);
  po.command_timeout = 1000ms;
  common::redis_client pub(po);
  pub.start();
  std::map<int, std::string> by_owner;  // one channel per master
  for (int i = 0; by_owner.size() < 3; ++i) {
    auto ch = common::market_channel("K" + std::to_string(i));
    by_owner.emplace(cluster.owner(common::key_slot(ch)), ch);
  }
  for (const auto& [port, ch] : by_owner) sub.subscribe(ch, 1);
  REQUIRE(test::wait_until([&] { return box.activations.load() == 3; }));
  REQUIRE(test::wait_until([&] { return sub.subscriber_connected(); }));

  const int victim = by_owner.begin()->first;
  cluster.kill(victim);
  REQUIRE(test::wait_until([&] { return !sub.subscriber_connected(); }, 5s));
  CHECK(pub.command_connected());       // the other masters still take commands
  for (const auto& owned : by_owner) {  // (clang 14's lambdas cannot capture a structured binding)
    const auto port = owned.first;
    const auto& ch = owned.second;
    if (port == victim) continue;
    const auto before = box.count(ch);
    auto r = run(pub, {"PUBLISH", ch, "still here"});
    REQUIRE(r);
    CHECK(r->integer == 1);
    REQUIRE(test::wait_until([&] { return box.count(ch) == before + 1; }, 5s));
  }
  // The dead master's slot fails its commands after the timeout, and only those.
  auto dead = run(pub, {"PUBLISH", by_owner.begin()->second, "lost"});
  CHECK_FALSE(dead);
}

TEST_CASE("cluster client: a master failed over to its replica is followed, its channels with it",
          "[cluster][faults]") {
  test::redis_cluster cluster(3, 1);
  inbox box;
  common::redis_client sub(cluster_options(cluster, true),
                           [&](std::string_view ch, std::string_view payload) { box.add(ch, payload); });
  sub.set_activation_handler([&](const common::channel_activation& a) {
    ++box.activations;
    if (a.again) ++box.again;
  });
  sub.start();
  common::redis_client pub(cluster_options(cluster, false));
  pub.start();
  const auto ch = common::user_channel("failover");
  sub.subscribe(ch, 1);
  REQUIRE(test::wait_until([&] { return box.activations.load() == 1 && sub.subscriber_connected(); }));
  const int victim = cluster.owner(common::key_slot(ch));
  cluster.kill(victim);
  REQUIRE(test::wait_until([&] { return !sub.subscriber_connected(); }, 5s));
  // The replica takes over (node timeout 1 s, then the election); the client finds it, lets the
  // dead master go and subscribes the channel there: its holder hears it again.
  REQUIRE(test::wait_until(
      [&] {
        const int now = cluster.owner(common::key_slot(ch));
        return now != 0 && now != victim;
      },
      15s));
  REQUIRE(test::wait_until([&] { return box.again.load() >= 1 && sub.subscriber_connected(); }, 10s));
  const int promoted = cluster.owner(common::key_slot(ch));
  CHECK(shard_subscribers(cluster, promoted, ch) == 1);
  auto r = run(pub, {"PUBLISH", ch, "after failover"});
  REQUIRE(r);
  CHECK(r->integer == 1);
  REQUIRE(test::wait_until([&] { return box.count(ch) == 1; }, 5s));
}
