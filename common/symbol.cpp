#include "common/symbol.hpp"

namespace tickstream::common {
namespace {

constexpr std::string_view market_prefix = "ts:{md:";

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

std::string market_channel(std::string_view symbol) {
  std::string out;
  out.reserve(market_prefix.size() + symbol.size() + 1);
  out += market_prefix;
  out += symbol;
  out += '}';
  return out;
}

std::string market_last_key(std::string_view symbol) { return market_channel(symbol) + ":last"; }

std::optional<std::string_view> symbol_of_market_channel(std::string_view channel) noexcept {
  if (channel.size() <= market_prefix.size() + 1 || channel.substr(0, market_prefix.size()) != market_prefix ||
      channel.back() != '}') {
    return std::nullopt;
  }
  return channel.substr(market_prefix.size(), channel.size() - market_prefix.size() - 1);
}

}  // namespace tickstream::common
