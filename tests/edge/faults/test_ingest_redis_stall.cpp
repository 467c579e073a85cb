// Ingest never blocks on a stalled Redis (SIGSTOP: its socket stays open and answers nothing):
// /readyz says so, the webhook answers 503 within --redis-timeout-ms so its sender retries, ticks
// wait conflated per symbol and are dropped rather than published too old, and SIGTERM exits
// within 2 s. A Redis that refuses writes (OOM) is counted and logged as it happens, and a replay
// that could not store everything exits non-zero with the count. Real redis-server, the real
// tickstream-ingest, a fake Finnhub over a real WebSocket.
#include <catch2/catch.hpp>

#include <signal.h>

#include <rapidjson/document.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench/ws_client.hpp"
#include "common/clock.hpp"
#include "common/redis/redis_client.hpp"
#include "ingest/sources/webhook_signature.hpp"
#include "tests/edge/support/edge_fixture.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/fake_upstream.hpp"
#include "tests/support/ingest_replay.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_file.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;
using namespace std::chrono_literals;
using test::wait_until;

namespace {

using clock_type = std::chrono::steady_clock;
constexpr std::string_view secret = "a-long-shared-secret";

double ms_since(clock_type::time_point t) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t).count();
}

std::string account_event(const std::string& user, int n) {
  return R"({"type":"account_update","userId":")" + user + R"(","timestamp":"2026-11-20T14:30:00.000Z","recv_us":)" +
         std::to_string(common::now_us()) + R"(,"source":"app","data":{"equity":")" + std::to_string(100000 + n) +
         R"(.00","buyingPower":"50.00","cash":"50.00","portfolioValue":"100.00","dayPnl":"0.00","dayPnlPercent":"0.00"}})";
}

client::http_reply post_events(int port, const std::string& body, std::chrono::milliseconds timeout = 10s) {
  const auto ts = common::now_us() / 1'000'000;
  auto r = client::http_request("127.0.0.1", std::to_string(port), "POST", "/v1/events", timeout,
                                {{"X-Tickstream-Timestamp", std::to_string(ts)},
                                 {"X-Tickstream-Signature", ingest::sign_webhook(secret, ts, body)},
                                 {"Content-Type", "application/json"}},
                                body);
  REQUIRE(r.ok());
  return std::move(r).value();
}

client::http_reply get(int port, const std::string& path) {
  auto r = client::http_get("127.0.0.1", std::to_string(port), path, 5s);
  REQUIRE(r.ok());
  return std::move(r).value();
}

// The value of a labelled (or unlabelled) series in an exposition, or -1.
double series(const std::string& exposition, const std::string& name) {
  const auto at = exposition.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(exposition.substr(at + name.size() + 2));
}

// Every tick heard on a symbol's channel, with its age when it arrived (µs since ingest got it).
struct tick_listener {
  std::mutex mu;
  std::vector<std::pair<std::int64_t, std::int64_t>> heard;  // (recv_us, arrival µs)
  common::redis_client redis;

  explicit tick_listener(int port)
      : redis(
            [port] {
              common::redis_options o;
              o.port = port;
              o.subscriber = true;
              o.name = "test-listener";
              return o;
            }(),
            [this](std::string_view, std::string_view payload) {
              rapidjson::Document d;
              d.Parse(payload.data(), payload.size());
              if (d.HasParseError() || !d.HasMember("recv_us")) return;
              std::lock_guard lock(mu);
              heard.emplace_back(d["recv_us"].GetInt64(), common::now_us());
            }) {
    redis.start();
    redis.subscribe("ts:{md:AAPL}");
  }
  std::size_t count() {
    std::lock_guard lock(mu);
    return heard.size();
  }
};

}  // namespace

TEST_CASE("ingest during a Redis stall: not ready, webhook 503 within the timeout, no stale tick, SIGTERM in 2 s",
          "[faults][redis][ingest]") {
  test::redis_server redis;
  std::atomic<bool> ticking{true};
  std::atomic<bool> done{false};
  test::fake_upstream market([&](test::upstream_connection& ws, int) {
    ws.read_text();
    ws.text(true);
    for (int n = 0; !done; ++n) {
      if (ticking) {
        ws.write(R"({"type":"trade","data":[{"s":"AAPL","p":)" + std::to_string(190 + n % 50) + R"(.25,"t":)" +
                 std::to_string(common::now_us() / 1000) + R"(,"v":1}]})");
      }
      std::this_thread::sleep_for(10ms);
    }
  });
  const int webhook = test::free_port();
  const int ops = test::free_port();
  const test::temp_file log("tickstream-ingest-stall-log");
  test::child_process ingest(
      {TICKSTREAM_INGEST_BIN, "--finnhub-url", market.url("/?token=t"), "--finnhub-symbols", "AAPL", "--webhook-listen",
       "127.0.0.1:" + std::to_string(webhook), "--webhook-secret", std::string(secret), "--ops-listen",
       "127.0.0.1:" + std::to_string(ops), "--redis-port", std::to_string(redis.port()), "--redis-timeout-ms", "500",
       "--max-tick-age-ms", "1000", "--heartbeat-ms", "200"},
      log.path());
  tick_listener listener(redis.port());
  REQUIRE(wait_until([&] { return listener.count() > 5; }));
  REQUIRE(get(ops, "/readyz").status == 200);
  REQUIRE(post_events(webhook, account_event("u-1", 0)).status == 200);

  redis.pause();
  const auto stalled_at = clock_type::now();
  const auto stalled_us = common::now_us();
  // The first request may be taken before the stall is noticed: it is answered 503 at the
  // deadline. Either way, within the timeout plus a loaded machine's slack.
  std::vector<double> answer_ms;
  for (int i = 1; i <= 3; ++i) {
    const auto t = clock_type::now();
    const auto r = post_events(webhook, account_event("u-1", i));
    answer_ms.push_back(ms_since(t));
    CHECK(r.status == 503);
    CHECK(r.header("Retry-After") == "1");
  }
  REQUIRE(wait_until([&] { return get(ops, "/readyz").status == 503; }, 5s));
  const auto not_ready_ms = ms_since(stalled_at);
  CHECK(get(ops, "/readyz").body.find("redis_stalled") != std::string::npos);
  const auto worst = *std::max_element(answer_ms.begin(), answer_ms.end());
  CHECK(worst < 500 + 1000);
  CHECK(get(ops, "/healthz").status == 200);  // alive, and its ops thread is not blocked either

  // Ticks keep arriving for 1 s of the stall (conflated: one waits), then stop, so the waiting
  // tick is over --max-tick-age-ms when Redis comes back: dropped, not published late.
  std::this_thread::sleep_for(1s);
  ticking = false;
  const auto last_tick_us = common::now_us();
  std::this_thread::sleep_for(1500ms);
  const auto heard_before = listener.count();
  redis.resume();
  REQUIRE(wait_until([&] { return get(ops, "/readyz").status == 200; }, 10s));
  const auto metrics = get(ops, "/metrics").body;
  CHECK(series(metrics, R"(tickstream_ingest_ticks_dropped_total{reason="conflated"})") > 10);
  CHECK(series(metrics, R"(tickstream_ingest_ticks_dropped_total{reason="too_old"})") >= 1);
  CHECK(series(metrics, "tickstream_ingest_publish_errors_total") == 0);
  // What reaches Redis after the stall is only what was handed to it before the stall was
  // noticed (within --redis-timeout-ms of its start), nothing received later.
  std::this_thread::sleep_for(300ms);
  std::size_t late = 0;
  std::int64_t newest_late_recv = 0;
  {
    std::lock_guard lock(listener.mu);
    for (std::size_t i = heard_before; i < listener.heard.size(); ++i) {
      ++late;
      newest_late_recv = std::max(newest_late_recv, listener.heard[i].first);
    }
  }
  if (late > 0) CHECK(newest_late_recv - stalled_us < 500'000 + 1'000'000);
  CHECK(newest_late_recv < last_tick_us - 500'000);
  WARN("stall figures: webhook answered 503 after at most "
       << worst << " ms (timeout 500 ms), /readyz 503 " << not_ready_ms << " ms into the stall, " << late
       << " ticks handed to Redis in the first " << (late > 0 ? (newest_late_recv - stalled_us) / 1000 : 0)
       << " ms of the stall went out late");

  // Ticks flow again, fresh.
  ticking = true;
  const auto resumed = listener.count();
  REQUIRE(wait_until([&] { return listener.count() > resumed + 5; }, 10s));
  {
    std::lock_guard lock(listener.mu);
    const auto& [recv, at] = listener.heard.back();
    CHECK(at - recv < 1'000'000);
  }
  REQUIRE(post_events(webhook, account_event("u-1", 9)).status == 200);

  // Stalled again, with private events waiting: SIGTERM still exits within 2 s.
  redis.pause();
  (void)post_events(webhook, account_event("u-1", 10));
  const auto t = clock_type::now();
  ingest.signal(SIGTERM);
  const auto status = ingest.wait(5s);
  const auto exit_ms = ms_since(t);
  REQUIRE(status);
  CHECK(exit_ms < 2000);
  CHECK(*status == 1);  // events were left unstored: said by the status and the log
  WARN("SIGTERM during a stall: exit after " << exit_ms << " ms, status " << *status);
  redis.resume();
  done = true;
  const auto text = log.text();
  CHECK(text.find("stopping before Redis took every event") != std::string::npos);
}

TEST_CASE("a Redis that refuses writes (OOM) is counted and logged at once, and a replay exits non-zero",
          "[faults][redis][ingest]") {
  test::redis_server redis;
  SECTION("live: the counter moves while ingest runs") {
    const int webhook = test::free_port();
    const int ops = test::free_port();
    const test::temp_file log("tickstream-ingest-oom-log");
    test::child_process ingest({TICKSTREAM_INGEST_BIN, "--webhook-listen", "127.0.0.1:" + std::to_string(webhook),
                                "--webhook-secret", std::string(secret), "--ops-listen",
                                "127.0.0.1:" + std::to_string(ops), "--redis-port", std::to_string(redis.port())},
                               log.path());
    REQUIRE(wait_until([&] { return client::http_get("127.0.0.1", std::to_string(ops), "/healthz", 1s).ok(); }));
    REQUIRE(wait_until([&] { return get(ops, "/readyz").status == 200; }));
    redis.cli({"CONFIG", "SET", "maxmemory", "1"});
    const auto r = post_events(webhook, account_event("u-oom", 1));
    CHECK(r.status == 503);
    CHECK(series(get(ops, "/metrics").body, "tickstream_ingest_publish_errors_total") == 1);
    REQUIRE(wait_until([&] { return log.text().find("OOM") != std::string::npos; }, 5s));
    CHECK(log.text().find("storing a private event failed") != std::string::npos);
    redis.cli({"CONFIG", "SET", "maxmemory", "0"});
    CHECK(post_events(webhook, account_event("u-oom", 2)).status == 200);
  }
  SECTION("replay: the last-tick key refused, exit 1 with the count") {
    const test::temp_file capture("tickstream-oom-capture");
    {
      std::ofstream out(capture.path());
      for (int i = 0; i < 20; ++i) {
        out << R"({"type":"price_update","symbol":"AAPL","price":)" << 100 + i
            << R"(.25,"size":1,"timestamp":"2026-11-20T14:30:00.000000Z","recv_us":)" << 1795185000000000LL + i
            << R"(,"source":"test"})"
            << "\n";
      }
    }
    redis.cli({"CONFIG", "SET", "maxmemory", "1"});
    const test::temp_file log("tickstream-oom-replay-log");
    CHECK(test::replay_capture(redis.port(), capture.path(), log.path()) == 1);
    const auto text = log.text();
    CHECK(text.find("publish_failures=20") != std::string::npos);
    CHECK(text.find("OOM") != std::string::npos);
    redis.cli({"CONFIG", "SET", "maxmemory", "0"});
    CHECK(redis.cli({"EXISTS", "ts:{md:AAPL}:last"}) == "0\n");
  }
}
