#include "common/json_reader.hpp"

#include <rapidjson/error/en.h>

#include <algorithm>
#include <charconv>

#include "common/clock.hpp"
#include "common/decimal.hpp"

namespace tickstream::common {

namespace {

// Whether a \u escape in text names a low surrogate (DC00-DFFF) that no high surrogate escape
// precedes. RapidJSON 1.1.0 accepts one and stores the surrogate's three bytes, which are not
// UTF-8, so a string read from valid UTF-8 text could be written back into frames that are not.
// (Backslashes only occur inside strings in JSON, and every one starts an escape.)
bool lone_low_surrogate_escape(std::string_view text) noexcept {
  const auto hex4 = [&](std::size_t at) -> int {
    if (at + 4 > text.size()) return -1;
    unsigned v = 0;
    const auto [end, ec] = std::from_chars(text.data() + at, text.data() + at + 4, v, 16);
    return ec == std::errc{} && end == text.data() + at + 4 ? static_cast<int>(v) : -1;
  };
  for (auto i = text.find('\\'); i != std::string_view::npos && i + 1 < text.size(); i = text.find('\\', i)) {
    if (text[i + 1] != 'u') {
      i += 2;  // \" \\ \n ...
      continue;
    }
    const int cp = hex4(i + 2);
    if (cp >= 0xd800 && cp <= 0xdbff) {
      i += 12;  // with the low surrogate escape the parser requires after it
    } else if (cp >= 0xdc00 && cp <= 0xdfff) {
      return true;
    } else {
      i += 2;
    }
  }
  return false;
}

}  // namespace

std::optional<error> parse_json(rapidjson::Document& doc, std::string_view text, bool numbers_as_text) {
  constexpr unsigned flags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
  if (numbers_as_text) {
    doc.Parse<flags | rapidjson::kParseNumbersAsStringsFlag>(text.data(), text.size());
  } else {
    doc.Parse<flags>(text.data(), text.size());
  }
  if (!doc.HasParseError() && lone_low_surrogate_escape(text)) {
    doc.SetNull();
    return error{"invalid_json", "malformed JSON: a \\u escape names a lone surrogate (not a character)"};
  }
  if (!doc.HasParseError()) return std::nullopt;
  return error{"invalid_json", std::string("malformed JSON at offset ") + std::to_string(doc.GetErrorOffset()) + ": " +
                                   rapidjson::GetParseError_En(doc.GetParseError())};
}

json_reader::json_reader(const rapidjson::Value& obj, std::string error_code)
    : obj_(obj), code_(std::move(error_code)) {}

void json_reader::fail(const char* name, const std::string& why) {
  if (!error_) error_ = error{code_, std::string("field '") + name + "': " + why};
}

std::optional<bool> json_reader::boolean(const char* name, bool required) {
  const auto* v = find(name, required);
  if (v == nullptr) return std::nullopt;
  if (!v->IsBool()) {
    fail(name, "must be true or false");
    return std::nullopt;
  }
  return v->GetBool();
}

void json_reader::only(std::initializer_list<std::string_view> known) {
  if (error_ || !obj_.IsObject()) return;
  for (const auto& m : obj_.GetObject()) {
    const std::string_view name(m.name.GetString(), m.name.GetStringLength());
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    const std::string shown(name.substr(0, 64));
    return fail(shown.c_str(), "is not a known field");
  }
}

const rapidjson::Value* json_reader::find(const char* name, bool required) {
  if (error_) return nullptr;
  const auto it = obj_.FindMember(name);
  if (it == obj_.MemberEnd() || it->value.IsNull()) {
    if (required) fail(name, "is required");
    return nullptr;
  }
  return &it->value;
}

std::optional<std::string_view> json_reader::string(const char* name, bool required, std::size_t max_len) {
  const auto* v = find(name, required);
  if (v == nullptr) return std::nullopt;
  if (!v->IsString()) {
    fail(name, "must be a string");
    return std::nullopt;
  }
  std::string_view s(v->GetString(), v->GetStringLength());
  if (s.size() > max_len) {
    fail(name, "is longer than " + std::to_string(max_len) + " characters");
    return std::nullopt;
  }
  return s;
}

std::optional<std::string> json_reader::decimal(const char* name, bool required, bool positive, bool non_negative) {
  // Numbers arrive as their source text (kParseNumbersAsStringsFlag), so a JSON number and a
  // decimal string are both accepted here; either way the text must be a plain decimal.
  const auto* v = find(name, required);
  if (v == nullptr) return std::nullopt;
  if (!v->IsString()) {
    fail(name, "must be a number");
    return std::nullopt;
  }
  std::string_view s(v->GetString(), v->GetStringLength());
  if (!is_plain_decimal(s)) {
    fail(name, "must be a plain decimal number (no exponent, at most 40 characters)");
    return std::nullopt;
  }
  const bool negative = s.front() == '-';
  const bool zero = s.find_first_not_of("-0.") == std::string_view::npos;
  if (positive && (negative || zero)) {
    fail(name, "must be greater than zero");
    return std::nullopt;
  }
  if (non_negative && negative && !zero) {
    fail(name, "must not be negative");
    return std::nullopt;
  }
  return std::string(s);
}

std::optional<std::int64_t> json_reader::integer(const char* name, bool required, std::int64_t min, std::int64_t max) {
  const auto* v = find(name, required);
  if (v == nullptr) return std::nullopt;
  std::int64_t out = 0;
  bool parsed = false;
  if (v->IsString()) {
    const char* b = v->GetString();
    const char* e = b + v->GetStringLength();
    const auto [end, ec] = std::from_chars(b, e, out);
    parsed = ec == std::errc{} && end == e;
  }
  if (!parsed) {
    fail(name, "must be an integer");
    return std::nullopt;
  }
  if (out < min || out > max) {
    fail(name, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  return out;
}

std::optional<std::int64_t> json_reader::timestamp(const char* name, bool required) {
  const auto s = string(name, required, 64);
  if (!s) return std::nullopt;
  const auto t = parse_iso8601(*s);
  if (!t) fail(name, "must be an ISO-8601 time such as 2026-11-20T14:30:00.123Z");
  return t;
}

const rapidjson::Value* json_reader::array(const char* name, bool required) {
  const auto* v = find(name, required);
  if (v == nullptr) return nullptr;
  if (!v->IsArray()) {
    fail(name, "must be an array");
    return nullptr;
  }
  return v;
}

}  // namespace tickstream::common
