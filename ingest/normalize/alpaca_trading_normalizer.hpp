#pragma once
// Alpaca's trading stream (wss://{paper-,}api.alpaca.markets/stream): the auth -> "authorization"
// and listen -> "listening" handshake replies, and "trade_updates" events (new, fill,
// partial_fill, canceled, expired, replaced, rejected, ...) with the nested order object. Frames
// may be text or binary; both carry the same JSON. One stream is one broker account, so the
// normalizer is built with the user id that account maps to. Pure: text in, events out.
//
// Every event yields the order's order_update; fill and partial_fill also yield a
// trade_executed (keyed by the execution id, for de-duplication) and a position_update with the
// position quantity after the fill (the average entry price is computed where the position is
// stored, from the previous one).

#include <cstdint>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "ingest/normalize/normalized.hpp"

namespace tickstream::ingest {

// One trade update's `data` object (event, order, and for a fill price, qty, position_qty,
// execution_id, timestamp) into out, as the user's events from source. The WebSocket stream's
// `trade_updates` and the Broker API's trade events (ingest/normalize/broker_events_normalizer)
// carry the same object.
void normalize_trade_update(const rapidjson::Value& data, const std::string& user_id, std::string_view source,
                            std::int64_t recv_us, normalized& out);

class alpaca_trading_normalizer {
 public:
  explicit alpaca_trading_normalizer(std::string user_id) : user_id_(std::move(user_id)) {}
  normalized normalize(std::string_view raw, std::int64_t recv_us);

 private:
  std::string user_id_;
};

}  // namespace tickstream::ingest
