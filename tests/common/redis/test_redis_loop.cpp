// A Redis client on the caller's event loop (use_loop): against a real redis-server, a Sentinel
// set and a Cluster, every callback runs on the thread that runs that loop, a confirmation comes
// before the messages it lets through, and stopping completes what was pending.
#include <catch2/catch.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <atomic>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/redis/redis_client.hpp"
#include "common/redis/redis_cluster_client.hpp"
#include "tests/support/redis_cluster.hpp"
#include "tests/support/redis_sentinel.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;
using namespace std::chrono_literals;
using test::wait_until;

namespace {

// The caller's loop: an io_context run by a thread of the test.
struct loop_thread {
  boost::asio::io_context ioc{1};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard{ioc.get_executor()};
  std::thread thread{[this] { ioc.run(); }};

  // Stops the loop and waits for its thread.
  void end() {
    guard.reset();
    ioc.stop();
    if (thread.joinable()) thread.join();
  }
  ~loop_thread() { end(); }

  // Runs fn on the loop's thread and waits for it.
  template <class Fn>
  void on(Fn fn) {
    std::promise<void> done;
    boost::asio::post(ioc, [&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  }
};

// What the client handed out, and on which thread.
struct record {
  std::mutex mu;
  std::vector<std::string> events;  // "active <channel>", "message <channel> <payload>", "reply"
  bool off_loop = false;            // a callback ran on another thread than the loop's
  std::thread::id loop;

  void add(std::string what) {
    std::lock_guard lock(mu);
    off_loop = off_loop || std::this_thread::get_id() != loop;
    events.push_back(std::move(what));
  }
  bool has(const std::string& what) {
    std::lock_guard lock(mu);
    return std::find(events.begin(), events.end(), what) != events.end();
  }
  std::size_t index_of(const std::string& what) {
    std::lock_guard lock(mu);
    return static_cast<std::size_t>(std::find(events.begin(), events.end(), what) - events.begin());
  }
};

// A subscribing client on loop, wired to rec; holders() is read from the message handler (it
// asserts that it runs on the loop's thread).
struct looped_client {
  looped_client(loop_thread& loop, record& rec, common::redis_options o)
      : loop_(loop), client(std::move(o), [this, &rec](std::string_view channel, std::string_view payload) {
          const auto holders = client.holders(channel);
          rec.add("message " + std::string(channel) + " " + std::string(payload) + " holders " +
                  std::to_string(holders.size()));
        }) {
    rec.loop = loop.thread.get_id();
    client.set_activation_handler([&rec](const common::channel_activation& a) { rec.add("active " + a.channel); });
    client.use_loop(loop.ioc);
    client.start();
  }
  // The loop ends first, so the client is stopped once it no longer runs (a test that fails
  // early included).
  ~looped_client() { loop_.end(); }
  looped_client(const looped_client&) = delete;
  looped_client& operator=(const looped_client&) = delete;

  loop_thread& loop_;
  common::redis_client client;
};

// A command through c, waited for; its reply is recorded on rec's loop check.
bool command_ok(common::redis_client& c, record& rec, const std::vector<std::string>& args) {
  std::atomic<int> state{0};
  c.command(args, [&](const common::result<common::redis_reply>& r) {
    rec.add("reply");
    state = r ? 1 : 2;
  });
  wait_until([&] { return state.load() != 0; }, 5s);
  return state.load() == 1;
}

}  // namespace

TEST_CASE("a client on the caller's loop: one Redis, every callback on that loop's thread", "[redis]") {
  test::redis_server server;
  loop_thread loop;
  record rec;
  common::redis_options o;
  o.port = server.port();
  o.subscriber = true;
  o.reconnect_min = 20ms;
  o.reconnect_max = 200ms;
  o.control_channel = "ts:test:ctl";
  looped_client c(loop, rec, o);

  c.client.subscribe("ts:{md:AAPL}", 1, 7);
  REQUIRE(wait_until([&] { return rec.has("active ts:{md:AAPL}"); }));
  REQUIRE(command_ok(c.client, rec, {"PUBLISH", "ts:{md:AAPL}", "one"}));
  REQUIRE(wait_until([&] { return rec.has("message ts:{md:AAPL} one holders 1"); }));
  CHECK(rec.index_of("active ts:{md:AAPL}") < rec.index_of("message ts:{md:AAPL} one holders 1"));

  SECTION("Redis restarted: reconnects on the same loop and the channel is confirmed again") {
    const auto before = c.client.reconnects();
    server.cli({"CLIENT", "KILL", "TYPE", "pubsub"});
    REQUIRE(wait_until([&] { return c.client.reconnects() > before && c.client.subscriber_connected(); }));
    REQUIRE(wait_until([&] {
      command_ok(c.client, rec, {"PUBLISH", "ts:{md:AAPL}", "two"});
      return rec.has("message ts:{md:AAPL} two holders 1");
    }));
  }
  SECTION("stopped on the loop's thread: commands without a reply complete with shutting_down") {
    std::atomic<int> failed{0};
    loop.on([&] {
      // Queued on the loop itself and stopped in the same turn: never sent.
      c.client.command({"BLPOP", "nothing", "5"}, [&](const common::result<common::redis_reply>& r) {
        if (!r && r.err().code == "shutting_down") ++failed;
      });
      c.client.stop();
    });
    CHECK(failed.load() == 1);
  }
  loop.end();
  c.client.stop();
  std::lock_guard lock(rec.mu);
  CHECK_FALSE(rec.off_loop);
}

TEST_CASE("a client on the caller's loop follows Sentinel's master, on that loop's thread", "[redis][sentinel]") {
  test::redis_sentinel_set set(0, 1);
  loop_thread loop;
  record rec;
  common::redis_options o;
  for (const int p : set.sentinel_ports()) o.sentinels.push_back({"127.0.0.1", p});
  o.sentinel_master = set.master_name();
  o.subscriber = true;
  o.reconnect_min = 20ms;
  o.reconnect_max = 200ms;
  o.control_channel = "ts:test:ctl";
  looped_client c(loop, rec, o);
  c.client.subscribe("ts:{md:MSFT}", 1, 1);
  REQUIRE(wait_until([&] { return rec.has("active ts:{md:MSFT}"); }, 5s));
  REQUIRE(command_ok(c.client, rec, {"PUBLISH", "ts:{md:MSFT}", "m0"}));
  REQUIRE(wait_until([&] { return rec.has("message ts:{md:MSFT} m0 holders 1"); }));
  loop.end();
  c.client.stop();  // the loop no longer runs: stopped from here
  std::lock_guard lock(rec.mu);
  CHECK_FALSE(rec.off_loop);
}

TEST_CASE("a client on the caller's loop serves a Cluster's shard channels, on that loop's thread", "[cluster]") {
  test::redis_cluster cluster(3, 0);
  loop_thread loop;
  record rec;
  common::redis_options o;
  for (const int port : cluster.ports()) o.cluster_nodes.push_back({"127.0.0.1", port});
  o.subscriber = true;
  o.reconnect_min = 20ms;
  o.reconnect_max = 200ms;
  o.control_channel = "ts:test:ctl";
  looped_client c(loop, rec, o);
  // Channels in different slots, so on different masters.
  const std::vector<std::string> channels{"ts:{md:AAPL}", "ts:{md:MSFT}", "ts:{md:TSLA}", "ts:{md:NVDA}"};
  for (const auto& ch : channels) c.client.subscribe(ch, 1, 1);
  REQUIRE(wait_until([&] {
    return std::all_of(channels.begin(), channels.end(), [&](const auto& ch) { return rec.has("active " + ch); });
  }));
  for (const auto& ch : channels) REQUIRE(command_ok(c.client, rec, {"PUBLISH", ch, "x"}));
  REQUIRE(wait_until([&] {
    return std::all_of(channels.begin(), channels.end(),
                       [&](const auto& ch) { return rec.has("message " + ch + " x holders 1"); });
  }));
  loop.end();
  c.client.stop();
  std::lock_guard lock(rec.mu);
  CHECK_FALSE(rec.off_loop);
}
