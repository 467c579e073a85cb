// Source adapters against local fake upstreams speaking the providers' protocols over real
// WebSocket on loopback.
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ingest/normalize/source_protocol.hpp"
#include "ingest/sources/ws_source.hpp"
#include "tests/support/fake_upstream.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;
using namespace std::chrono_literals;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using test::fake_upstream;
using test::upstream_connection;
using test::wait_until;

namespace {

// Runs a source on its own io_context thread and records what it delivers.
struct source_runner {
  net::io_context ioc;
  std::mutex mu;
  std::vector<ingest::normalized> received;
  std::unique_ptr<ingest::ws_source> source;
  std::thread thread;

  source_runner(const std::string& url, std::unique_ptr<ingest::source_protocol> p) {
    ingest::source_options o;
    o.url = url;
    o.reconnect_min = 100ms;
    o.reconnect_max = 400ms;
    source = std::make_unique<ingest::ws_source>(
        ioc, o, std::move(p), [this](const std::string&, std::int64_t, std::string_view, ingest::normalized&& n) {
          std::lock_guard lock(mu);
          received.push_back(std::move(n));
        });
    source->start();
    thread = std::thread([this] {
      auto guard = net::make_work_guard(ioc);
      ioc.run();
    });
  }
  ~source_runner() {
    net::post(ioc, [this] { source->stop(); });
    ioc.stop();
    thread.join();
  }
  std::size_t event_count() {
    std::lock_guard lock(mu);
    std::size_t n = 0;
    for (const auto& r : received) n += r.events.size();
    return n;
  }
};

}  // namespace

TEST_CASE("a Finnhub source subscribes, receives trades, and re-subscribes after the upstream drops", "[source]") {
  std::mutex mu;
  std::vector<std::string> subscribes;
  fake_upstream upstream([&](upstream_connection& ws, int index) {
    for (int i = 0; i < 2; ++i) {
      const auto msg = ws.read_text();
      std::lock_guard lock(mu);
      subscribes.push_back(msg);
    }
    ws.text(true);
    ws.write(R"({"type":"ping"})");
    ws.write(R"({"type":"trade","data":[{"s":"AAPL","p":150.25,"t":1672348887195,"v":)" + std::to_string(index + 1) +
             "}]}");
    if (index == 0) {
      ws.drop();  // drop the first connection abruptly
      return;
    }
    ws.read_text();  // keep the second one open until the client goes
  });
  source_runner runner(upstream.url("/?token=secret"), ingest::make_finnhub_protocol({"AAPL", "MSFT"}));
  REQUIRE(wait_until([&] { return runner.event_count() == 2; }));
  CHECK(upstream.connections() == 2);
  std::lock_guard lock(mu);
  CHECK(subscribes ==
        std::vector<std::string>{R"({"type":"subscribe","symbol":"AAPL"})", R"({"type":"subscribe","symbol":"MSFT"})",
                                 R"({"type":"subscribe","symbol":"AAPL"})", R"({"type":"subscribe","symbol":"MSFT"})"});
  CHECK(runner.source->reconnects() >= 1);
}

TEST_CASE("an Alpaca trading source authenticates and listens, and a refused auth backs off instead of spinning",
          "[source]") {
  std::atomic<int> auths{0};
  fake_upstream upstream([&](upstream_connection& ws, int index) {
    const auto auth = ws.read_text();
    REQUIRE(auth == R"({"action":"auth","key":"k","secret":"s"})");
    ++auths;
    ws.binary(true);  // Alpaca's trading stream sends binary frames
    if (index < 2) {
      ws.write(R"({"stream":"authorization","data":{"action":"authenticate","status":"unauthorized"}})");
      ws.read_text();  // the client should close now
      return;
    }
    ws.write(R"({"stream":"authorization","data":{"action":"authenticate","status":"authorized"}})");
    CHECK(ws.read_text() == R"({"action":"listen","data":{"streams":["trade_updates"]}})");
    ws.write(R"({"stream":"listening","data":{"streams":["trade_updates"]}})");
    ws.write(std::string(
        R"({"stream":"trade_updates","data":{"event":"new","order":{"id":"b-1","client_order_id":"o-1","symbol":"AAPL",)"
        R"("side":"buy","order_type":"market","status":"new","qty":"1","filled_qty":"0","submitted_at":"2026-11-20T14:30:00Z"},)"
        R"("timestamp":"2026-11-20T14:30:00Z"}})"));
    ws.read_text();
  });
  const auto start = std::chrono::steady_clock::now();
  source_runner runner(upstream.url("/stream"), ingest::make_alpaca_trading_protocol("k", "s", "u-1"));
  REQUIRE(wait_until([&] { return runner.event_count() == 1; }));
  // Two refusals then success: with backoff the third attempt cannot come before ~100 + 200 ms
  // of waiting (half-jittered: at least 50 + 100 ms).
  CHECK(std::chrono::steady_clock::now() - start >= 150ms);
  CHECK(auths.load() == 3);
  std::lock_guard lock(runner.mu);
  int refused = 0;
  for (const auto& r : runner.received) {
    for (const auto& p : r.problems) refused += p.code == "auth_refused" ? 1 : 0;
  }
  CHECK(refused == 2);
}

TEST_CASE("an Alpaca market data source waits for 'connected', authenticates, then subscribes", "[source]") {
  std::mutex mu;
  std::vector<std::string> got;
  fake_upstream upstream([&](upstream_connection& ws, int) {
    ws.text(true);
    ws.write(R"([{"T":"success","msg":"connected"}])");
    {
      std::lock_guard lock(mu);
      got.push_back(ws.read_text());
    }
    ws.write(R"([{"T":"success","msg":"authenticated"}])");
    {
      std::lock_guard lock(mu);
      got.push_back(ws.read_text());
    }
    ws.write(R"([{"T":"subscription","trades":["AAPL"],"quotes":["AAPL"],"bars":[]}])");
    ws.write(std::string(R"([{"T":"q","S":"AAPL","bp":150.20,"bs":1,"ap":150.30,"as":4,"t":"2026-11-20T14:30:00.1Z"},)"
                         R"({"T":"t","S":"AAPL","p":150.25,"s":100,"t":"2026-11-20T14:30:00.2Z"}])"));
    ws.read_text();
  });
  source_runner runner(upstream.url("/v2/iex"), ingest::make_alpaca_market_protocol("k", "s", {"AAPL"}));
  REQUIRE(wait_until([&] { return runner.event_count() == 1; }));
  std::lock_guard lock(mu);
  CHECK(got == std::vector<std::string>{R"({"action":"auth","key":"k","secret":"s"})",
                                        R"({"action":"subscribe","trades":["AAPL"],"quotes":["AAPL"]})"});
}
