#include "edge/auth/entitlements.hpp"

#include <algorithm>

#include "common/symbol.hpp"

namespace tickstream::edge {
namespace {

char upper(char c) noexcept { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; }

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) { return upper(c); });
  return out;
}

}  // namespace

entitlements::entitlements(const std::vector<std::string>& patterns) {
  patterns_.reserve(patterns.size());
  for (const auto& p : patterns) patterns_.push_back(upper(p));
}

bool entitlements::is_valid_pattern(std::string_view p) noexcept { return common::is_valid_entitlement_pattern(p); }

common::result<entitlements> entitlements::parse(std::string_view list) {
  std::vector<std::string> out;
  while (!list.empty()) {
    const auto comma = list.find(',');
    auto item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) {
      if (!is_valid_pattern(item)) {
        return common::error{"bad_pattern",
                             "'" + std::string(item) + "' is not a pattern (a name, a prefix ending in *, or *)"};
      }
      out.emplace_back(item);
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return entitlements(out);
}

bool entitlements::allows(std::string_view name) const noexcept {
  for (const auto& p : patterns_) {
    const bool prefix = p.ends_with('*');
    const std::string_view stem(p.data(), prefix ? p.size() - 1 : p.size());
    if (prefix ? name.size() < stem.size() : name.size() != stem.size()) continue;
    if (std::equal(stem.begin(), stem.end(), name.begin(), [](char a, char b) { return a == upper(b); })) return true;
  }
  return false;
}

}  // namespace tickstream::edge
