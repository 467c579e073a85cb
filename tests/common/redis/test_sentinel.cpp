// Sentinel: the replies and messages of sentinels read as data, the order sentinels are asked in,
// and the Redis thread against real sentinels: it finds the master through them, refuses a node
// that is not a master, and follows a failover.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/redis/redis_client.hpp"
#include "common/redis/sentinel.hpp"
#include "tests/support/redis_process.hpp"
#include "tests/support/redis_sentinel.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_file.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;
using namespace std::chrono_literals;
using common::redis_reply;
using test::wait_until;

namespace {

redis_reply text(std::string s) {
  redis_reply r;
  r.type = redis_reply::kind::string;
  r.str = std::move(s);
  return r;
}

redis_reply array(std::vector<redis_reply> elements) {
  redis_reply r;
  r.type = redis_reply::kind::array;
  r.elements = std::move(elements);
  return r;
}

redis_reply error_reply(std::string s) {
  redis_reply r;
  r.type = redis_reply::kind::error;
  r.str = std::move(s);
  return r;
}

common::redis_options sentinel_options(std::vector<common::redis_endpoint> sentinels, std::string master) {
  common::redis_options o;
  o.sentinels = std::move(sentinels);
  o.sentinel_master = std::move(master);
  o.reconnect_min = 20ms;
  o.reconnect_max = 200ms;
  o.connect_timeout = 500ms;
  o.control_channel = "ts:test:ctl";
  return o;
}

// A SET through client, true when Redis answered OK.
bool set_ok(common::redis_client& client, const std::string& key, const std::string& value) {
  std::mutex mu;
  std::optional<bool> ok;
  client.command({"SET", key, value}, [&](common::result<redis_reply> r) {
    std::lock_guard lock(mu);
    ok = r.ok() && r.value().str == "OK";
  });
  wait_until(
      [&] {
        std::lock_guard lock(mu);
        return ok.has_value();
      },
      3s);
  std::lock_guard lock(mu);
  return ok.value_or(false);
}

}  // namespace

TEST_CASE("a sentinel answers for a master with its address or nothing or an error", "[sentinel]") {
  auto found = common::parse_master_address(array({text("10.0.0.7"), text("6380")}));
  REQUIRE(found);
  REQUIRE(found.value());
  CHECK(*found.value() == common::redis_endpoint{"10.0.0.7", 6380});
  auto unknown = common::parse_master_address(redis_reply{});  // nil: not a master it monitors
  REQUIRE(unknown);
  CHECK_FALSE(unknown.value());
  CHECK_FALSE(common::parse_master_address(error_reply("NOAUTH Authentication required.")));
  CHECK_FALSE(common::parse_master_address(array({text("10.0.0.7")})));
  CHECK_FALSE(common::parse_master_address(array({text("10.0.0.7"), text("0")})));
  CHECK_FALSE(common::parse_master_address(array({text(""), text("6379")})));
  CHECK_FALSE(common::parse_master_address(text("10.0.0.7:6379")));
}

TEST_CASE("ROLE names what a node is", "[sentinel]") {
  redis_reply offset;
  offset.type = redis_reply::kind::integer;
  offset.integer = 42;
  CHECK(common::parse_role(array({text("master"), offset, array({})})).value() == "master");
  CHECK(
      common::parse_role(array({text("slave"), text("127.0.0.1"), text("6379"), text("connected"), offset})).value() ==
      "slave");
  CHECK(common::parse_role(error_reply("NOPERM no permission")).err().message == "NOPERM no permission");
  CHECK_FALSE(common::parse_role(array({})));
  CHECK_FALSE(common::parse_role(text("master")));
}

TEST_CASE("a +switch-master message for our master gives the new address", "[sentinel]") {
  CHECK(common::parse_switch_master("tsmaster 127.0.0.1 6379 127.0.0.1 6380", "tsmaster") ==
        common::redis_endpoint{"127.0.0.1", 6380});
  CHECK_FALSE(common::parse_switch_master("other 127.0.0.1 6379 127.0.0.1 6380", "tsmaster"));
  CHECK_FALSE(common::parse_switch_master("tsmaster 127.0.0.1 6379 127.0.0.1", "tsmaster"));
  CHECK_FALSE(common::parse_switch_master("tsmaster 127.0.0.1 6379 127.0.0.1 x", "tsmaster"));
  CHECK_FALSE(common::parse_switch_master("tsmaster 127.0.0.1 6379 127.0.0.1 6380 extra", "tsmaster"));
  CHECK_FALSE(common::parse_switch_master("", "tsmaster"));
}

TEST_CASE("sentinels are tried in turn, the last one that answered first", "[sentinel]") {
  common::sentinel_rotation r(3);
  CHECK(r.begin_round() == 0);
  CHECK(r.next() == 1u);
  CHECK(r.next() == 2u);
  CHECK_FALSE(r.next());  // all three tried
  CHECK(r.begin_round() == 0);
  CHECK(r.next() == 1u);
  r.answered();
  CHECK(r.begin_round() == 1);  // the one that answered goes first
  CHECK(r.next() == 2u);
  CHECK(r.next() == 0u);
  CHECK_FALSE(r.next());
  common::sentinel_rotation one(1);
  CHECK(one.begin_round() == 0);
  CHECK_FALSE(one.next());
}

TEST_CASE("a node the sentinels name that is not a master is refused and the sentinels asked again",
          "[redis][sentinel]") {
  test::redis_server master;
  test::redis_server replica;
  replica.cli({"REPLICAOF", "127.0.0.1", std::to_string(master.port())});
  // A sentinel that was told the replica is the master (a stale configuration).
  const test::temp_file conf("tickstream-sentinel-conf");
  int sentinel_port = 0;
  auto sentinel = test::spawn_redis(
      [&](int p) {
        std::ofstream(conf.path()) << "port " << p << "\nbind 127.0.0.1\nsentinel monitor stale 127.0.0.1 "
                                   << replica.port() << " 1\n";
        return std::vector<std::string>{"redis-server", conf.path(), "--sentinel"};
      },
      sentinel_port);
  common::redis_client client(sentinel_options({{"127.0.0.1", sentinel_port}}, "stale"));
  client.start();
  REQUIRE(wait_until([&] { return client.last_error().find("not the master") != std::string::npos; }, 5s));
  CHECK(client.last_error() == "not the master: 127.0.0.1:" + std::to_string(replica.port()) + " is a slave");
  CHECK_FALSE(client.command_connected());
  // It keeps asking: the sentinel's answer is read again on every attempt.
  replica.cli({"REPLICAOF", "NO", "ONE"});
  REQUIRE(wait_until([&] { return client.command_connected(); }, 5s));
  CHECK(set_ok(client, "k", "v"));
  client.stop();
}

TEST_CASE("a sentinel that knows no such master or is down is passed over for the next", "[redis][sentinel]") {
  test::redis_server master;
  const test::temp_file conf("tickstream-sentinel-conf");
  int sentinel_port = 0;
  auto sentinel = test::spawn_redis(
      [&](int p) {
        std::ofstream(conf.path()) << "port " << p << "\nbind 127.0.0.1\nsentinel monitor tsmaster 127.0.0.1 "
                                   << master.port() << " 1\n";
        return std::vector<std::string>{"redis-server", conf.path(), "--sentinel"};
      },
      sentinel_port);
  {
    // Nothing listens on the first; the second knows no such master: no connection, and why.
    common::redis_client client(
        sentinel_options({{"127.0.0.1", test::free_port()}, {"127.0.0.1", sentinel_port}}, "nosuch"));
    client.start();
    REQUIRE(wait_until([&] { return client.last_error().starts_with("no sentinel named the master"); }, 5s));
    CHECK(client.last_error().find("does not know a master named nosuch") != std::string::npos);
    CHECK_FALSE(client.command_connected());
    client.stop();
  }
  common::redis_client client(
      sentinel_options({{"127.0.0.1", test::free_port()}, {"127.0.0.1", sentinel_port}}, "tsmaster"));
  client.start();
  REQUIRE(wait_until([&] { return client.command_connected(); }, 5s));
  CHECK(set_ok(client, "k", "v"));
  CHECK(master.cli({"GET", "k"}) == "v\n");
  client.stop();
}

TEST_CASE("sentinels that require a password are asked with it and a wrong one is reported", "[redis][sentinel]") {
  test::redis_server master;
  const test::temp_file conf("tickstream-sentinel-conf");
  int sentinel_port = 0;
  auto sentinel = test::spawn_redis(
      [&](int p) {
        std::ofstream(conf.path()) << "port " << p << "\nbind 127.0.0.1\nsentinel monitor tsmaster 127.0.0.1 "
                                   << master.port() << " 1\n";
        return std::vector<std::string>{"redis-server", conf.path(), "--sentinel"};
      },
      sentinel_port);
  // (Set once it has answered PING, which it would not do without the password.)
  REQUIRE(test::redis_cli(sentinel_port, {"ACL", "SETUSER", "default", "resetpass", ">s3cret"}) == "OK\n");
  {
    auto o = sentinel_options({{"127.0.0.1", sentinel_port}}, "tsmaster");
    o.sentinel_password = "wrong";
    common::redis_client client(o);
    client.start();
    REQUIRE(wait_until([&] { return client.last_error().starts_with("no sentinel named the master"); }, 5s));
    CHECK(client.last_error().find("AUTH refused") != std::string::npos);
    CHECK_FALSE(client.command_connected());
    client.stop();
  }
  auto o = sentinel_options({{"127.0.0.1", sentinel_port}}, "tsmaster");
  o.sentinel_password = "s3cret";
  common::redis_client client(o);
  client.start();
  REQUIRE(wait_until([&] { return client.command_connected(); }, 5s));
  CHECK(set_ok(client, "k", "v"));
  client.stop();
}

TEST_CASE("after the master is killed the client follows the promoted replica with commands and subscriptions",
          "[redis][sentinel][faults]") {
  test::redis_sentinel_set set(1, 3);
  const int old_master = set.master_port();
  REQUIRE(old_master == set.node_ports()[0]);
  std::vector<common::redis_endpoint> sentinels;
  for (const int p : set.sentinel_ports()) sentinels.push_back({"127.0.0.1", p});
  std::mutex mu;
  std::vector<std::string> got;
  auto o = sentinel_options(sentinels, set.master_name());
  o.subscriber = true;
  o.command_timeout = 500ms;
  common::redis_client client(o, [&](std::string_view, std::string_view payload) {
    std::lock_guard lock(mu);
    got.emplace_back(payload);
  });
  client.start();
  client.subscribe("ts:test:ch");
  REQUIRE(wait_until([&] { return client.command_connected() && client.subscriber_connected(); }, 5s));
  REQUIRE(set_ok(client, "before", "1"));
  const auto received = [&](const std::string& payload) {
    std::lock_guard lock(mu);
    return std::find(got.begin(), got.end(), payload) != got.end();
  };
  REQUIRE(wait_until([&] {
    test::redis_cli(old_master, {"PUBLISH", "ts:test:ch", "m0"});
    return received("m0");
  }));

  const auto killed = std::chrono::steady_clock::now();
  set.kill_node(old_master);
  // The replica is promoted and the client's commands reach it.
  REQUIRE(wait_until([&] { return set_ok(client, "after", "1"); }, 15s));
  const auto commands_back = std::chrono::steady_clock::now() - killed;
  const int new_master = set.master_port();
  CHECK(new_master == set.node_ports()[1]);
  CHECK(test::redis_cli(new_master, {"GET", "after"}) == "1\n");
  // The subscription was taken up again on the new master.
  REQUIRE(wait_until(
      [&] {
        test::redis_cli(new_master, {"PUBLISH", "ts:test:ch", "m1"});
        return received("m1");
      },
      5s));
  const auto messages_back = std::chrono::steady_clock::now() - killed;
  CHECK(client.reconnects() >= 2);
  WARN("sentinel failover: commands answered again "
       << std::chrono::duration_cast<std::chrono::milliseconds>(commands_back).count()
       << " ms after the master was killed, messages received again after "
       << std::chrono::duration_cast<std::chrono::milliseconds>(messages_back).count() << " ms");
  client.stop();
}
