#pragma once
// Merges a source's trades and quotes into price_update events: a trade brings the price and
// size, a quote the bid and ask; each event carries the latest of both for its symbol.
//
// State per symbol lives in this process only; after a restart the first quotes of a symbol wait
// for its first trade (a price_update needs a price), which the next trade brings.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/event.hpp"

namespace tickstream::ingest {

class tick_merger {
 public:
  explicit tick_merger(std::string source) : source_(std::move(source)) {}

  // Decimals are plain decimal text; times are µs since the epoch.
  common::price_update on_trade(const std::string& symbol, std::string price, std::optional<std::string> size,
                                std::int64_t time_us, std::int64_t recv_us);
  // nullopt until the symbol has had a trade.
  std::optional<common::price_update> on_quote(const std::string& symbol, std::string bid, std::string bid_size,
                                               std::string ask, std::string ask_size, std::int64_t time_us,
                                               std::int64_t recv_us);

 private:
  struct state {
    std::optional<std::string> price, size, bid, bid_size, ask, ask_size;
  };
  common::price_update make(const std::string& symbol, const state& s, std::int64_t time_us,
                            std::int64_t recv_us) const;

  std::string source_;
  std::unordered_map<std::string, state> symbols_;
};

// Plain decimal text for a JSON number's text: exponent notation ("1.5e-05") is rewritten
// exactly ("0.000015"). nullopt if the text is not a finite JSON number or too long.
std::optional<std::string> plain_decimal(std::string_view json_number);

}  // namespace tickstream::ingest
