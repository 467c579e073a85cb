// Integration tests of the Redis thread against a real redis-server started by each test.
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "common/redis/redis_client.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;
using test::wait_until;

namespace {

// Collects the messages a client receives, from the Redis thread.
struct inbox {
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> messages;

  common::redis_client::message_handler handler() {
    return [this](std::string_view ch, std::string_view payload) {
      std::lock_guard lock(mu);
      messages.emplace_back(ch, payload);
    };
  }
  std::size_t count(const std::string& channel) {
    std::lock_guard lock(mu);
    std::size_t n = 0;
    for (const auto& m : messages) n += m.first == channel ? 1 : 0;
    return n;
  }
  std::vector<std::string> payloads(const std::string& channel) {
    std::lock_guard lock(mu);
    std::vector<std::string> out;
    for (const auto& m : messages) {
      if (m.first == channel) out.push_back(m.second);
    }
    return out;
  }
};

// Collects the activations a client hands out, from the Redis thread.
struct activation_log {
  std::mutex mu;
  std::vector<common::channel_activation> seen;

  common::redis_client::activation_handler handler() {
    return [this](const common::channel_activation& a) {
      std::lock_guard lock(mu);
      seen.push_back(a);
    };
  }
  // Activations of channel for holder (first ones, or re-confirmations with again).
  std::size_t count(const std::string& channel, common::holder_id holder, bool again = false) {
    std::lock_guard lock(mu);
    std::size_t n = 0;
    for (const auto& a : seen) n += a.channel == channel && a.holder == holder && a.again == again ? 1 : 0;
    return n;
  }
};

common::redis_options options_for(const test::redis_server& server, bool subscriber) {
  common::redis_options o;
  o.port = server.port();
  o.subscriber = subscriber;
  o.reconnect_min = std::chrono::milliseconds(20);
  o.reconnect_max = std::chrono::milliseconds(200);
  o.control_channel = "ts:test:ctl";
  return o;
}

// A redis-server, a subscribing client with its inbox and activation log, and a publishing
// client, all started.
struct pubsub_fixture {
  test::redis_server server;
  inbox box;
  activation_log told;
  common::redis_client sub{options_for(server, true), box.handler()};
  common::redis_client pub{options_for(server, false)};

  pubsub_fixture() {
    sub.set_activation_handler(told.handler());
    sub.start();
    pub.start();
  }
};

// How many UNSUBSCRIBE commands the server has executed.
long long unsubscribe_calls(const test::redis_server& server) {
  const auto stats = server.cli({"INFO", "commandstats"});
  const auto at = stats.find("cmdstat_unsubscribe:calls=");
  return at == std::string::npos ? 0 : std::stoll(stats.substr(at + 26));
}

// Publishes through its own client and waits for Redis's reply; returns the receiver count.
long long publish(common::redis_client& c, const std::string& channel, const std::string& payload) {
  std::atomic<long long> receivers{-1};
  c.command({"PUBLISH", channel, payload},
            [&](common::result<common::redis_reply> r) { receivers = r.ok() ? r->integer : -2; });
  REQUIRE(wait_until([&] { return receivers.load() != -1; }));
  return receivers.load();
}

}  // namespace

TEST_CASE("commands are pipelined and answered in order", "[redis]") {
  test::redis_server server;
  common::redis_client c(options_for(server, false));
  c.start();
  constexpr int n = 2000;
  std::mutex mu;
  std::vector<long long> replies;
  for (int i = 0; i < n; ++i) {
    c.command({"INCR", "counter"}, [&](common::result<common::redis_reply> r) {
      std::lock_guard lock(mu);
      replies.push_back(r.ok() ? r->integer : -1);
    });
  }
  REQUIRE(wait_until([&] {
    std::lock_guard lock(mu);
    return replies.size() == n;
  }));
  for (int i = 0; i < n; ++i) CHECK(replies[static_cast<std::size_t>(i)] == i + 1);
  CHECK(server.cli({"GET", "counter"}) == "2000\n");
}

TEST_CASE("a Redis error reply reaches the caller as redis_error", "[redis]") {
  test::redis_server server;
  common::redis_client c(options_for(server, false));
  c.start();
  std::atomic<int> state{0};
  std::string message;
  c.command({"INCR", "not", "a", "valid", "call"}, [&](common::result<common::redis_reply> r) {
    if (!r.ok() && r.err().code == "redis_error") message = r.err().message;
    state = r.ok() ? 1 : 2;
  });
  REQUIRE(wait_until([&] { return state.load() != 0; }));
  CHECK(state.load() == 2);
  CHECK(message.find("wrong number of arguments") != std::string::npos);
}

TEST_CASE("subscriptions are held per holder and each holder is told once Redis has confirmed", "[redis]") {
  pubsub_fixture fx;
  // Plain references, not a structured binding: clang 14 cannot capture those in lambdas.
  auto& server = fx.server;
  auto& box = fx.box;
  auto& told = fx.told;
  auto& sub = fx.sub;
  auto& pub = fx.pub;

  sub.subscribe("ts:{md:AAPL}", 1, 11);
  sub.subscribe("ts:{md:AAPL}", 2, 22);
  REQUIRE(wait_until([&] { return told.count("ts:{md:AAPL}", 1) == 1 && told.count("ts:{md:AAPL}", 2) == 1; }));
  {
    std::lock_guard lock(told.mu);
    for (const auto& a : told.seen) CHECK(a.tag == a.holder * 11);  // each holder gets its own tag back
  }
  // Confirmed means subscribed in Redis: a publish now has exactly one receiver (this client).
  CHECK(publish(pub, "ts:{md:AAPL}", "one") == 1);
  CHECK(server.cli({"PUBSUB", "NUMSUB", "ts:{md:AAPL}"}) == "ts:{md:AAPL}\n1\n");
  CHECK(sub.channel_count() == 1);
  CHECK(sub.held_channel_count() == 1);

  sub.unsubscribe("ts:{md:AAPL}", 1);  // one holder left: still subscribed
  CHECK(publish(pub, "ts:{md:AAPL}", "two") == 1);
  sub.unsubscribe("ts:{md:AAPL}", 2);  // last holder: unsubscribed
  REQUIRE(wait_until([&] { return server.cli({"PUBSUB", "NUMSUB", "ts:{md:AAPL}"}) == "ts:{md:AAPL}\n0\n"; }));
  CHECK(publish(pub, "ts:{md:AAPL}", "three") == 0);
  REQUIRE(wait_until([&] { return box.count("ts:{md:AAPL}") == 2; }));
  CHECK(box.payloads("ts:{md:AAPL}") == std::vector<std::string>{"one", "two"});
  CHECK(sub.channel_count() == 0);
  CHECK(sub.held_channel_count() == 0);
}

// The linger policy itself (when, and what a re-acquisition does) is unit-tested on the channel
// table with an injected time; this checks its wiring: the table's decisions reach Redis and the
// linger timer fires. No wall-clock bound: only what Redis did, waited for with a deadline.
TEST_CASE("a released channel lingers, is taken up again without a round trip, and goes once the linger ends",
          "[redis]") {
  test::redis_server server;
  SECTION("taken up again within the linger: confirmed at once, never unsubscribed") {
    inbox box;
    activation_log told;
    auto opts = options_for(server, true);
    opts.unsubscribe_linger = std::chrono::minutes(10);
    common::redis_client sub(opts, box.handler());
    sub.set_activation_handler(told.handler());
    sub.start();
    sub.subscribe("ts:linger", 1);
    REQUIRE(wait_until([&] { return told.count("ts:linger", 1) == 1; }));
    sub.unsubscribe("ts:linger", 1);
    sub.subscribe("ts:linger", 1);
    REQUIRE(wait_until([&] { return told.count("ts:linger", 1) == 2; }));
    sub.unsubscribe("ts:linger", 1);  // lingering when the client stops
    CHECK(server.cli({"PUBSUB", "NUMSUB", "ts:linger"}) == "ts:linger\n1\n");
    CHECK(unsubscribe_calls(server) == 0);
  }
  SECTION("not taken up: unsubscribed when the linger ends") {
    inbox box;
    activation_log told;
    auto opts = options_for(server, true);
    opts.unsubscribe_linger = std::chrono::milliseconds(50);
    common::redis_client sub(opts, box.handler());
    sub.set_activation_handler(told.handler());
    sub.start();
    sub.subscribe("ts:linger", 1);
    REQUIRE(wait_until([&] { return told.count("ts:linger", 1) == 1; }));
    sub.unsubscribe("ts:linger", 1);
    REQUIRE(wait_until([&] { return server.cli({"PUBSUB", "NUMSUB", "ts:linger"}) == "ts:linger\n0\n"; }));
    CHECK(unsubscribe_calls(server) == 1);
    CHECK(sub.channel_count() == 0);
  }
}

TEST_CASE("rapid subscribe/unsubscribe churn on one channel ends in the right state", "[redis]") {
  pubsub_fixture fx;
  // Plain references, not a structured binding: clang 14 cannot capture those in lambdas.
  auto& server = fx.server;
  auto& box = fx.box;
  auto& told = fx.told;
  auto& sub = fx.sub;
  auto& pub = fx.pub;
  // Unsubscribe and subscribe again before Redis has answered: hiredis 0.14 forgets a channel's
  // callback on the UNSUBSCRIBE reply, so the client must re-subscribe after it.
  for (int i = 0; i < 50; ++i) {
    sub.subscribe("ts:churn", 1);
    sub.unsubscribe("ts:churn", 1);
  }
  sub.subscribe("ts:churn", 2);
  REQUIRE(wait_until([&] { return told.count("ts:churn", 2) == 1; }));
  REQUIRE(wait_until([&] { return publish(pub, "ts:churn", "after") == 1; }));
  REQUIRE(wait_until([&] { return box.count("ts:churn") >= 1; }));
  CHECK(server.cli({"PUBSUB", "NUMSUB", "ts:churn"}) == "ts:churn\n1\n");
}

TEST_CASE(
    "after redis-server is killed and restarted the client reconnects, re-subscribes and tells the holders "
    "again",
    "[redis]") {
  pubsub_fixture fx;
  // Plain references, not a structured binding: clang 14 cannot capture those in lambdas.
  auto& server = fx.server;
  auto& box = fx.box;
  auto& told = fx.told;
  auto& sub = fx.sub;
  auto& pub = fx.pub;
  sub.subscribe("ts:{md:MSFT}", 1);
  sub.subscribe("ts:{md:NVDA}", 2);
  sub.subscribe("ts:pinned");  // held for good, by nobody in particular
  REQUIRE(wait_until([&] { return told.count("ts:{md:MSFT}", 1) == 1 && told.count("ts:{md:NVDA}", 2) == 1; }));
  REQUIRE(wait_until([&] { return publish(pub, "ts:pinned", "before") == 1; }));
  CHECK(publish(pub, "ts:{md:MSFT}", "before") == 1);
  CHECK(sub.channel_count() == 3);
  CHECK(sub.held_channel_count() == 2);

  server.kill();
  REQUIRE(wait_until([&] { return !sub.subscriber_connected() && !pub.command_connected(); }));
  // A command issued during the outage is held and sent after the reconnect.
  std::atomic<int> held{0};
  pub.command({"SET", "during-outage", "kept"}, [&](common::result<common::redis_reply> r) { held = r.ok() ? 1 : 2; });
  // A holder that joins during the outage is told once, as a first confirmation.
  sub.subscribe("ts:{md:MSFT}", 3);
  server.restart();

  REQUIRE(wait_until([&] { return sub.subscriber_connected() && pub.command_connected(); }));
  REQUIRE(wait_until([&] { return held.load() != 0; }));
  CHECK(held.load() == 1);
  CHECK(server.cli({"GET", "during-outage"}) == "kept\n");
  // The holders confirmed before are told again, so that they can check for what they missed.
  REQUIRE(
      wait_until([&] { return told.count("ts:{md:MSFT}", 1, true) == 1 && told.count("ts:{md:NVDA}", 2, true) == 1; }));
  REQUIRE(wait_until([&] { return told.count("ts:{md:MSFT}", 3) == 1; }));
  CHECK(told.count("ts:{md:MSFT}", 3, true) == 0);
  // Re-subscription is asynchronous: wait until Redis counts this subscriber again.
  REQUIRE(wait_until([&] {
    return server.cli({"PUBSUB", "NUMSUB", "ts:{md:MSFT}", "ts:{md:NVDA}", "ts:pinned"}) ==
           "ts:{md:MSFT}\n1\nts:{md:NVDA}\n1\nts:pinned\n1\n";
  }));
  CHECK(publish(pub, "ts:{md:MSFT}", "after") == 1);
  CHECK(publish(pub, "ts:{md:NVDA}", "after") == 1);
  REQUIRE(wait_until([&] { return box.count("ts:{md:MSFT}") == 2 && box.count("ts:{md:NVDA}") == 1; }));
  CHECK(box.payloads("ts:{md:MSFT}") == std::vector<std::string>{"before", "after"});
  CHECK(sub.reconnects() >= 1);
  CHECK(pub.reconnects() >= 1);
}

TEST_CASE("commands still pending at stop() complete with shutting_down", "[redis]") {
  common::redis_options o;
  o.port = test::free_port();  // nothing listens here: everything stays in the backlog
  o.reconnect_min = std::chrono::milliseconds(20);
  o.reconnect_max = std::chrono::milliseconds(50);
  std::atomic<int> shutting_down{0};
  {
    common::redis_client c(o);
    c.start();
    for (int i = 0; i < 10; ++i) {
      c.command({"PING"}, [&](common::result<common::redis_reply> r) {
        if (!r.ok() && r.err().code == "shutting_down") ++shutting_down;
      });
    }
    c.stop();
  }
  CHECK(shutting_down.load() == 10);
}

TEST_CASE("the backlog is bounded while Redis is unreachable", "[redis]") {
  common::redis_options o;
  o.port = test::free_port();
  o.max_backlog = 5;
  common::redis_client c(o);
  c.start();
  std::atomic<int> full{0};
  for (int i = 0; i < 8; ++i) {
    c.command({"PING"}, [&](common::result<common::redis_reply> r) {
      if (!r.ok() && r.err().code == "queue_full") ++full;
    });
  }
  REQUIRE(wait_until([&] { return full.load() == 3; }));
}

TEST_CASE("RESP encoding of a command", "[redis]") {
  CHECK(common::format_redis_command({"SET", "k", "a b"}) == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\na b\r\n");
  CHECK(common::format_redis_command({"X", ""}) == "*2\r\n$1\r\nX\r\n$0\r\n\r\n");
}

namespace {

// Refusals a client hands out, from the Redis thread.
struct refusal_log {
  std::mutex mu;
  std::vector<common::channel_refusal> seen;

  common::redis_client::refusal_handler handler() {
    return [this](const common::channel_refusal& r) {
      std::lock_guard lock(mu);
      seen.push_back(r);
    };
  }
  std::size_t size() {
    std::lock_guard lock(mu);
    return seen.size();
  }
};

}  // namespace

TEST_CASE("a SUBSCRIBE refused by an ACL fails that channel only and the connection carries on", "[redis]") {
  test::redis_server server;
  // An ACL user that may use every key and command but only these channels.
  server.cli({"ACL", "SETUSER", "edge", "on", ">edge-secret", "~*", "+@all", "resetchannels", "&ts:test:ctl",
              "&ts:{md:AAPL}"});
  inbox box;
  activation_log told;
  refusal_log refused;
  auto opts = options_for(server, true);
  opts.user = "edge";
  opts.password = "edge-secret";
  common::redis_client sub(opts, box.handler());
  sub.set_activation_handler(told.handler());
  sub.set_refusal_handler(refused.handler());
  sub.start();
  common::redis_client pub(options_for(server, false));
  pub.start();

  sub.subscribe("ts:{md:DENIED}", 1, 5);
  sub.subscribe("ts:{md:AAPL}", 1, 6);
  REQUIRE(wait_until([&] { return refused.size() == 1 && told.count("ts:{md:AAPL}", 1) == 1; }));
  {
    std::lock_guard lock(refused.mu);
    CHECK(refused.seen[0].channel == "ts:{md:DENIED}");
    CHECK(refused.seen[0].holder == 1);
    CHECK(refused.seen[0].tag == 5);
    CHECK(refused.seen[0].reason.find("NOPERM") != std::string::npos);
  }
  CHECK(told.count("ts:{md:DENIED}", 1) == 0);
  // The connection stayed up and keeps delivering; the refused channel holds nothing.
  CHECK(publish(pub, "ts:{md:AAPL}", "tick") == 1);
  REQUIRE(wait_until([&] { return box.count("ts:{md:AAPL}") == 1; }));
  CHECK(sub.reconnects() == 0);
  CHECK(sub.subscriber_connected());
  CHECK(sub.refused_subscriptions() == 1);
  CHECK(sub.held_channel_count() == 1);
  // The holder that was refused may still let go (it has not heard yet): harmless.
  sub.unsubscribe("ts:{md:DENIED}", 1);
  sub.subscribe("ts:{md:DENIED}", 2, 7);  // another holder asks again: refused again, still no reconnect
  REQUIRE(wait_until([&] { return refused.size() == 2; }));
  CHECK(sub.reconnects() == 0);
  CHECK(publish(pub, "ts:{md:AAPL}", "tick2") == 1);
  REQUIRE(wait_until([&] { return box.count("ts:{md:AAPL}") == 2; }));
}

TEST_CASE("AUTH names an ACL user, and a refused AUTH is retried with backoff and reported", "[redis]") {
  test::redis_server server;
  server.cli({"ACL", "SETUSER", "ingest", "on", ">right", "~*", "&*", "+@all"});
  SECTION("the right password") {
    auto opts = options_for(server, false);
    opts.user = "ingest";
    opts.password = "right";
    common::redis_client c(opts);
    c.start();
    std::atomic<int> state{0};
    std::string who;
    c.command({"ACL", "WHOAMI"}, [&](common::result<common::redis_reply> r) {
      if (r.ok()) who = r->str;
      state = r.ok() ? 1 : 2;
    });
    REQUIRE(wait_until([&] { return state.load() != 0; }));
    CHECK(who == "ingest");
  }
  SECTION("a wrong password: never connected, the reason is kept") {
    auto opts = options_for(server, false);
    opts.user = "ingest";
    opts.password = "wrong";
    common::redis_client c(opts);
    c.start();
    REQUIRE(wait_until([&] { return c.last_error().find("AUTH refused") != std::string::npos; }));
    CHECK(c.last_error().find("WRONGPASS") != std::string::npos);
    CHECK_FALSE(c.command_connected());
  }
}

TEST_CASE("a command Redis does not answer in time fails with timeout and the connection is kept", "[redis][faults]") {
  test::redis_server server;
  auto opts = options_for(server, false);
  opts.command_timeout = std::chrono::milliseconds(200);
  common::redis_client c(opts);
  c.start();
  REQUIRE(wait_until([&] { return c.command_connected(); }));
  std::atomic<int> first{0};
  std::string code;
  server.pause();
  c.command({"SET", "k", "late"}, [&](common::result<common::redis_reply> r) {
    if (!r.ok()) code = r.err().code;
    first = r.ok() ? 1 : 2;
  });
  REQUIRE(wait_until([&] { return first.load() != 0; }));
  CHECK(first.load() == 2);
  CHECK(code == "timeout");
  server.resume();
  // The late reply to SET is dropped; the next command gets its own reply on the same connection.
  std::atomic<int> second{0};
  std::string value;
  c.command({"GET", "k"}, [&](common::result<common::redis_reply> r) {
    if (r.ok()) value = r->str;
    second = r.ok() ? 1 : 2;
  });
  REQUIRE(wait_until([&] { return second.load() != 0; }));
  CHECK(second.load() == 1);
  CHECK(value == "late");  // (Redis did run the SET once it woke up: a timeout is not a rollback)
  CHECK(c.reconnects() == 0);
}
