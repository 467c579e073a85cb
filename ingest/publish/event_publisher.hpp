#pragma once
// Publishes events through the Redis thread.
//   - A tick is serialized once and, in one pipeline, stored as its symbol's last tick (5-minute
//     TTL) and published on its symbol channel.
//   - A private event goes through private_store (sequence number, history, snapshot, publish,
//     de-duplication), one atomic script per event.
//
// Nothing here blocks on Redis: events wait in a bounded publish_queue (ticks conflated per symbol
// and dropped when too old, private events kept up to a bound and then refused), and at most
// max_in_flight commands are handed to Redis at a time, none while Redis is unusable (down, or a
// reply overdue by stall_after). A replay that must not lose ticks waits for room with
// wait_for_room() instead.
//
// Threading: every member is thread-safe. Handlers run on the Redis thread for what Redis
// answered, and on the calling thread for what never reached it (conflated or expired ticks,
// refusals, what is left at shutdown); they must be quick and must not call back in.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <variant>

#include "common/event.hpp"
#include "common/redis/redis_client.hpp"
#include "ingest/publish/private_store.hpp"
#include "ingest/publish/publish_queue.hpp"

namespace tickstream::ingest {

class event_publisher {
 public:
  // The outcome of one publish.
  enum class outcome {
    published,  // Redis confirmed the PUBLISH (or the store script)
    duplicate,  // a private event already stored (same execution id)
    failed,     // Redis refused it (an error reply such as OOM) or gave up after retries: logged
    dropped,    // a tick replaced by a newer one of its symbol, or too old to send
    refused,    // over the queue's bound: never queued (the caller refuses upstream or counts it)
    abandoned,  // still waiting when the process stopped
  };
  using done_handler = std::function<void(outcome)>;

  struct counters {
    std::uint64_t published = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t failed = 0;
    std::uint64_t abandoned = 0;  // left waiting at shutdown (counted in failed too)
  };

  struct options {
    publish_queue_limits limits{};
    std::int64_t history_len = 1000;
    // Every outcome as it happens, with the event's kind (e.g. for metrics); any thread.
    std::function<void(outcome, publish_kind)> observe{};
  };

  event_publisher(common::redis_client& redis, options opts);
  // Compatibility: a window of max_in_flight, default bounds otherwise.
  event_publisher(common::redis_client& redis, std::size_t max_in_flight, std::int64_t history_len);

  // Queues one event and returns at once. done, if set, hears its outcome (refused included).
  admission publish(const common::event& ev, const done_handler& done = {});
  // Records input that could not be used in the capped dead-letter stream ts:dead (fields:
  // source, code, reason, excerpt, recv_us), for later inspection. Dropped (and counted) past its
  // bound.
  void dead_letter(const std::string& source, const common::error& problem, std::string_view input,
                   std::int64_t recv_us);
  // Entries kept in ts:dead (approximately).
  static constexpr int dead_letter_len = 10'000;

  // Hands Redis what may go now. publish() and every reply do it; call it periodically too (every
  // ~100 ms), since nothing else notices that Redis became usable again with nothing in flight.
  void pump();
  // Sends a PING if nothing is in flight, so that a Redis stalling while nothing is published is
  // noticed within stall_after too. Call it periodically (every ~second).
  void probe();
  // Redis is usable: connected, and no reply overdue.
  bool usable() const;
  // Connected, but a reply is overdue: a stalled Redis (as opposed to one being reconnected).
  bool stalled() const;
  // True if n private events published now would all be kept.
  bool has_room_for_private(std::size_t n) const;
  // For a replay, which must not conflate or drop: waits until an event published now is sent at
  // once (nothing waiting, room in the window, Redis usable). False if stop() said to stop.
  bool wait_for_room(const std::function<bool()>& stopping);
  // Waits until everything queued has completed (true), or stopping() says to stop (false).
  bool wait_idle(const std::function<bool()>& stopping);
  // Waits until every queued event and dead letter has completed, at most `limit`; then what is
  // still waiting is abandoned (its handlers hear `abandoned`) and true is returned only if
  // nothing was. What was handed to Redis completes when the Redis client stops.
  bool flush(std::chrono::milliseconds limit = std::chrono::milliseconds::max());
  counters snapshot() const;
  publish_queue_counters queue_stats() const;
  std::size_t waiting() const;
  const publish_queue_limits& queue_limits() const noexcept { return limits_; }

  // Seconds a tick's last-tick key lives (seed 000: a 5-minute price cache).
  static constexpr int last_tick_ttl_s = 300;

 private:
  struct dead_letter_args {
    std::vector<std::string> args;
    std::string source;
  };
  struct item {
    std::variant<common::event, dead_letter_args> what;
    done_handler done;
  };
  struct settle;  // outcomes to report once the lock is released

  void pump_locked(std::unique_lock<std::mutex>& lock, settle& s);
  void send(std::uint64_t id, publish_kind kind, item&& it);
  void on_reply(std::uint64_t id, publish_kind kind, outcome o, const done_handler& done);
  void report(outcome o, publish_kind kind, const done_handler& done);
  std::int64_t now_us() const;

  common::redis_client& redis_;
  private_store store_;
  const std::function<void(outcome, publish_kind)> observe_;
  const publish_queue_limits limits_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  publish_queue<item> queue_;  // guarded by mu_
  counters counters_;          // guarded by mu_
};

}  // namespace tickstream::ingest
