#pragma once
// Reading upstream JSON fields the way providers send them: numbers may use exponent notation
// (converted exactly to plain decimals), times come as epoch milliseconds or RFC 3339 text.

#include <cstdint>
#include <optional>
#include <string>

#include "common/json_reader.hpp"
#include "common/symbol.hpp"
#include "ingest/tick_merger.hpp"

namespace tickstream::ingest {

// A number (or numeric string) as a plain decimal; positive/non_negative as constraints.
inline std::optional<std::string> upstream_decimal(common::json_reader& r, const char* name, bool required,
                                                   bool positive) {
  const auto text = r.string(name, required, 48);
  if (!text) return std::nullopt;
  auto d = plain_decimal(*text);
  if (!d) {
    r.fail(name, "must be a number");
    return std::nullopt;
  }
  const bool negative = d->front() == '-';
  const bool zero = d->find_first_not_of("0.") == std::string::npos;
  if (negative || (positive && zero)) {
    r.fail(name, positive ? "must be greater than zero" : "must not be negative");
    return std::nullopt;
  }
  return d;
}

inline std::optional<std::string> upstream_symbol(common::json_reader& r, const char* name) {
  const auto s = r.string(name, true, 64);
  if (!s) return std::nullopt;
  auto norm = common::normalize_symbol(*s);
  if (!norm) {
    r.fail(name, norm.err().message);
    return std::nullopt;
  }
  return std::move(norm).value();
}

}  // namespace tickstream::ingest
