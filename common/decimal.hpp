#pragma once
// Exact decimal numbers kept as text (prices, sizes, money): validation and comparison.

#include <string_view>

namespace tickstream::common {

// A plain decimal: -?(0|[1-9][0-9]*)(.[0-9]+)? with at most 40 characters; no exponent, no '+'.
// Every such text is also a valid JSON number.
bool is_plain_decimal(std::string_view text) noexcept;

// Compares two non-negative plain decimals by value: <0, 0 or >0 ("1.50" == "1.5").
int compare_decimal(std::string_view a, std::string_view b) noexcept;

}  // namespace tickstream::common
