#pragma once
// Wall-clock time in integer microseconds since the Unix epoch, and its ISO-8601 text form.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tickstream::common {

// Microseconds since the Unix epoch from the system clock.
std::int64_t now_us() noexcept;

// "2026-11-20T14:30:00.123456Z": UTC, always six fractional digits.
std::string format_iso8601(std::int64_t epoch_us);

// Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)"; fractions past microseconds are
// truncated. Returns nullopt for anything else, including out-of-range fields.
std::optional<std::int64_t> parse_iso8601(std::string_view text) noexcept;

}  // namespace tickstream::common
