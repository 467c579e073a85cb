#pragma once
// Writes private events into Redis: for each event, one Lua script, atomic on the user's slot,
// assigns the next sequence number, appends to the user's capped history stream (stream id =
// sequence number), updates the snapshot (open orders, positions, account), and publishes on the
// user's channel. An event whose broker message was already stored (a duplicate after a
// reconnect, a second ingest worker on the same stream, a webhook posted twice) is dropped whole:
// by its execution id for fills, by its content and time for messages without an id.
//
// A position moved by a fill is computed here (common/account/account_math.hpp) from the stored
// position and account, read first: the position gets its average entry price and realized P&L,
// the account's cash moves by the fill (marked provisional until the broker's next report), and
// both are written in one script run only if neither changed since the read (compare-and-set on
// their seqs), else read again. A fill that a reconciliation already counted (the broker's
// snapshot it stored held the fill's order filled at least this far) is not applied again: its
// position part is dropped like a duplicate. While a fill of a user is being applied, that user's later events
// wait for it, so every user's events are stored in the order they were given.
//
// The script is common/redis/scripts/private_store.lua; the keys are the user's (common/redis/keys.hpp,
// one hash slot per user, ready for Redis Cluster).

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/event.hpp"
#include "common/redis/redis_client.hpp"

namespace tickstream::ingest {

// A fill applied to the stored state: the position after it and, if an account is stored, the
// account with its cash moved (provisional).
struct fill_outcome {
  common::position_update position;
  std::optional<common::account_update> account;
};

// Pure: p (a position_update with its fill) applied to the stored position and account JSON
// (absent: none stored). Errors: "invalid_fill" (a number that does not parse, or overflow).
common::result<fill_outcome> apply_stored_fill(common::position_update p,
                                               const std::optional<std::string>& stored_position,
                                               const std::optional<std::string>& stored_account);

// Pure: whether a fill is already counted in the stored position and account by a reconciliation
// with the broker (its snapshot held the fill's order filled at least this far: reconciled_filled,
// the order's entry in ts:{u:<id>}:filled). Then the fill must not move them again.
bool fill_already_reconciled(const common::position_update::fill_info& f,
                             const std::optional<std::string>& reconciled_filled);

class private_store {
 public:
  // The outcome of one store: the assigned sequence number, 0 for a duplicate, or an error.
  using done_handler = std::function<void(common::result<std::int64_t>)>;

  private_store(common::redis_client& redis, std::int64_t history_len) : redis_(redis), history_len_(history_len) {}

  // ev must be a private event (not a price_update); any seq it carries is replaced. done runs on
  // the Redis thread. Thread-safe.
  void store(common::event ev, done_handler done);

  // Application events (the server API's) take the user's next seqs, enter the history and are
  // published like broker events, but touch no snapshot.
  //
  // One application event of a batch: its JSON on either side of the seq, its de-duplication id.
  struct app_event_parts {
    std::string before;
    std::string after;
    std::string dedupe_id;  // "" for none
  };
  // The outcome of a batch: one seq per event, in order (0 for a duplicate), or an error (then
  // none of them is known to be stored: the request is retried, and idempotency keys hold).
  using batch_done_handler = std::function<void(common::result<std::vector<std::int64_t>>)>;
  // Stores events of one user, in order, in one script run (common/redis/scripts/
  // app_events_store.lua): for each, what private_store.lua does for a broker event without a
  // snapshot (de-duplicate, seq, history, publish), without one script run per event. A
  // dedupe_id is kept 7 days; one given twice is stored once, by its first event. done runs on
  // the Redis thread. Thread-safe.
  void store_app_events(const std::string& user_id, std::vector<app_event_parts> events, std::int64_t now_ms,
                        batch_done_handler done);

  // Order statuses after which an order is no longer open.
  static bool is_terminal_status(std::string_view status) noexcept;

 private:
  // A user's events waiting behind a fill being applied.
  struct user_queue {
    std::deque<std::pair<common::event, done_handler>> waiting;
  };
  // Sends ev on its way (a fill: marks its user busy until done).
  void dispatch(common::event ev, done_handler done);
  // A fill of user is stored: what waited behind it goes, up to the next fill.
  void fill_done(const std::string& user);
  void store_plain(common::event ev, done_handler done);
  void store_fill(common::position_update p, done_handler done, int attempt);
  void run_script(const common::event& ev, const std::string& kind, const std::string& key, const std::string& state,
                  std::string expect_position_seq, std::string expect_account_seq,
                  const std::optional<common::account_update>& second, done_handler done);

  common::redis_client& redis_;
  std::int64_t history_len_;
  std::mutex mu_;  // guards busy_ (store() runs on the caller's thread, fills end on the Redis thread)
  std::unordered_map<std::string, user_queue> busy_;  // users with a fill in flight
};

}  // namespace tickstream::ingest
