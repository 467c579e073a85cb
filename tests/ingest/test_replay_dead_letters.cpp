// A replay that ends with bad input: tickstream-ingest exits only once Redis holds every dead
// letter, as it does for every event (real redis-server, the real binary).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "tests/support/child_process.hpp"
#include "tests/support/redis_server.hpp"

using namespace tickstream;
using namespace std::chrono_literals;

TEST_CASE("a replay keeps every dead letter, up to its last line, before it exits", "[replay][dead_letters]") {
  test::redis_server redis;
  char path[] = "/tmp/tickstream-dead-XXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  ::close(fd);
  constexpr int good = 100, bad = 300;
  {
    std::ofstream out(path);
    for (int i = 0; i < good; ++i) {
      out << R"({"type":"price_update","symbol":"AAPL","price":)" << 100 + i
          << R"(.25,"size":1,"timestamp":"2026-11-20T14:30:00.000000Z","recv_us":)" << 1795185000000000LL + i
          << R"(,"source":"test"})" << "\n";
    }
    // The bad lines come last: nothing published after them could hold the exit back.
    for (int i = 0; i < bad; ++i) out << "{not json " << i << "\n";
  }
  const std::string log = std::string(path) + ".log";
  test::child_process ingest({TICKSTREAM_INGEST_BIN, "--input", path, "--speed", "max", "--redis-port",
                              std::to_string(redis.port())},
                             log);
  const auto status = ingest.wait(30s);
  REQUIRE(status);
  CHECK(*status == 0);
  // Read at once after the exit: nothing may still be on its way.
  CHECK(redis.cli({"XLEN", "ts:dead"}) == std::to_string(bad) + "\n");
  CHECK(redis.cli({"GET", "ts:{md:AAPL}:last"}).find("\"price\":199.25") != std::string::npos);
  std::ifstream in(log);
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  CHECK(text.find("invalid_lines=" + std::to_string(bad)) != std::string::npos);
  CHECK(text.find("keeping a dead letter failed") == std::string::npos);
  std::remove(path);
  std::remove(log.c_str());
}
