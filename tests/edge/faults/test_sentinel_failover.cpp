// The whole tier through a Sentinel failover: ticks (a fake Finnhub) and private events (the
// signed webhook, retried on 503 as a backend would) flow through a real tickstream-ingest and a
// real tickstream-edge, both given a redis+sentinel:// URL, to WebSocket clients, while the master
// is killed (SIGKILL) and the sentinels promote its replica, twice. The edge is not ready while it has no
// working subscriber and ready again once it follows the new master; every client's private
// stream goes on without a gap or is told resync; ticks resume.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/ws_client.hpp"
#include "common/clock.hpp"
#include "tests/edge/support/stream_audit.hpp"
#include "tests/edge/support/user_clients.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/fake_upstream.hpp"
#include "tests/support/redis_process.hpp"
#include "tests/support/redis_sentinel.hpp"
#include "tests/support/temp_file.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;
using namespace std::chrono_literals;
using namespace test::audit_support;
using test::wait_until;

namespace {

using steady = std::chrono::steady_clock;

long long ms_between(steady::time_point a, steady::time_point b) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
}

// The edge's /readyz status every 20 ms, with the time of each change.
struct readiness_log {
  std::mutex mu;
  std::vector<std::pair<steady::time_point, bool>> changes;
  std::atomic<bool> stop{false};
  std::thread poller;

  explicit readiness_log(int port) {
    poller = std::thread([this, port] {
      std::optional<bool> last;
      while (!stop) {
        const bool now = ready(port);
        if (now != last) {
          std::lock_guard lock(mu);
          changes.emplace_back(steady::now(), now);
          last = now;
        }
        std::this_thread::sleep_for(20ms);
      }
    });
  }
  ~readiness_log() {
    stop = true;
    poller.join();
  }
  // The first change to `to` at or after t.
  std::optional<steady::time_point> first(bool to, steady::time_point t) {
    std::lock_guard lock(mu);
    for (const auto& [when, status] : changes) {
      if (when >= t && status == to) return when;
    }
    return std::nullopt;
  }
};

}  // namespace

TEST_CASE("a Sentinel failover under load leaves no undetected gap and the edge follows the new master",
          "[faults][redis][sentinel]") {
  test::redis_sentinel_set redis(1, 3);
  REQUIRE(redis.master_port() == redis.node_ports()[0]);

  std::atomic<bool> done{false};
  test::fake_upstream market([&](test::upstream_connection& ws, int) {
    ws.read_text();
    ws.text(true);
    for (int n = 0; !done; ++n) {
      ws.write(R"({"type":"trade","data":[{"s":"AAPL","p":)" + std::to_string(190 + n % 50) + R"(.25,"t":)" +
               std::to_string(common::now_us() / 1000) + R"(,"v":1}]})");
      std::this_thread::sleep_for(20ms);
    }
  });
  const int webhook = test::free_port();
  const int ops = test::free_port();
  const test::temp_file log("tickstream-sentinel-ingest-log");
  test::child_process ingest({TICKSTREAM_INGEST_BIN, "--finnhub-url", market.url("/?token=t"), "--finnhub-symbols",
                              "AAPL", "--webhook-listen", "127.0.0.1:" + std::to_string(webhook), "--webhook-secret",
                              std::string(secret), "--ops-listen", "127.0.0.1:" + std::to_string(ops), "--redis-url",
                              redis.url(), "--redis-timeout-ms", "500", "--heartbeat-ms", "200"},
                             log.path());
  test::edge_process edge(redis.node_ports()[0], "sentinel-edge",  // (the URL wins over the port)
                          {"--redis-url", redis.url(), "--redis-timeout-ms", "500", "--probe-interval-ms", "100"});
  REQUIRE(wait_until([&] { return ready(edge.port) && ready(ops); }));
  REQUIRE(wait_until([&] { return post(webhook, order_json(0)) == 200; }));

  std::vector<std::unique_ptr<screen>> screens;
  for (int i = 0; i < 3; ++i) {
    auto c = test::connect_as(edge.port, "trader");
    REQUIRE(c->send(R"({"type":"subscribe","channels":["orders"],"symbols":["AAPL"]})"));
    screens.push_back(std::make_unique<screen>(std::move(c)));
  }

  std::atomic<int> accepted{0}, refused{0};
  std::atomic<bool> producing{true};
  std::thread backend([&] {
    for (int n = 1; producing; ++n) {
      const auto body = order_json(n);
      while (producing) {
        if (post(webhook, body) == 200) {
          ++accepted;
          break;
        }
        ++refused;
        std::this_thread::sleep_for(50ms);
      }
      std::this_thread::sleep_for(10ms);
    }
  });
  // A failed REQUIRE below must report its line, not abort on a joinable thread.
  struct stop_backend {
    std::atomic<bool>& producing;
    std::thread& thread;
    ~stop_backend() {
      producing = false;
      if (thread.joinable()) thread.join();
    }
  } stop_on_exit{producing, backend};
  REQUIRE(wait_until([&] { return accepted.load() > 20; }));
  readiness_log readiness(edge.port);
  REQUIRE(wait_until([&] { return readiness.first(true, steady::time_point{}).has_value(); }));

  // Two failovers: the master is killed and its replica promoted; the old master comes back
  // empty as a replica of the new one, and the new one is killed in turn.
  std::vector<std::size_t> marks;
  std::string figures;
  for (int round = 0; round < 2; ++round) {
    INFO("failover " << round + 1);
    const int master = redis.master_port();
    const int replica = master == redis.node_ports()[0] ? redis.node_ports()[1] : redis.node_ports()[0];
    const auto killed = steady::now();
    const auto accepted_at_kill = accepted.load();
    redis.kill_node(master);
    // The edge has no working subscriber: not ready. What reached the clients by then is the mark
    // after which ticks must resume.
    REQUIRE(wait_until([&] { return readiness.first(false, killed).has_value(); }, 5s));
    marks.clear();
    for (auto& s : screens) marks.push_back(s->copy().size());
    REQUIRE(wait_until([&] { return walk(screens[0]->copy(), marks[0]).ticks_after > 0; }, 15s));
    const auto ticks_back = steady::now();
    REQUIRE(wait_until([&] { return ready(edge.port); }, 10s));
    REQUIRE(wait_until([&] { return accepted.load() > accepted_at_kill + 10; }, 15s));
    CHECK(redis.master_port() == replica);
    const auto not_ready = readiness.first(false, killed);
    const auto ready_again = readiness.first(true, *not_ready);
    REQUIRE(ready_again);
    figures += "failover " + std::to_string(round + 1) + ": edge not ready " +
               std::to_string(ms_between(killed, *not_ready)) + " ms after the kill, ready again after " +
               std::to_string(ms_between(killed, *ready_again)) + " ms, ticks back after " +
               std::to_string(ms_between(killed, ticks_back)) + " ms; ";
    if (round == 0) redis.restart_node(master);
  }
  producing = false;
  backend.join();

  // Every client reaches the seq the master holds now, without an undetected gap.
  const auto final_seq = std::stoll(test::redis_cli(redis.master_port(), {"GET", "ts:{u:trader}:seq"}));
  REQUIRE(final_seq > 0);
  int resyncs = 0;
  for (std::size_t i = 0; i < screens.size(); ++i) {
    INFO("client " << i);
    REQUIRE(wait_until([&] { return walk(screens[i]->copy(), 0).last_seq >= final_seq; }, 10s));
    REQUIRE(wait_until([&] { return walk(screens[i]->copy(), marks[i]).ticks_after > 3; }, 10s));
    const auto a = walk(screens[i]->copy(), 0);
    CHECK(a.gaps == 0);
    CHECK(a.last_seq == final_seq);
    resyncs += a.resyncs;
  }
  REQUIRE(wait_until([&] { return ready(edge.port) && ready(ops); }, 10s));
  WARN("sentinel failover figures: " << figures << accepted.load() << " orders accepted, " << refused.load()
                                     << " answered 503 and retried, " << resyncs << " resyncs over " << screens.size()
                                     << " clients, final seq " << final_seq);
  done = true;
}
