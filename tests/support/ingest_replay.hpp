#pragma once
// Replays a capture through the real tickstream-ingest at full speed and waits for it to exit.
// For test executables built with TICKSTREAM_INGEST_BIN (the binary's path).

#ifndef TICKSTREAM_INGEST_BIN
#error "tests/support/ingest_replay.hpp needs TICKSTREAM_INGEST_BIN (the tickstream-ingest binary)"
#endif

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"

namespace tickstream::test {

// Returns ingest's exit status; its output goes to log. Fails the test if it runs past 30 s.
inline int replay_capture(int redis_port, const std::string& capture, const std::string& log,
                          const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {TICKSTREAM_INGEST_BIN,     "--input", capture, "--speed", "max", "--redis-port",
                                   std::to_string(redis_port)};
  args.insert(args.end(), extra.begin(), extra.end());
  child_process ingest(args, log);
  const auto status = ingest.wait(std::chrono::seconds(30));
  REQUIRE(status);
  return *status;
}

}  // namespace tickstream::test
