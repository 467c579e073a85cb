#include <catch2/catch.hpp>

#include <string>

#include "edge/auth/connect_rate_limiter.hpp"

using tickstream::edge::connect_rate_limiter;

namespace {
int admitted(connect_rate_limiter& limiter, const std::string& address, int tries, std::int64_t at_us) {
  int n = 0;
  for (int i = 0; i < tries; ++i) n += limiter.admit(address, at_us) ? 1 : 0;
  return n;
}
}  // namespace

TEST_CASE("connection rate: a burst gets the limit through, then one per refill interval", "[limits]") {
  connect_rate_limiter limiter(20);
  CHECK(admitted(limiter, "10.0.0.1", 30, 1'000'000) == 20);
  CHECK(admitted(limiter, "10.0.0.1", 5, 1'000'000 + 49'000) == 0);  // 0.98 of a token back
  CHECK(admitted(limiter, "10.0.0.1", 5, 1'000'000 + 50'000) == 1);  // one token per 50 ms
  CHECK(admitted(limiter, "10.0.0.1", 30, 1'000'000 + 550'000) == 10);
  // Another address has its own budget.
  CHECK(admitted(limiter, "10.0.0.2", 30, 1'000'000 + 550'000) == 20);
}

TEST_CASE("connection rate: a burst straddling a second boundary is still held to the rate", "[limits]") {
  // A counter reset each second would let 20 in at 0.999 s and 20 more at 1.000 s.
  connect_rate_limiter limiter(20);
  const int before = admitted(limiter, "10.0.0.1", 20, 999'000);
  const int after = admitted(limiter, "10.0.0.1", 20, 1'000'000);
  CHECK(before == 20);
  CHECK(after == 0);
}

TEST_CASE("connection rate: refilled addresses are forgotten, a clock step back admits nothing extra", "[limits]") {
  connect_rate_limiter limiter(10);
  for (int i = 0; i < 1000; ++i) limiter.admit("10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256), 0);
  CHECK(limiter.tracked_addresses() == 1000);
  CHECK(limiter.admit("10.9.9.9", 2'000'000));  // the sweep runs: every other bucket has refilled
  CHECK(limiter.tracked_addresses() == 1);

  CHECK(admitted(limiter, "10.9.9.9", 20, 1'000'000) == 9);  // earlier than the last use: no refill
  CHECK(connect_rate_limiter(0).admit("10.0.0.1", 0));       // 0: no limit
}
