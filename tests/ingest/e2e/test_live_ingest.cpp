// tickstream-ingest in live mode against a fake Finnhub upstream, with a real redis-server: ticks
// published, liveness on ts:sys, the raw capture recorded, and its replay yielding the same ticks.
#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#include "common/event_codec.hpp"
#include "common/redis/redis_client.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/fake_upstream.hpp"
#include "tests/support/ingest_replay.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_file.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;
using namespace std::chrono_literals;
using test::wait_until;

TEST_CASE("live Finnhub ticks are published, captured, and replay to the same ticks", "[live]") {
  test::redis_server redis;
  std::mutex mu;
  std::vector<common::price_update> ticks;
  common::redis_options so;
  so.port = redis.port();
  so.subscriber = true;
  common::redis_client sub(so, [&](std::string_view, std::string_view payload) {
    auto ev = common::decode_event(payload);
    if (!ev) return;
    std::lock_guard lock(mu);
    ticks.push_back(std::get<common::price_update>(ev.value()));
  });
  std::atomic<bool> active{false};
  sub.set_activation_handler([&](const common::channel_activation&) { active = true; });
  sub.start();
  sub.subscribe("ts:{md:AAPL}", 1);
  REQUIRE(wait_until([&] { return active.load(); }));

  test::fake_upstream upstream([&redis](test::upstream_connection& ws, int) {
    REQUIRE(ws.read_text() == R"({"type":"subscribe","symbol":"AAPL"})");
    // The trades go once ingest's heartbeat shows it can reach Redis: ticks that arrive while
    // Redis is not usable yet are conflated to the latest per symbol (by design), and this test
    // is about every tick.
    (void)wait_until([&] {
      return redis.cli({"GET", "ts:sys:source:finnhub"}).find(R"("connected":true)") != std::string::npos;
    });
    ws.text(true);
    for (int i = 1; i <= 3; ++i) {
      ws.write(R"({"type":"trade","data":[{"s":"AAPL","p":150.2)" + std::to_string(i) + R"(,"t":1795185000000,"v":)" +
               std::to_string(i * 100) + "}]}");
    }
    ws.write(R"({"type":"trade","data":[{"s":"AAPL","p":"x"}]})");
    ws.read_text();  // until the client goes
  });
  const test::temp_file capture("tickstream-live-capture");  // ingest appends to it
  const test::temp_file log("tickstream-ingest-log");
  const test::temp_file replay_log("tickstream-replay-log");
  {
    test::child_process ingest(
        {TICKSTREAM_INGEST_BIN, "--finnhub-url", upstream.url("/?token=sekrit"), "--finnhub-symbols", "aapl",
         "--capture", capture.path(), "--redis-port", std::to_string(redis.port()), "--heartbeat-ms", "200"},
        log.path());
    REQUIRE(wait_until([&] {
      std::lock_guard lock(mu);
      return ticks.size() == 3;
    }));
    REQUIRE(wait_until([&] {
      return redis.cli({"GET", "ts:sys:source:finnhub"}).find(R"("connected":true)") != std::string::npos;
    }));
    ingest.signal(SIGTERM);
    const auto status = ingest.wait(10s);
    REQUIRE(status);
    CHECK(*status == 0);
  }
  const auto ingest_log = log.text();
  CHECK(ingest_log.find("sekrit") == std::string::npos);  // the token never reaches a log
  CHECK(ingest_log.find("code=invalid_trade") != std::string::npos);
  CHECK(redis.cli({"XLEN", "ts:dead"}) == "1\n");
  // The capture holds every raw message, the broken one included.
  const auto recorded = capture.text();
  CHECK(std::count(recorded.begin(), recorded.end(), '\n') == 4);

  // Replaying the capture goes through the same normalizer and gives the same ticks.
  CHECK(test::replay_capture(redis.port(), capture.path(), replay_log.path()) == 0);
  REQUIRE(wait_until([&] {
    std::lock_guard lock(mu);
    return ticks.size() == 6;
  }));
  std::lock_guard lock(mu);
  for (int i = 0; i < 3; ++i) {
    const auto& live = ticks[static_cast<std::size_t>(i)];
    const auto& again = ticks[static_cast<std::size_t>(i + 3)];
    CHECK(again.symbol == live.symbol);
    CHECK(again.price == live.price);
    CHECK(again.size == live.size);
    CHECK(again.source == "finnhub");
    // The source-to-receive lag is kept by the time shift.
    CHECK(again.recv_time_us - again.source_time_us == live.recv_time_us - live.source_time_us);
  }
  CHECK(ticks[2].price == "150.23");
}
