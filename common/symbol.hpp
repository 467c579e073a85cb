#pragma once
// Instrument symbols (their Redis names are in common/redis/keys.hpp).

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace tickstream::common {

// Long enough for venue-qualified crypto symbols such as "BINANCE:BTCUSDT".
inline constexpr std::size_t max_symbol_length = 32;

// Upper-cases and validates a symbol: 1..32 characters from A-Z 0-9 . - / : _, starting with a
// letter or digit. Errors carry code "invalid_symbol" and a reason a client can read.
result<std::string> normalize_symbol(std::string_view raw);

}  // namespace tickstream::common
