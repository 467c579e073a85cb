#pragma once
// Exact decimal arithmetic for money and quantities (live P&L at the edge): a signed 128-bit
// integer mantissa and a decimal scale. Every operation is exact or says it cannot be: results
// that would overflow are nullopt, never silently rounded through binary floating point.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tickstream::common {

class fixed_decimal {
 public:
  __extension__ typedef __int128 mantissa_type;
  // Enough for 1e-18 steps; larger scales are refused by parse() so products stay in range.
  static constexpr int max_scale = 24;

  fixed_decimal() = default;
  static fixed_decimal from_int(std::int64_t v) { return fixed_decimal(v, 0); }

  // A plain decimal (see is_plain_decimal) with at most max_scale fractional digits and 38
  // significant ones; nullopt otherwise.
  static std::optional<fixed_decimal> parse(std::string_view text);

  // Shortest exact text: no exponent, no trailing fractional zeros, "-" only when below zero.
  std::string to_string() const;
  // Rounded half away from zero to exactly `places` fractional digits ("12.30").
  std::string to_string(int places) const;

  bool is_zero() const noexcept { return m_ == 0; }
  bool is_negative() const noexcept { return m_ < 0; }
  fixed_decimal negated() const noexcept { return fixed_decimal(-m_, scale_); }

  std::optional<fixed_decimal> plus(const fixed_decimal& o) const;
  std::optional<fixed_decimal> minus(const fixed_decimal& o) const { return plus(o.negated()); }
  std::optional<fixed_decimal> times(const fixed_decimal& o) const;
  // this / o rounded half away from zero to `places` fractional digits; nullopt when o is zero.
  std::optional<fixed_decimal> divided_by(const fixed_decimal& o, int places) const;
  // Rounded half away from zero to `places` fractional digits (only ever shortens).
  fixed_decimal rounded(int places) const;

 private:
  fixed_decimal(mantissa_type m, int scale) : m_(m), scale_(scale) {}
  // The same value at a larger scale; nullopt on overflow.
  std::optional<mantissa_type> rescaled(int scale) const;

  mantissa_type m_ = 0;
  int scale_ = 0;
};

}  // namespace tickstream::common
