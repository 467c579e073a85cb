#pragma once
// Splitting market symbols across ingest workers: worker i of n takes the symbols whose FNV-1a
// hash is i modulo n. The hash is fixed (not std::hash), so every worker, whatever its build,
// agrees on who owns a symbol. Private (broker) streams are not split: running one twice is safe.

#include <cstdint>
#include <optional>
#include <string_view>

namespace tickstream::ingest {

struct shard {
  std::uint32_t index = 0;
  std::uint32_t count = 1;

  // "i/n" with 0 <= i < n <= 1024.
  static std::optional<shard> parse(std::string_view text) noexcept;

  bool owns(std::string_view symbol) const noexcept {
    std::uint64_t h = 14695981039346656037ULL;
    for (const char c : symbol) {
      h ^= static_cast<unsigned char>(c);
      h *= 1099511628211ULL;
    }
    return h % count == index;
  }
};

inline std::optional<shard> shard::parse(std::string_view text) noexcept {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::uint32_t i = 0, n = 0;
  for (const char c : text.substr(0, slash)) {
    if (c < '0' || c > '9' || i > 100000) return std::nullopt;
    i = i * 10 + static_cast<std::uint32_t>(c - '0');
  }
  for (const char c : text.substr(slash + 1)) {
    if (c < '0' || c > '9' || n > 100000) return std::nullopt;
    n = n * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (slash == 0 || slash + 1 == text.size() || n == 0 || n > 1024 || i >= n) return std::nullopt;
  return shard{i, n};
}

}  // namespace tickstream::ingest
