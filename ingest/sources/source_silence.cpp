#include "ingest/sources/source_silence.hpp"

namespace tickstream::ingest {

namespace {

constexpr std::int64_t us_per_s = 1'000'000;
constexpr std::int64_t s_per_day = 86'400;

// Days since 1970-01-01 of a civil date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146'097 + static_cast<std::int64_t>(doe) - 719'468;
}

// The civil year of a day count.
std::int64_t year_of(std::int64_t days) noexcept {
  days += 719'468;
  const std::int64_t era = (days >= 0 ? days : days - 146'096) / 146'097;
  const auto doe = static_cast<unsigned>(days - era * 146'097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

// Weekday of a day count, 0 = Sunday (1970-01-01 was a Thursday).
int weekday(std::int64_t days) noexcept { return static_cast<int>((days % 7 + 11) % 7); }

// The day count of the n-th Sunday of a month.
std::int64_t nth_sunday(std::int64_t y, unsigned m, int n) noexcept {
  const auto first = days_from_civil(y, m, 1);
  return first + (7 - weekday(first)) % 7 + 7 * (n - 1);
}

// New York's offset from UTC at t (seconds): EDT (-4 h) from the second Sunday of March at
// 02:00 EST to the first Sunday of November at 02:00 EDT, else EST (-5 h).
std::int64_t new_york_offset_s(std::int64_t t) noexcept {
  const auto y = year_of(floor_div(t - 5 * 3600, s_per_day));
  const auto dst_start = nth_sunday(y, 3, 2) * s_per_day + 7 * 3600;  // 02:00 EST = 07:00 UTC
  const auto dst_end = nth_sunday(y, 11, 1) * s_per_day + 6 * 3600;   // 02:00 EDT = 06:00 UTC
  return t >= dst_start && t < dst_end ? -4 * 3600 : -5 * 3600;
}

}  // namespace

bool us_equities_open(std::int64_t unix_us) noexcept {
  const std::int64_t t = floor_div(unix_us, us_per_s);
  const std::int64_t local = t + new_york_offset_s(t);
  const std::int64_t days = floor_div(local, s_per_day);
  const std::int64_t secs = local - days * s_per_day;
  const int wd = weekday(days);
  if (wd == 0 || wd == 6) return false;
  return secs >= (9 * 3600 + 30 * 60) && secs < 16 * 3600;
}

bool is_silent(const silence_rule& rule, std::int64_t since_us, std::int64_t now_us) noexcept {
  if (rule.after_ms <= 0) return false;
  const std::int64_t after_us = rule.after_ms * 1000;
  if (now_us - since_us < after_us) return false;
  if (!rule.trading_hours_only) return true;
  return us_equities_open(now_us) && us_equities_open(now_us - after_us);
}

}  // namespace tickstream::ingest
