#pragma once
// Publishes ticks through the Redis thread: each tick is serialized once and, in one pipeline,
// stored as its symbol's last tick (5-minute TTL) and published on its symbol channel.
//
// Flow control: at most max_in_flight ticks are queued or awaiting Redis's reply; publish()
// blocks beyond that, so a replay at --speed max cannot outrun Redis or grow memory.

#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "common/event.hpp"
#include "common/redis_client.hpp"

namespace tickstream::ingest {

class tick_publisher {
 public:
  struct counters {
    std::uint64_t published = 0;  // Redis confirmed the PUBLISH
    std::uint64_t failed = 0;     // gave up after retries (see the log)
  };

  tick_publisher(common::redis_client& redis, std::size_t max_in_flight);

  // Queues one tick. Blocks while max_in_flight ticks are outstanding.
  void publish(const common::price_update& tick);
  // Waits until every queued tick has completed.
  void flush();
  counters snapshot() const;

  // Seconds a tick's last-tick key lives (seed 000: a 5-minute price cache).
  static constexpr int last_tick_ttl_s = 300;

 private:
  void on_done(bool ok);

  common::redis_client& redis_;
  const std::size_t max_in_flight_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::size_t in_flight_ = 0;  // guarded by mu_
  counters counters_;          // guarded by mu_
};

}  // namespace tickstream::ingest
