// A replay that ends with bad input: tickstream-ingest exits only once Redis holds every dead
// letter, as it does for every event (real redis-server, the real binary).
#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "tests/support/ingest_replay.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_file.hpp"

using namespace tickstream;

TEST_CASE("a replay keeps every dead letter, up to its last line, before it exits", "[replay][dead_letters]") {
  test::redis_server redis;
  const test::temp_file capture("tickstream-dead");
  constexpr int good = 100, bad = 300;
  {
    std::ofstream out(capture.path());
    for (int i = 0; i < good; ++i) {
      out << R"({"type":"price_update","symbol":"AAPL","price":)" << 100 + i
          << R"(.25,"size":1,"timestamp":"2026-11-20T14:30:00.000000Z","recv_us":)" << 1795185000000000LL + i
          << R"(,"source":"test"})"
          << "\n";
    }
    // The bad lines come last: nothing published after them could hold the exit back.
    for (int i = 0; i < bad; ++i) out << "{not json " << i << "\n";
  }
  const test::temp_file log("tickstream-dead-log");
  CHECK(test::replay_capture(redis.port(), capture.path(), log.path()) == 0);
  // Read at once after the exit: nothing may still be on its way.
  CHECK(redis.cli({"XLEN", "ts:dead"}) == std::to_string(bad) + "\n");
  CHECK(redis.cli({"GET", "ts:{md:AAPL}:last"}).find("\"price\":199.25") != std::string::npos);
  const auto text = log.text();
  CHECK(text.find("invalid_lines=" + std::to_string(bad)) != std::string::npos);
  CHECK(text.find("keeping a dead letter failed") == std::string::npos);
}
