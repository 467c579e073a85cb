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

}  // namespace tickstream::common
