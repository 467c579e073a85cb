#pragma once
// Reading upstream JSON fields the way providers send them: numbers may use exponent notation
// (converted exactly to plain decimals), times come as epoch milliseconds or RFC 3339 text.

#include <cstdint>
#include <optional>
#include <string>

#include <rapidjson/document.h>

#include "common/json_reader.hpp"
#include "common/symbol.hpp"
#include "ingest/normalize/normalized.hpp"
#include "ingest/normalize/tick_merger.hpp"

namespace tickstream::ingest {

// Parses one upstream message that must be a JSON object (or, with want_array, an array). On
// failure the problem is recorded in out and false returned.
inline bool parse_upstream(rapidjson::Document& doc, std::string_view raw, normalized& out, bool want_array,
                           const char* provider) {
  if (auto err = common::parse_json(doc, raw)) {
    out.problems.push_back(std::move(*err));
    return false;
  }
  if (want_array ? !doc.IsArray() : !doc.IsObject()) {
    out.problems.push_back(
        {"invalid_message", std::string(provider) + " messages must be JSON " + (want_array ? "arrays" : "objects")});
    return false;
  }
  return true;
}

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
