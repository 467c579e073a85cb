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

#include "ingest/normalize/normalized.hpp"

namespace tickstream::ingest {

class alpaca_trading_normalizer {
 public:
  explicit alpaca_trading_normalizer(std::string user_id) : user_id_(std::move(user_id)) {}
  normalized normalize(std::string_view raw, std::int64_t recv_us);

 private:
  std::string user_id_;
};

}  // namespace tickstream::ingest
