#pragma once
// Instrument symbols and the Redis names derived from them (see docs/ARCHITECTURE.md, "Redis layout").

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace tickstream::common {

// Long enough for venue-qualified crypto symbols such as "BINANCE:BTCUSDT".
inline constexpr std::size_t max_symbol_length = 32;

// Upper-cases and validates a symbol: 1..32 characters from A-Z 0-9 . - / : _, starting with a
// letter or digit. Errors carry code "invalid_symbol" and a reason a client can read.
result<std::string> normalize_symbol(std::string_view raw);

// "ts:{md:AAPL}": the pub/sub channel of one symbol's ticks. The hash tag keeps a symbol's channel
// and keys in one Redis Cluster slot.
std::string market_channel(std::string_view symbol);
// "ts:{md:AAPL}:last": the last tick of a symbol (5-minute TTL).
std::string market_last_key(std::string_view symbol);
// The symbol of a market channel name, or nullopt if the name is not one.
std::optional<std::string_view> symbol_of_market_channel(std::string_view channel) noexcept;

}  // namespace tickstream::common
