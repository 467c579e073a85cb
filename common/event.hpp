#pragma once
// The normalized event schema every source is turned into (docs/PROTOCOL.md, "Events").
//
// An event's JSON form is also the frame clients receive: ingest serializes an event once, Redis
// carries those bytes, and every edge forwards them unchanged to every subscribed client.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace tickstream::common {

// A market tick: a trade, a quote, or both merged. Prices and sizes are kept as the exact decimal
// text they arrived with and are written back as JSON numbers with the same digits.
struct price_update {
  std::string symbol;                         // normalized, see normalize_symbol()
  std::string price;                          // last trade price, > 0
  std::optional<std::string> bid;             // best bid, > 0
  std::optional<std::string> ask;             // best ask, > 0, >= bid
  std::optional<std::string> bid_size;        // >= 0
  std::optional<std::string> ask_size;        // >= 0
  std::optional<std::string> size;            // size of the last trade, >= 0
  std::optional<std::string> volume;          // cumulative day volume, >= 0
  std::optional<std::string> change;          // price - previous close
  std::optional<std::string> change_percent;  // change / previous close * 100
  std::int64_t source_time_us = 0;            // exchange/source time ("timestamp" on the wire)
  std::int64_t recv_time_us = 0;              // when ingest received it ("recv_us"), for latency
  std::string source;                         // which source produced it, e.g. "finnhub"

  bool operator==(const price_update&) const = default;
};

// Private kinds (order_update, trade_executed, position_update, account_update) join this variant
// with the sources that produce them.
using event = std::variant<price_update>;

}  // namespace tickstream::common
