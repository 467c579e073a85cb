#pragma once
// Instrument symbols and public topic names (their Redis names are in common/redis/keys.hpp).

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

inline constexpr std::size_t max_topic_length = 64;

// Checks a public topic's name ("news", "signals:momentum"): 1..64 characters from a-z 0-9 _ . - :,
// starting with a letter or digit. Lower-case only, so that one topic has one name. Errors carry
// code "invalid_topic" and a reason a client can read.
result<std::string> validate_topic(std::string_view raw);

// An entitlement pattern (symbols and topics alike): an exact name ("AAPL", "news"), a prefix
// ending in "*" ("US:*", "signals:*") or "*" alone; 1..64 characters from A-Z a-z 0-9 . - / : _
// before the "*".
bool is_valid_entitlement_pattern(std::string_view p) noexcept;

}  // namespace tickstream::common
