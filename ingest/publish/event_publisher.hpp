#pragma once
// Publishes events through the Redis thread.
//   - A tick is serialized once and, in one pipeline, stored as its symbol's last tick (5-minute
//     TTL) and published on its symbol channel.
//   - A private event goes through private_store (sequence number, history, snapshot, publish,
//     de-duplication), one atomic script per event.
//
// Flow control: at most max_in_flight events and dead letters are queued or awaiting Redis's
// reply; publish() and dead_letter() block beyond that, so a replay at --speed max cannot outrun
// Redis or grow memory.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

#include "common/event.hpp"
#include "common/redis/redis_client.hpp"
#include "ingest/publish/private_store.hpp"

namespace tickstream::ingest {

class event_publisher {
 public:
  struct counters {
    std::uint64_t published = 0;   // Redis confirmed the PUBLISH (or the store script)
    std::uint64_t duplicates = 0;  // private events already stored (same execution id)
    std::uint64_t failed = 0;      // gave up after retries (see the log)
  };

  event_publisher(common::redis_client& redis, std::size_t max_in_flight, std::int64_t history_len);

  // The outcome of one publish, on the Redis thread: published, a duplicate, or failed.
  enum class outcome { published, duplicate, failed };
  using done_handler = std::function<void(outcome)>;

  // Queues one event. Blocks while max_in_flight events are outstanding. done, if set, runs on
  // the Redis thread once Redis has the event (or gave up).
  void publish(const common::event& ev, done_handler done = {});
  // Records input that could not be used in the capped dead-letter stream ts:dead (fields:
  // source, code, reason, excerpt, recv_us), for later inspection. Counts against max_in_flight
  // like an event, so flush() also waits for it: a replay ending right after bad input keeps it.
  void dead_letter(const std::string& source, const common::error& problem, std::string_view input,
                   std::int64_t recv_us);
  // Entries kept in ts:dead (approximately).
  static constexpr int dead_letter_len = 10'000;

  // Waits until every queued event and dead letter has completed.
  void flush();
  counters snapshot() const;

  // Seconds a tick's last-tick key lives (seed 000: a 5-minute price cache).
  static constexpr int last_tick_ttl_s = 300;

 private:
  void publish_tick(const common::price_update& tick, done_handler done);
  void acquire();
  // Ends one acquire(): frees its slot and, under the same lock, bumps counted if given.
  void release(std::uint64_t* counted = nullptr);
  void on_done(outcome o, const done_handler& done);

  common::redis_client& redis_;
  private_store store_;
  const std::size_t max_in_flight_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::size_t in_flight_ = 0;  // guarded by mu_
  counters counters_;          // guarded by mu_
};

}  // namespace tickstream::ingest
