#include "edge/portfolio/app_conflation.hpp"

#include <algorithm>

#include "common/app_event_type.hpp"

namespace tickstream::edge {
namespace {

bool is_field_name(std::string_view f) {
  return !f.empty() && f.size() <= 64 && std::all_of(f.begin(), f.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

}  // namespace

common::result<app_conflation> app_conflation::parse(std::string_view rules) {
  app_conflation out;
  std::size_t start = 0;
  while (start <= rules.size()) {
    auto end = rules.find(',', start);
    if (end == std::string_view::npos) end = rules.size();
    const auto rule = rules.substr(start, end - start);
    start = end + 1;
    if (rule.empty()) continue;
    const auto eq = rule.find('=');
    const auto type = rule.substr(0, eq);
    const auto field = eq == std::string_view::npos ? std::string_view{} : rule.substr(eq + 1);
    const auto why = [&](const std::string& what) {
      return common::error{"conflate", "'" + std::string(rule) + "': " + what};
    };
    if (!common::is_snake_case_name(type))
      return why("the type must be snake_case (a-z, 0-9, _), starting with a letter");
    if (common::is_tier_message_type(type)) {
      return why("'" + std::string(type) + "' is the tier's own message, not an app event type");
    }
    if (eq != std::string_view::npos && !is_field_name(field)) {
      return why("the key field must be a field name of the event's data (letters, digits, _ and -)");
    }
    if (out.key_field(type)) return why("'" + std::string(type) + "' is given twice");
    out.rules_.emplace_back(type, field);
  }
  return out;
}

std::optional<std::string_view> app_conflation::key_field(std::string_view type) const {
  for (const auto& [t, f] : rules_) {
    if (t == type) return std::string_view(f);
  }
  return std::nullopt;
}

}  // namespace tickstream::edge
