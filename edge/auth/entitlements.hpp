#pragma once
// Which symbols a connection may subscribe to (market-data licensing): a list of patterns, each
// an exact name ("AAPL"), a prefix ending in "*" ("US:*", "crypto:*") or "*" for everything.
// Names compare case-insensitively (symbols are upper-cased by the edge). Pure.
//
// Where the list comes from: the token's "entitlements" claim (an array of patterns) when it has
// one, else --default-entitlements for authenticated connections and --anonymous-entitlements
// for anonymous ones (both "*" unless the operator says otherwise).

#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace tickstream::edge {

class entitlements {
 public:
  // Everything.
  entitlements() : patterns_{"*"} {}
  // Nothing when patterns is empty. Each pattern must be valid (is_valid_pattern).
  explicit entitlements(const std::vector<std::string>& patterns);

  // A comma-separated list ("*", "US:*,crypto:*", "" = nothing); an error names the bad entry.
  static common::result<entitlements> parse(std::string_view list);
  // 1..64 characters from A-Z a-z 0-9 . - / : _, optionally ending in one "*" (or "*" alone).
  static bool is_valid_pattern(std::string_view p) noexcept;

  bool allows(std::string_view name) const noexcept;
  const std::vector<std::string>& patterns() const noexcept { return patterns_; }

 private:
  std::vector<std::string> patterns_;  // upper-cased
};

}  // namespace tickstream::edge
