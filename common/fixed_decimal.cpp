#include "common/fixed_decimal.hpp"

#include <algorithm>

#include "common/decimal.hpp"

namespace tickstream::common {
namespace {

using i128 = fixed_decimal::mantissa_type;

std::optional<i128> pow10(int n) {
  i128 p = 1;
  for (int i = 0; i < n; ++i) {
    if (__builtin_mul_overflow(p, 10, &p)) return std::nullopt;
  }
  return p;
}

// |v| / d rounded half away from zero, sign kept (d > 0).
i128 divide_rounded(i128 v, i128 d) {
  const bool neg = v < 0;
  const i128 a = neg ? -v : v;
  i128 q = a / d;
  if ((a % d) * 2 >= d) ++q;
  return neg ? -q : q;
}

}  // namespace

std::optional<fixed_decimal> fixed_decimal::parse(std::string_view t) {
  if (!is_plain_decimal(t)) return std::nullopt;
  const bool neg = t.front() == '-';
  if (neg) t.remove_prefix(1);
  i128 m = 0;
  int scale = 0;
  bool in_fraction = false;
  for (const char c : t) {
    if (c == '.') {
      in_fraction = true;
      continue;
    }
    if (__builtin_mul_overflow(m, 10, &m) || __builtin_add_overflow(m, c - '0', &m)) return std::nullopt;
    if (in_fraction) ++scale;
  }
  if (scale > max_scale) return std::nullopt;
  return fixed_decimal(neg ? -m : m, scale);
}

std::string fixed_decimal::to_string() const {
  std::string s = to_string(scale_);
  if (s.find('.') != std::string::npos) {
    s.erase(s.find_last_not_of('0') + 1);
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

std::string fixed_decimal::to_string(int places) const {
  const fixed_decimal r = places < scale_ ? rounded(places) : *this;
  const bool neg = r.m_ < 0;
  i128 a = neg ? -r.m_ : r.m_;
  std::string digits;
  do {
    digits.push_back(static_cast<char>('0' + static_cast<int>(a % 10)));
    a /= 10;
  } while (a != 0);
  while (static_cast<int>(digits.size()) <= r.scale_) digits.push_back('0');
  std::reverse(digits.begin(), digits.end());
  std::string out = neg ? "-" : "";
  out += digits.substr(0, digits.size() - static_cast<std::size_t>(r.scale_));
  if (places > 0) {
    out += '.';
    out += digits.substr(digits.size() - static_cast<std::size_t>(r.scale_));
    out.append(static_cast<std::size_t>(places - r.scale_), '0');
  }
  return out;
}

std::optional<i128> fixed_decimal::rescaled(int scale) const {
  const auto p = pow10(scale - scale_);
  i128 out = 0;
  if (!p || __builtin_mul_overflow(m_, *p, &out)) return std::nullopt;
  return out;
}

std::optional<fixed_decimal> fixed_decimal::plus(const fixed_decimal& o) const {
  const int scale = std::max(scale_, o.scale_);
  const auto a = rescaled(scale);
  const auto b = o.rescaled(scale);
  i128 sum = 0;
  if (!a || !b || __builtin_add_overflow(*a, *b, &sum)) return std::nullopt;
  return fixed_decimal(sum, scale);
}

std::optional<fixed_decimal> fixed_decimal::times(const fixed_decimal& o) const {
  i128 product = 0;
  if (__builtin_mul_overflow(m_, o.m_, &product)) return std::nullopt;
  fixed_decimal r(product, scale_ + o.scale_);
  // Keep scales bounded; the dropped digits are beyond anything shown (max_scale places).
  return r.scale_ > max_scale ? r.rounded(max_scale) : r;
}

std::optional<fixed_decimal> fixed_decimal::divided_by(const fixed_decimal& o, int places) const {
  if (o.m_ == 0) return std::nullopt;
  // this / o = (m_ * 10^(places + o.scale_ - scale_)) / o.m_ at scale `places`; one extra digit
  // of the shift is avoided by exact rounding in divide_rounded.
  const int shift = places + o.scale_ - scale_;
  i128 num = m_;
  i128 den = o.m_;
  if (shift >= 0) {
    const auto p = pow10(shift);
    if (!p || __builtin_mul_overflow(num, *p, &num)) return std::nullopt;
  } else {
    const auto p = pow10(-shift);
    if (!p || __builtin_mul_overflow(den, *p, &den)) return std::nullopt;
  }
  if (den < 0) {
    den = -den;
    num = -num;
  }
  return fixed_decimal(divide_rounded(num, den), places);
}

fixed_decimal fixed_decimal::rounded(int places) const {
  if (places >= scale_) return *this;
  const auto p = pow10(scale_ - places);  // scale_ <= 2 * max_scale: 10^48 overflows, so guard
  if (!p) return fixed_decimal(0, places);
  return fixed_decimal(divide_rounded(m_, *p), places);
}

}  // namespace tickstream::common
