#pragma once
// The Alpaca Broker API's trade events (GET /v2/events/trades, Server-Sent Events, one stream for
// every customer account): each event's data is one JSON object, the trading stream's trade
// update (event, order, and for a fill execution_id, price, qty, position_qty, timestamp) plus
// account_id (the customer account's UUID), at, and event_id (a ULID, increasing: the stream's
// resume cursor, given back as since_id). The account is mapped to its user by the accounts
// registry; an account this worker does not serve is skipped (another worker, or another
// application, serves it). Pure: text in, events out.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "ingest/normalize/normalized.hpp"

namespace tickstream::ingest {

// The source name of the Broker API's events (in heartbeats and on every event).
inline constexpr std::string_view broker_events_source = "alpaca-broker";

struct broker_trade_event {
  std::string event_id;    // the resume cursor ("" when neither the data nor the SSE id has one)
  std::string account_id;  // "" when the data is unusable
  bool ours = false;       // the account maps to a user here: out holds its events
  normalized out;
};

// The user an account id belongs to here, or nullopt.
using account_lookup = std::function<std::optional<std::string>(std::string_view account_id)>;

// One SSE event's data (sse_id: the event's SSE id, used when the data has no event_id).
// Problems: "invalid_message" (not a JSON object, no account_id), and the trade update's own.
broker_trade_event normalize_broker_trade_event(std::string_view data, std::string_view sse_id,
                                                const account_lookup& users, std::int64_t recv_us);

}  // namespace tickstream::ingest
