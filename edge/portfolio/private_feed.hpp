#pragma once
// One connection's view of its user's private stream: the snapshot it starts from, resume with
// `since`, gap detection and filling from the user's Redis history, and live P&L.
//
// Every stored event carries the user's seq. The feed delivers each seq at most once and in order:
// live events at or below the last delivered seq are duplicates (dropped); an event above the next
// one reveals a gap (a pub/sub message lost, a Redis restart), which is filled from the history
// before anything later goes out — or, if the history no longer reaches back, answered with a
// `resync` carrying a fresh snapshot. While the state is being read, live events are held.
//
// Threading: everything runs on the session's worker thread; state reads come back through
// host::feed_poster(). Owned by the session, which outlives every posted callback it lets run.
// The state read, the clock and the metrics are injected: tests drive the machine with scripted
// replies (a gap, a resync, a failed read, a reconnect) and no Redis.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "edge/ops/edge_metrics.hpp"
#include "edge/portfolio/portfolio.hpp"
#include "edge/portfolio/private_state_reader.hpp"
#include "edge/protocol/frame.hpp"
#include "edge/protocol/private_channels.hpp"

namespace tickstream::edge {

class private_feed {
 public:
  using clock = std::chrono::steady_clock;

  class host {
   public:
    // A frame for the client through the connection's batching and conflation.
    virtual void feed_deliver(frame_ptr f) = 0;
    // The edge's own message (snapshot, resync), in order with everything delivered.
    virtual void feed_reply(std::string json) = 0;
    // Follow (or stop following) a symbol's ticks for P&L, without the client seeing them.
    virtual void feed_follow(const std::string& symbol, bool follow) = 0;
    // A function that runs its argument later on the session's thread, unless the session is gone
    // by then. It may be called from any thread and may outlive the session.
    virtual std::function<void(std::function<void()>)> feed_poster() = 0;
    // Drops prices of symbols whose ticks the client already received since the snapshot was asked
    // (called once for each sync() with symbols and a snapshot).
    virtual void feed_filter_prices(std::vector<std::pair<std::string, std::string>>& prices) = 0;

   protected:
    ~host() = default;
  };

  // Reads a user's state (read_private_state in production); done may run on any thread.
  using state_reader = std::function<void(state_request, std::function<void(common::result<private_state>)>)>;

  struct context {
    state_reader read;
    edge_metrics& metrics;
    std::function<clock::time_point()> now = [] { return clock::now(); };
  };

  private_feed(host& h, context ctx, std::string user_id);

  // A subscribe adds channels `bits`: live events are held from now on. Returns a ticket for sync().
  std::uint64_t hold(std::uint8_t bits);
  // The subscribe behind ticket is confirmed (the user's channel is live in Redis): read the state,
  // send the snapshot — or, with since, replay what the client missed — then release what was held.
  void sync(std::uint64_t ticket, std::optional<std::int64_t> since, std::vector<std::string> symbols, bool snapshot);
  // An unsubscribe: returns the channels still held.
  std::uint8_t drop(std::uint8_t bits);
  std::uint8_t bits() const noexcept { return bits_; }

  // A stored event from the user's channel.
  void on_event(const frame_ptr& f);
  // A tick of a symbol the user holds a position in.
  void on_tick(const frame& tick);
  bool follows(std::string_view symbol) const { return tracks_portfolio() && portfolio_.holds(symbol); }
  // Redis confirmed the user's channel again after a reconnect: check for a gap.
  void on_resubscribed();
  // About once a second: retries a read that failed.
  void tick(clock::time_point now);
  // Whether this connection's private data comes from source.
  bool depends_on(std::string_view source) const;

 private:
  struct order {
    std::uint64_t ticket = 0;
    bool ready = false;          // its subscribe is confirmed
    std::uint8_t old_bits = 0;   // channels held before this order
    std::uint8_t snap_bits = 0;  // channels the subscribe named (0: a gap check)
    std::optional<std::int64_t> since;
    std::vector<std::string> symbols;
    bool snapshot = false;
  };

  bool tracks_portfolio() const noexcept { return (bits_ & (channel_bits::positions | channel_bits::account)) != 0; }
  bool syncing() const noexcept { return !orders_.empty(); }
  void gap_check();
  void start_next();
  void on_state(std::uint64_t epoch, common::result<private_state> st);
  void apply_state(const order& o, private_state& st);
  // Delivers one stored event whose seq follows the last one (filtered by channel bits).
  void deliver(const frame_ptr& f, std::uint8_t filter);
  // What caused a mark: the tick (or stored last tick) that priced it.
  struct mark_label {
    std::int64_t time_us = 0;
    std::int64_t recv_time_us = 0;
    std::string source;
  };
  // Marks of symbol's position and the account; labelled with what caused them (none: as stored).
  void deliver_marks(std::string_view symbol, const std::optional<mark_label>& label);
  // Sends the account mark held back after a position_update, if any.
  void flush_account_mark();
  // Reads symbol's last tick and marks its position with it, unless a live tick came first.
  void read_last_tick(const std::string& symbol);
  void sync_follows();
  void note_source(const std::string& source);

  host& host_;
  context ctx_;
  const std::string user_id_;
  std::uint8_t bits_ = 0;
  std::int64_t last_seq_ = -1;  // last seq delivered (-1: none yet)
  std::deque<order> orders_;    // the front one is read (or waits for its confirmation)
  bool in_flight_ = false;
  bool retry_ = false;  // the front order's read failed; tick() retries
  clock::time_point retry_at_{};
  bool recheck_ = false;  // a reconnect happened while reading: check again after
  std::uint64_t next_ticket_ = 1;
  std::uint64_t epoch_ = 0;      // bumped when every channel is dropped: late replies are ignored
  std::vector<frame_ptr> held_;  // live events arriving while syncing, in order
  bool held_overflow_ = false;
  bool raw_replay_ = false;  // replaying a resume's history before the portfolio is loaded
  portfolio portfolio_;
  // An account mark caused by a stored position_update, sent with the next event, at the next
  // tick() (about a second) or not at all if the next event is an account_update.
  std::optional<common::account_update> pending_account_mark_;
  std::vector<std::string> followed_;
  std::vector<std::string> sources_;
};

}  // namespace tickstream::edge
