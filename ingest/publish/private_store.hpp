#pragma once
// Writes private events into Redis: for each event, one Lua script, atomic on the user's slot,
// assigns the next sequence number, appends to the user's capped history stream (stream id =
// sequence number), updates the snapshot (open orders, positions, account), and publishes on the
// user's channel. A trade_executed whose execution id was already stored (a duplicate after a
// reconnect, or from a second ingest worker on the same stream) is dropped whole.
//
// The script is common/redis/scripts/private_store.lua; the keys are the user's (common/redis/keys.hpp,
// one hash slot per user, ready for Redis Cluster).

#include <cstdint>
#include <functional>
#include <string>

#include "common/event.hpp"
#include "common/redis/redis_client.hpp"

namespace tickstream::ingest {

class private_store {
 public:
  // The outcome of one store: the assigned sequence number, 0 for a duplicate, or an error.
  using done_handler = std::function<void(common::result<std::int64_t>)>;

  private_store(common::redis_client& redis, std::int64_t history_len) : redis_(redis), history_len_(history_len) {}

  // ev must be a private event (not a price_update); any seq it carries is replaced. done runs on
  // the Redis thread.
  void store(common::event ev, done_handler done);

  // Order statuses after which an order is no longer open.
  static bool is_terminal_status(std::string_view status) noexcept;

 private:
  common::redis_client& redis_;
  std::int64_t history_len_;
};

}  // namespace tickstream::ingest
