#pragma once
// What ingest holds for Redis, bounded, with a policy per kind, so that a Redis outage never
// blocks the threads that read the sources (a pure core: no sockets, no clock, no Redis types;
// the caller passes the time in microseconds and does the I/O).
//
//   - tick: one waiting per symbol (a newer tick replaces the waiting one: conflated); a tick
//     whose receive time is more than max_tick_age before the moment it could be sent is dropped
//     (expired), so a price never leaves ingest stale after an outage. Past max_waiting_ticks
//     symbols a new symbol's tick is refused.
//   - private event: kept in arrival order up to max_waiting_private, then refused, so the caller
//     can refuse upstream (the webhook answers 503 and its sender retries).
//   - dead letter: kept up to max_waiting_dead_letters, then refused (the caller counts it).
//
// Sending: next() hands out what may go to Redis now, at most max_in_flight unanswered at a time,
// and nothing while Redis is unusable: its connection is down, or the oldest unanswered command
// has waited longer than stall_after (a stalled Redis answers nothing while its socket looks
// fine). The unanswered commands are the probe: when their replies come back (or fail), sending
// resumes. Private events go first, then ticks, then dead letters.
//
// Threading: none; the owner locks.

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tickstream::ingest {

enum class publish_kind : std::uint8_t { tick, private_event, dead_letter };

struct publish_queue_limits {
  std::size_t max_in_flight = 10'000;        // handed to Redis, reply not back yet
  std::size_t max_waiting_ticks = 100'000;   // symbols with a tick waiting
  std::size_t max_waiting_private = 50'000;  // private events waiting (~1 KiB each)
  std::size_t max_waiting_dead_letters = 1'000;
  std::int64_t max_tick_age_us = 2'000'000;  // older than this when it could be sent: dropped
  std::int64_t stall_after_us = 1'000'000;   // a reply this late: Redis is unusable
};

// What happened to a pushed item.
enum class admission : std::uint8_t {
  queued,     // waiting
  conflated,  // replaced the waiting tick of its symbol (whose item is handed back)
  refused,    // over its kind's bound: the caller refuses or counts it
};

struct publish_queue_counters {
  std::uint64_t conflated = 0;  // ticks replaced by a newer one of their symbol
  std::uint64_t expired = 0;    // ticks dropped as older than max_tick_age
  std::uint64_t refused_ticks = 0;
  std::uint64_t refused_private = 0;
  std::uint64_t refused_dead_letters = 0;
};

template <class Item>
class publish_queue {
 public:
  using counters = publish_queue_counters;
  struct ready {
    std::uint64_t id;  // pass to on_reply()
    publish_kind kind;
    Item item;
  };

  explicit publish_queue(publish_queue_limits limits) : limits_(limits) {}

  // A tick of symbol received at recv_us. On conflated, *replaced (if given) gets the tick it
  // replaced, so its owner can be told.
  admission push_tick(const std::string& symbol, std::int64_t recv_us, Item item, Item* replaced = nullptr) {
    if (auto it = tick_slot_.find(symbol); it != tick_slot_.end()) {
      auto& slot = ticks_[it->second - tick_base_];
      if (replaced != nullptr) *replaced = std::move(slot.item);
      slot.item = std::move(item);
      slot.recv_us = recv_us;
      ++counters_.conflated;
      return admission::conflated;
    }
    if (tick_slot_.size() >= limits_.max_waiting_ticks) {
      ++counters_.refused_ticks;
      return admission::refused;
    }
    tick_slot_.emplace(symbol, tick_base_ + ticks_.size());
    ticks_.push_back({symbol, recv_us, std::move(item)});
    return admission::queued;
  }

  // A private event or a dead letter, kept in order up to its bound.
  admission push(publish_kind kind, Item item) {
    auto& q = kind == publish_kind::dead_letter ? dead_ : private_;
    const auto bound =
        kind == publish_kind::dead_letter ? limits_.max_waiting_dead_letters : limits_.max_waiting_private;
    if (q.size() >= bound) {
      ++(kind == publish_kind::dead_letter ? counters_.refused_dead_letters : counters_.refused_private);
      return admission::refused;
    }
    q.push_back(std::move(item));
    return admission::queued;
  }

  // True if n private events pushed now would all be kept.
  bool has_room_for_private(std::size_t n) const noexcept { return private_.size() + n <= limits_.max_waiting_private; }

  // Redis can be used: connected, and no reply overdue at now_us.
  bool usable(std::int64_t now_us, bool connected) const noexcept {
    return connected && (in_flight_.empty() || now_us - in_flight_.begin()->second <= limits_.stall_after_us);
  }

  // The next item to hand to Redis at now_us, or nullopt (nothing waits, the window is full, or
  // Redis is unusable). Ticks found too old on the way are moved to *expired (if given).
  std::optional<ready> next(std::int64_t now_us, bool connected, std::vector<Item>* expired = nullptr) {
    if (in_flight_.size() >= limits_.max_in_flight || !usable(now_us, connected)) return std::nullopt;
    std::optional<ready> out;
    if (!private_.empty()) {
      out.emplace(ready{next_id_, publish_kind::private_event, std::move(private_.front())});
      private_.pop_front();
    } else if (auto tick = next_fresh_tick(now_us, expired)) {
      out.emplace(ready{next_id_, publish_kind::tick, std::move(*tick)});
    } else if (!dead_.empty()) {
      out.emplace(ready{next_id_, publish_kind::dead_letter, std::move(dead_.front())});
      dead_.pop_front();
    } else {
      return std::nullopt;
    }
    in_flight_.emplace(next_id_++, now_us);
    return out;
  }

  // A command of the caller's own sent at now_us (a probe), unanswered until on_reply(): a Redis
  // that stalls while nothing else is in flight is noticed too.
  std::uint64_t track(std::int64_t now_us) {
    in_flight_.emplace(next_id_, now_us);
    return next_id_++;
  }

  // The reply to a handed-out item came back (a success or an error).
  void on_reply(std::uint64_t id) { in_flight_.erase(id); }

  // Everything still waiting, removed (at shutdown: what will never be sent), in kind order.
  std::vector<Item> take_waiting() {
    std::vector<Item> out;
    for (auto& i : private_) out.push_back(std::move(i));
    for (auto& t : ticks_) out.push_back(std::move(t.item));
    for (auto& i : dead_) out.push_back(std::move(i));
    tick_base_ += ticks_.size();
    private_.clear();
    ticks_.clear();
    dead_.clear();
    tick_slot_.clear();
    return out;
  }

  std::size_t waiting() const noexcept { return private_.size() + ticks_.size() + dead_.size(); }
  std::size_t waiting_private() const noexcept { return private_.size(); }
  std::size_t waiting_ticks() const noexcept { return ticks_.size(); }
  std::size_t in_flight() const noexcept { return in_flight_.size(); }
  bool idle() const noexcept { return waiting() == 0 && in_flight_.empty(); }
  const counters& stats() const noexcept { return counters_; }
  const publish_queue_limits& limits() const noexcept { return limits_; }

 private:
  struct tick_entry {
    std::string symbol;
    std::int64_t recv_us;
    Item item;
  };

  // Pops ticks in the order their symbols arrived until one is young enough at now_us.
  std::optional<Item> next_fresh_tick(std::int64_t now_us, std::vector<Item>* expired) {
    while (!ticks_.empty()) {
      auto t = std::move(ticks_.front());
      ticks_.pop_front();
      ++tick_base_;
      tick_slot_.erase(t.symbol);
      if (now_us - t.recv_us <= limits_.max_tick_age_us) return std::move(t.item);
      ++counters_.expired;
      if (expired != nullptr) expired->push_back(std::move(t.item));
    }
    return std::nullopt;
  }

  publish_queue_limits limits_;
  std::deque<Item> private_;
  std::deque<Item> dead_;
  // Ticks in the order their symbols first arrived; tick_slot_ maps a symbol to its entry's
  // position counted from the start (tick_base_ = entries popped so far), so a conflation is
  // one lookup and the entry keeps its place.
  std::deque<tick_entry> ticks_;
  std::unordered_map<std::string, std::uint64_t> tick_slot_;
  std::uint64_t tick_base_ = 0;
  std::map<std::uint64_t, std::int64_t> in_flight_;  // id -> sent at (ids grow: begin() is the oldest)
  std::uint64_t next_id_ = 1;
  counters counters_;
};

}  // namespace tickstream::ingest
