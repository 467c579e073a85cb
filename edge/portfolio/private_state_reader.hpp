#pragma once
// Reads one user's private state from Redis for a snapshot, a resume or a gap fill, atomically:
// one Lua script returns the user's seq together with the history after a given seq, the stored
// positions, open orders and account as of exactly that seq (ingest writes all of them in one
// script per event, so the read can never see half an event). Then the last tick of each wanted
// symbol (and of each held position's symbol, for P&L) is read; ticks are not part of the seq.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/redis/redis_client.hpp"
#include "common/result.hpp"

namespace tickstream::edge {

struct state_request {
  std::string user_id;      // empty: last ticks only
  std::int64_t after = -1;  // history after this seq is wanted (-1: no history)
  bool positions = false;
  bool orders = false;
  bool account = false;
  std::vector<std::string> symbols;  // last ticks wanted
  // A resume further back than this many events is answered with a resync instead.
  std::int64_t max_history = 10'000;
};

struct private_state {
  std::int64_t seq = 0;
  // With after >= 0: whether history holds exactly the events (after, seq], in order. False when
  // the history no longer reaches back that far, or when after > seq (Redis lost data).
  bool history_complete = false;
  std::vector<std::string> history;  // stored events as JSON, in seq order
  std::vector<std::string> positions;
  std::vector<std::string> orders;
  std::optional<std::string> account;
  // Last tick (JSON) of each wanted symbol that has one, and of each held position's symbol.
  std::vector<std::pair<std::string, std::string>> prices;
};

// Runs on the Redis thread; done is called there exactly once, with "redis_error" and friends
// (see redis_client) or "bad_reply" on failure.
void read_private_state(common::redis_client& redis, state_request req,
                        std::function<void(common::result<private_state>)> done);

}  // namespace tickstream::edge
