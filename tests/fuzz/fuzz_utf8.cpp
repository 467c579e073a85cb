// UTF-8 validation (edge::valid_utf8) against an independent reading of the Unicode standard's
// table of well-formed byte sequences (Unicode 15, table 3-7), on arbitrary bytes. Also checked:
// a valid text stays valid cut at any code point boundary, and no cut inside a code point is valid
// on its own (which is why the edge checks a fragmented message once it is whole).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "edge/protocol/utf8.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

// Table 3-7: the first byte fixes the allowed range of the second; the others are 80..BF.
// Returns the sequence length at s[i], or 0 if it is ill-formed there.
std::size_t well_formed_at(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<std::uint8_t>(s[i + k]); };
  const auto in = [](std::uint8_t v, std::uint8_t lo, std::uint8_t hi) { return v >= lo && v <= hi; };
  const std::size_t left = s.size() - i;
  const std::uint8_t c = b(0);
  if (c <= 0x7f) return 1;
  std::size_t n = 0;
  std::uint8_t lo = 0x80, hi = 0xbf;
  if (in(c, 0xc2, 0xdf)) {
    n = 2;
  } else if (c == 0xe0) {
    n = 3, lo = 0xa0;
  } else if (in(c, 0xe1, 0xec) || in(c, 0xee, 0xef)) {
    n = 3;
  } else if (c == 0xed) {
    n = 3, hi = 0x9f;
  } else if (c == 0xf0) {
    n = 4, lo = 0x90;
  } else if (in(c, 0xf1, 0xf3)) {
    n = 4;
  } else if (c == 0xf4) {
    n = 4, hi = 0x8f;
  } else {
    return 0;
  }
  if (left < n || !in(b(1), lo, hi)) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (!in(b(k), 0x80, 0xbf)) return 0;
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto s = tickstream::fuzz::as_view(data, size);
  std::vector<std::size_t> boundaries{0};
  bool reference = true;
  for (std::size_t i = 0; i < s.size();) {
    const auto n = well_formed_at(s, i);
    if (n == 0) {
      reference = false;
      break;
    }
    i += n;
    boundaries.push_back(i);
  }
  FUZZ_CHECK(tickstream::edge::valid_utf8(s) == reference);
  if (!reference) return 0;
  // Cut at code point boundaries, both halves are valid; cut inside a multi-byte character, the
  // first half is not.
  std::size_t b = 0;
  for (std::size_t cut = 0; cut <= s.size() && cut <= 64; ++cut) {
    while (b < boundaries.size() && boundaries[b] < cut) ++b;
    const bool on_boundary = b < boundaries.size() && boundaries[b] == cut;
    FUZZ_CHECK(tickstream::edge::valid_utf8(s.substr(0, cut)) == on_boundary);
    if (on_boundary) FUZZ_CHECK(tickstream::edge::valid_utf8(s.substr(cut)));
  }
  return 0;
}
