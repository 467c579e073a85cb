#pragma once
// Typed, validating access to the fields of a parsed JSON object, for untrusted input.
//
// Documents are parsed with numbers kept as their original text (so decimals stay exact) and with
// RapidJSON's iterative parser (so deep nesting cannot exhaust the stack). Every accessor reports
// the first problem as "field 'x': why"; later accessors become no-ops once one has failed.

#include <rapidjson/document.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace tickstream::common {

// Parses text into doc; on failure, returns an "invalid_json" error with offset and reason. With
// numbers_as_text, numbers keep their source text (a JSON number and a numeric string then read
// alike, which decimal() relies on); without it they are ordinary JSON numbers.
std::optional<error> parse_json(rapidjson::Document& doc, std::string_view text, bool numbers_as_text = true);

class json_reader {
 public:
  // obj must be a JSON object and outlive the reader. error_code is used for field errors.
  json_reader(const rapidjson::Value& obj, std::string error_code);

  // Each returns the value when present and valid; nullopt when absent (or after any failure).
  std::optional<std::string_view> string(const char* name, bool required, std::size_t max_len = 256);
  std::optional<std::string> decimal(const char* name, bool required, bool positive = false, bool non_negative = false);
  std::optional<std::int64_t> integer(const char* name, bool required, std::int64_t min, std::int64_t max);
  std::optional<std::int64_t> timestamp(const char* name, bool required);  // ISO-8601 → epoch µs
  const rapidjson::Value* array(const char* name, bool required);
  std::optional<bool> boolean(const char* name, bool required);
  // Fails on the first member of the object whose name is not in known ("is not a known field").
  void only(std::initializer_list<std::string_view> known);

  // Records an error about a field found invalid by the caller.
  void fail(const char* name, const std::string& why);
  bool ok() const noexcept { return !error_; }
  const std::optional<error>& failure() const noexcept { return error_; }

 private:
  const rapidjson::Value* find(const char* name, bool required);

  const rapidjson::Value& obj_;
  std::string code_;
  std::optional<error> error_;
};

}  // namespace tickstream::common
