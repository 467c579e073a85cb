// A source that stays connected but sends nothing is stale to its clients after its silence
// threshold, exactly as one that disconnects, and fresh again once it speaks (real ingest and
// edge, a fake Finnhub over a real WebSocket, real redis-server).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "common/clock.hpp"
#include "tests/edge/support/edge_fixture.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/fake_upstream.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;
using namespace std::chrono_literals;

namespace {

std::string trade(double price) {
  return R"({"type":"trade","data":[{"s":"AAPL","p":)" + std::to_string(price) + R"(,"t":)" +
         std::to_string(common::now_us() / 1000) + R"(,"v":1}]})";
}

// Reads frames until one of type `type` arrives; returns it, or nothing past the timeout.
std::optional<std::string> until_type(client::ws_client& c, const std::string& type,
                                      std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto f = c.next(100ms);
    if (f && test::type_of(*f) == type) return f;
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("a source connected but silent past its threshold is stale to its clients, fresh when it speaks",
          "[stale][silence]") {
  test::edge_fixture fx([](edge::app_config& c) { c.stale_after_ms = 1000; });
  std::atomic<int> speak{0};  // trades the upstream is asked to send
  std::atomic<bool> done{false};
  auto market = std::make_unique<test::fake_upstream>([&](test::upstream_connection& ws, int) {
    ws.read_text();  // the subscribe
    ws.text(true);
    int sent = 0;
    while (!done) {
      // Connected all along; it only speaks when told (it does not even answer pings, which
      // ingest sends only after half a minute of nothing).
      if (sent < speak.load()) {
        ws.write(trade(190.5 + sent));
        ++sent;
      }
      std::this_thread::sleep_for(10ms);
    }
  });
  speak = 1;
  test::child_process ingest({TICKSTREAM_INGEST_BIN, "--finnhub-url", market->url("/?token=t"), "--finnhub-symbols",
                              "AAPL", "--redis-port", std::to_string(fx.redis.port()), "--heartbeat-ms", "100",
                              "--finnhub-silence-ms", "800", "--market-hours", "always"},
                             "quiet-source-ingest.log");
  auto watcher = fx.connect();
  test::subscribe(*watcher, R"(["AAPL"])");
  REQUIRE(until_type(*watcher, "price_update", 10s));

  // Silent from here: 0.8 s of nothing makes ingest report it silent, 1 s of silent heartbeats
  // makes the edge call it stale, as for a disconnected source.
  const auto quiet_from = std::chrono::steady_clock::now();
  auto stale = until_type(*watcher, "stale", 10s);
  REQUIRE(stale);
  const auto took = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - quiet_from).count();
  CHECK(std::string(test::parse(*stale)["source"].GetString()) == "finnhub");
  CHECK(took >= 1000);
  WARN("stale " << took << " ms after the last message (silence 800 ms + edge stale-after 1000 ms)");
  CHECK(fx.redis.cli({"GET", "ts:sys:source:finnhub"}).find(R"("connected":true,"silent":true)") != std::string::npos);

  // It speaks again: fresh, and the tick flows.
  speak = 2;
  REQUIRE(until_type(*watcher, "fresh", 10s));
  CHECK(fx.redis.cli({"GET", "ts:sys:source:finnhub"}).find(R"("silent":false)") != std::string::npos);
  done = true;
}
