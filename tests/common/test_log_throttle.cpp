// The throttle of a log line that can repeat many times a second, with the time injected.
#include <catch2/catch.hpp>

#include "common/log_throttle.hpp"

using tickstream::common::log_throttle;
using ms = std::chrono::milliseconds;

TEST_CASE("a repeated log line: the first, then one per interval with the count left out", "[log]") {
  log_throttle t(ms(10'000));
  // Five times a second, as a topology read retried while a cluster forms.
  REQUIRE(t.admit(ms(0)) == std::optional<std::uint64_t>(0));
  for (int i = 1; i < 50; ++i) CHECK_FALSE(t.admit(ms(200 * i)).has_value());  // up to 9.8 s
  CHECK(t.admit(ms(10'000)) == std::optional<std::uint64_t>(49));
  CHECK_FALSE(t.admit(ms(10'200)).has_value());
  CHECK_FALSE(t.admit(ms(19'999)).has_value());
  CHECK(t.admit(ms(20'000)) == std::optional<std::uint64_t>(2));

  SECTION("once the condition is over, its next occurrence is logged at once") {
    t.clear();
    CHECK(t.admit(ms(20'100)) == std::optional<std::uint64_t>(0));
    CHECK_FALSE(t.admit(ms(20'200)).has_value());
  }
}
