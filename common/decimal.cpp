#include "common/decimal.hpp"

#include <algorithm>

namespace tickstream::common {

bool is_plain_decimal(std::string_view t) noexcept {
  if (t.empty() || t.size() > 40) return false;
  std::size_t i = 0;
  if (t[i] == '-') ++i;
  if (i >= t.size()) return false;
  if (t[i] == '0') {
    ++i;
  } else if (t[i] >= '1' && t[i] <= '9') {
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
  } else {
    return false;
  }
  if (i == t.size()) return true;
  if (t[i] != '.') return false;
  ++i;
  const std::size_t frac_start = i;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
  return i == t.size() && i > frac_start;
}

int compare_decimal(std::string_view a, std::string_view b) noexcept {
  const auto split = [](std::string_view s) {
    const auto dot = s.find('.');
    return dot == std::string_view::npos ? std::pair{s, std::string_view{}}
                                         : std::pair{s.substr(0, dot), s.substr(dot + 1)};
  };
  const auto [ai, af] = split(a);
  const auto [bi, bf] = split(b);
  // No leading zeros in the integer part, so a longer integer part is a larger number.
  if (ai.size() != bi.size()) return ai.size() < bi.size() ? -1 : 1;
  if (const int c = ai.compare(bi); c != 0) return c < 0 ? -1 : 1;
  for (std::size_t i = 0; i < std::max(af.size(), bf.size()); ++i) {
    const char ca = i < af.size() ? af[i] : '0';
    const char cb = i < bf.size() ? bf[i] : '0';
    if (ca != cb) return ca < cb ? -1 : 1;
  }
  return 0;
}

}  // namespace tickstream::common
