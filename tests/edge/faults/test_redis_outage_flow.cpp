// The whole tier through a Redis outage: ticks (a fake Finnhub) and private events (the signed
// webhook, retried on 503 as a backend would) flow through a real tickstream-ingest and an edge
// to real WebSocket clients while Redis is first stalled (SIGSTOP), then killed (SIGKILL) and
// restarted empty. Every private seq a client should have is either delivered in order or
// announced by a resync, and once Redis is back the tier serves again.
#include <catch2/catch.hpp>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench/ws_client.hpp"
#include "common/clock.hpp"
#include "common/event_codec.hpp"
#include "ingest/sources/webhook_signature.hpp"
#include "tests/edge/support/edge_fixture.hpp"
#include "tests/edge/support/stream_audit.hpp"
#include "tests/edge/support/user_clients.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/fake_upstream.hpp"
#include "tests/support/temp_file.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;
using namespace std::chrono_literals;
using test::wait_until;

using namespace test::audit_support;

TEST_CASE(
    "Redis stalled, then killed and restarted empty, with ticks and private events flowing, leaves no undetected gap",
    "[faults][redis][outage]") {
  test::edge_fixture fx([](edge::app_config& c) {
    c.jwt_algorithms = "HS256";
    c.jwt_hs_secret = test::user_secret;
    c.max_connects_per_ip = 0;
    c.redis_timeout_ms = 500;
  });
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
  const test::temp_file log("tickstream-outage-ingest-log");
  test::child_process ingest({TICKSTREAM_INGEST_BIN, "--finnhub-url", market.url("/?token=t"), "--finnhub-symbols",
                              "AAPL", "--webhook-listen", "127.0.0.1:" + std::to_string(webhook), "--webhook-secret",
                              std::string(secret), "--ops-listen", "127.0.0.1:" + std::to_string(ops), "--redis-port",
                              std::to_string(fx.redis.port()), "--redis-timeout-ms", "500", "--heartbeat-ms", "200"},
                             log.path());
  REQUIRE(wait_until([&] { return post(webhook, order_json(0)) == 200; }));

  std::vector<std::unique_ptr<screen>> screens;
  for (int i = 0; i < 3; ++i) {
    auto c = test::connect_as(fx.edge->port(), "trader");
    REQUIRE(c->send(R"({"type":"subscribe","channels":["orders"],"symbols":["AAPL"]})"));
    screens.push_back(std::make_unique<screen>(std::move(c)));
  }

  // A backend posting one order a time, retrying on anything but 200 as the 503 asks.
  std::atomic<int> accepted{0}, refused{0};
  std::atomic<bool> producing{true};
  std::thread backend([&] {
    for (int n = 1; producing; ++n) {
      const auto body = order_json(n);
      while (producing) {
        const auto status = post(webhook, body);
        if (status == 200) {
          ++accepted;
          break;
        }
        ++refused;
        std::this_thread::sleep_for(100ms);
      }
      std::this_thread::sleep_for(10ms);
    }
  });
  REQUIRE(wait_until([&] { return accepted.load() > 20; }));

  fx.redis.pause();  // stalled: sockets open, nothing answered
  std::this_thread::sleep_for(2500ms);
  fx.redis.resume();
  REQUIRE(wait_until([&] { return ready(ops); }));
  const auto before_kill = accepted.load();
  REQUIRE(wait_until([&] { return accepted.load() > before_kill + 10; }));

  fx.redis.restart();  // SIGKILL, and back with nothing at all
  const auto after_restart = accepted.load();
  REQUIRE(wait_until([&] { return accepted.load() > after_restart + 20; }, 15s));
  producing = false;
  backend.join();

  // The tier serves again: every client reaches the seq Redis has now, and ticks flow to it.
  std::vector<std::size_t> marks;
  for (auto& s : screens) marks.push_back(s->copy().size());
  const auto final_seq = std::stoll(fx.redis.cli({"GET", "ts:{u:trader}:seq"}));
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
  CHECK(resyncs >= static_cast<int>(screens.size()));  // Redis lost everything: each client was told
  CHECK(wait_until([&] { return ready(fx.edge->port()) && ready(ops); }, 10s));
  WARN("outage figures: " << accepted.load() << " requests accepted, " << refused.load()
                          << " answered 503 and retried, " << resyncs << " resyncs over " << screens.size()
                          << " clients, final seq " << final_seq);
  done = true;
}
