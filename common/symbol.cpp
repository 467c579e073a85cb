#include "common/symbol.hpp"

namespace tickstream::common {
namespace {

constexpr bool is_alnum(char c) noexcept { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

}  // namespace

result<std::string> normalize_symbol(std::string_view raw) {
  if (raw.empty()) return error{"invalid_symbol", "symbol is empty"};
  if (raw.size() > max_symbol_length) {
    return error{"invalid_symbol", "symbol is longer than " + std::to_string(max_symbol_length) + " characters"};
  }
  std::string out(raw);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (!is_alnum(c) && c != '.' && c != '-' && c != '/' && c != ':' && c != '_') {
      return error{"invalid_symbol", "symbol may only contain letters, digits and . - / : _"};
    }
  }
  if (!is_alnum(out.front())) return error{"invalid_symbol", "symbol must start with a letter or digit"};
  return out;
}

bool is_valid_entitlement_pattern(std::string_view p) noexcept {
  if (p == "*") return true;
  if (p.ends_with('*')) p.remove_suffix(1);
  if (p.empty() || p.size() > 64) return false;
  for (const char c : p) {
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && c != '.' && c != '-' && c != '/' && c != ':' && c != '_') return false;
  }
  return true;
}

result<std::string> validate_topic(std::string_view raw) {
  if (raw.empty()) return error{"invalid_topic", "topic is empty"};
  if (raw.size() > max_topic_length) {
    return error{"invalid_topic", "topic is longer than " + std::to_string(max_topic_length) + " characters"};
  }
  for (const char c : raw) {
    const bool lower_alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!lower_alnum && c != '_' && c != '.' && c != '-' && c != ':') {
      return error{"invalid_topic", "topic may only contain a-z, 0-9 and _ . - :"};
    }
  }
  const char first = raw.front();
  if (!((first >= 'a' && first <= 'z') || (first >= '0' && first <= '9'))) {
    return error{"invalid_topic", "topic must start with a letter or digit"};
  }
  return std::string(raw);
}

}  // namespace tickstream::common
