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

// --- private events: one user's portfolio (seed 001's message formats) -----------------------
// Money and quantities are exact decimal strings on the wire. Each carries the user it belongs
// to and, once ingest has stored it, that user's sequence number.

struct private_header {
  std::string user_id;       // "userId": whose event this is; names the channel ts:{u:<id>}
  std::int64_t seq = 0;      // per-user sequence number; 0 until ingest assigns one
  std::int64_t time_us = 0;  // "timestamp": when it happened at the source
  std::int64_t recv_time_us = 0;
  std::string source;
  // Not on the wire: identifies the broker message this event came from, so that a duplicate
  // delivery (after a reconnect, or from a second worker on one stream) is stored only once.
  std::string dedupe_id;

  bool operator==(const private_header&) const = default;
};

// An order's state after a transition (new, partially_filled, filled, canceled, ...).
struct order_update {
  private_header header;
  std::string order_id;
  std::string broker_order_id;
  std::string symbol;
  std::string side;        // buy | sell
  std::string order_type;  // "type" in the data: market, limit, stop, ...
  std::string status;
  std::optional<std::string> qty;
  std::optional<std::string> filled_qty;
  std::optional<std::string> filled_avg_price;
  std::int64_t submitted_at_us = 0;
  std::optional<std::int64_t> filled_at_us;

  bool operator==(const order_update&) const = default;
};

// One execution (fill or partial fill). Never conflated, never dropped.
struct trade_executed {
  private_header header;
  std::string execution_id;
  std::string order_id;
  std::string symbol;
  std::string side;  // buy | sell
  std::string qty;
  std::string price;

  bool operator==(const trade_executed&) const = default;
};

// A position as it stands; the edge fills in the price-dependent fields from live ticks.
struct position_update {
  private_header header;
  std::string symbol;
  std::string quantity;     // 0 when closed
  std::string entry_price;  // average entry price
  std::string side;         // long | short
  std::optional<std::string> current_price;
  std::optional<std::string> market_value;
  std::optional<std::string> unrealized_pnl;
  std::optional<std::string> unrealized_pnl_percent;
  std::optional<std::string> strategy_id;
  std::optional<std::int64_t> opened_at_us;
  // P&L realized by the quantity closed since the position opened ("realizedPnl"), as ingest
  // computes it from fills (common/account/account_math.hpp); absent when not known.
  std::optional<std::string> realized_pnl;
  // Not on the wire: the fill that produced this position, so that where the position is stored
  // the average entry price can be computed (exactly) from the previous one.
  struct fill_info {
    std::string signed_qty;  // + for a buy, - for a sell
    std::string price;
    // The broker's order and its cumulative filled quantity after this fill ("" unknown): a
    // reconciliation that already counted the fill (ts:{u:<id>}:filled) says so by them.
    std::string order_id;
    std::string order_filled_qty;
    bool operator==(const fill_info&) const = default;
  };
  std::optional<fill_info> fill;

  bool operator==(const position_update&) const = default;
};

struct account_update {
  private_header header;
  std::string equity;
  std::string buying_power;
  std::string cash;
  std::string portfolio_value;
  std::string day_pnl;
  std::string day_pnl_percent;
  // The broker's equity at the previous close ("lastEquity"): dayPnl = equity − lastEquity.
  std::optional<std::string> last_equity;
  // The broker's margin multiplier ("multiplier": 1 a cash account, 2 or 4 a margin account),
  // which buying power between two reports is computed with; absent: buyingPower stays as sent.
  std::optional<std::string> multiplier;
  // True when ingest moved the figures with fills since the broker's last report ("provisional");
  // the broker's next report replaces them (it knows fees and corporate actions we do not).
  bool provisional = false;

  bool operator==(const account_update&) const = default;
};

using event = std::variant<price_update, order_update, trade_executed, position_update, account_update>;

// --- the system ----------------------------------------------------------------------------------

// A live source's liveness, published by ingest every --heartbeat-ms on ts:sys (and kept in
// ts:sys:source:<name>). Edges track it per source to tell clients when one goes stale. Not a
// client event, so not part of `event`.
struct source_status {
  std::string source;                  // the source's name, e.g. "finnhub"
  bool connected = false;              // its upstream connection is up
  std::int64_t last_message_us = 0;    // when its last message arrived (0: none yet)
  std::optional<std::int64_t> age_ms;  // how long before time_us that was (null: none yet)
  std::int64_t time_us = 0;            // when the status was taken ("ts_us")
  // Connected but nothing received for longer than the source's silence threshold (within its
  // trading hours, for a market feed): as stale as a disconnected source.
  bool silent = false;

  bool operator==(const source_status&) const = default;
};

}  // namespace tickstream::common
