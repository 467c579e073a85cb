#pragma once
// Which application event types an edge conflates, and by which field of their data (--conflate,
// docs/OPERATIONS.md). Pure: parsed once at start-up, then read by the fan-out thread only.
//
// "portfolio_update=portfolioId" conflates portfolio_update events per value of their
// data.portfolioId (a string, or a number compared as written); "risk_summary" (no field) keeps only the latest
// risk_summary. An event of such a type whose data lacks the field (or holds another JSON type
// there) is never conflated. Types not listed are never conflated.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace tickstream::edge {

class app_conflation {
 public:
  // Parses rules: "type=field" or "type", comma-separated. The error (code "conflate") says what
  // is wrong with which rule.
  static common::result<app_conflation> parse(std::string_view rules);

  bool empty() const noexcept { return rules_.empty(); }
  // The key field of type's data ("" when the type conflates as a whole); nullopt when type is
  // not conflated.
  std::optional<std::string_view> key_field(std::string_view type) const;

 private:
  std::vector<std::pair<std::string, std::string>> rules_;  // type, field: a handful, searched in order
};

}  // namespace tickstream::edge
