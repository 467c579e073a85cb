#pragma once
// What every fuzz target shares: an invariant check that stops the run with the reason (libFuzzer
// then writes the input as a reproducer), and small helpers for the common shapes of input.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

// A broken invariant: printed, then abort(), which libFuzzer reports as a crash with the input.
#define FUZZ_CHECK(cond)                                                                \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

namespace tickstream::fuzz {

inline std::string_view as_view(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The input cut at newlines: several upstream messages in one input, so that state carried from
// one message to the next (a merger's last trade, a reader's partial reply) is exercised too.
inline std::vector<std::string_view> lines(std::string_view in, std::size_t max_lines = 64) {
  std::vector<std::string_view> out;
  while (!in.empty() && out.size() < max_lines) {
    const auto nl = in.find('\n');
    out.push_back(in.substr(0, nl));
    if (nl == std::string_view::npos) break;
    in.remove_prefix(nl + 1);
  }
  return out;
}

}  // namespace tickstream::fuzz
