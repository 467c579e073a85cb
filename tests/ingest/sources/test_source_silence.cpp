// When a connected source that sends nothing counts as stale: after its threshold, and for a
// market feed only within the US equities session (New York time, daylight saving included).
#include <catch2/catch.hpp>

#include "ingest/sources/source_silence.hpp"

using namespace tickstream::ingest;

namespace {

constexpr std::int64_t s = 1'000'000;  // µs per second

}  // namespace

TEST_CASE("US equities session: 09:30 to 16:00 New York time on weekdays, daylight saving followed",
          "[source_silence]") {
  // Winter (EST, UTC-5): Tuesday 2026-12-01 opens at 14:30 UTC and closes at 21:00 UTC.
  CHECK(us_equities_open(1796135400 * s));        // 14:30:00 UTC
  CHECK_FALSE(us_equities_open(1796135399 * s));  // 14:29:59 UTC
  CHECK_FALSE(us_equities_open(1796158800 * s));  // 21:00:00 UTC = 16:00 EST
  // Summer (EDT, UTC-4): Wednesday 2026-07-01 opens at 13:30 UTC, closes at 20:00 UTC.
  CHECK(us_equities_open(1782912600 * s));
  CHECK(us_equities_open(1782935999 * s));
  CHECK_FALSE(us_equities_open(1782936000 * s));
  // Around the switches: Friday 2026-03-06 is still EST (13:30 UTC = 08:30, closed; 14:30 open);
  // Monday 2026-03-09 is EDT (13:30 UTC = 09:30, open). Monday 2026-11-02 is EST again.
  CHECK_FALSE(us_equities_open(1772803800 * s));
  CHECK(us_equities_open(1772807400 * s));
  CHECK(us_equities_open(1773063000 * s));
  CHECK_FALSE(us_equities_open(1793626200 * s));
  CHECK(us_equities_open(1793629800 * s));
  // Saturday.
  CHECK_FALSE(us_equities_open(1796482800 * s));
}

TEST_CASE("silence: stale after the threshold, never with none", "[source_silence]") {
  const silence_rule rule{60'000, false};
  const std::int64_t last = 1796135400 * s;
  CHECK_FALSE(is_silent(rule, last, last + 59 * s));
  CHECK(is_silent(rule, last, last + 60 * s));
  CHECK_FALSE(is_silent(silence_rule{0, false}, last, last + 3600 * s));
}

TEST_CASE("silence of a market feed counts only within one open session", "[source_silence]") {
  const silence_rule rule{60'000, true};
  const std::int64_t open = 1796135400 * s;  // Tuesday 09:30 EST
  // The night's quiet does not make the feed silent at the opening bell...
  CHECK_FALSE(is_silent(rule, open - 17 * 3600 * s, open));
  CHECK_FALSE(is_silent(rule, open - 17 * 3600 * s, open + 59 * s));
  // ...a minute of the session without a message does.
  CHECK(is_silent(rule, open - 17 * 3600 * s, open + 60 * s));
  CHECK(is_silent(rule, open + 100 * s, open + 160 * s));
  // After the close nothing is silent.
  const std::int64_t close = 1796158800 * s;  // 16:00 EST
  CHECK_FALSE(is_silent(rule, close - 600 * s, close + 1 * s));
  CHECK(is_silent(rule, close - 600 * s, close - 1 * s));
  // Nor on a Saturday.
  CHECK_FALSE(is_silent(rule, 1796482800 * s - 3600 * s, 1796482800 * s));
}
