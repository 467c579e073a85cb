#pragma once
// The edge's half of the Redis thread: which workers want which channel, and the fan-out of each
// pub/sub message to them. A message is parsed and validated once, becomes one immutable frame,
// and is posted once to each interested worker (which then writes it to its own sessions).
//
// Threading: acquire()/release() may be called from any thread (they post to the Redis thread);
// on_message() runs on the Redis thread; routes_ is touched only there.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/redis/redis_client.hpp"
#include "edge/ops/edge_metrics.hpp"
#include "edge/protocol/frame.hpp"
#include "edge/fanout/subscription_index.hpp"

namespace tickstream::edge {

class worker;

// Ingest publishes each live source's liveness here (ingest/app.cpp, source_status).
inline constexpr std::string_view source_status_channel = "ts:sys";

class fanout {
 public:
  fanout(edge_metrics& metrics, std::string control_channel);

  // Wiring, before any traffic: the Redis client and the workers; on_control runs (on the Redis
  // thread) for each message on the edge's own control channel (readiness probes).
  void attach(common::redis_client& redis, std::vector<worker*> workers,
              std::function<void(std::string_view)> on_control = {});

  // Worker worker_id wants symbol's ticks; it is told through worker::post_activate() when Redis
  // has confirmed. Each acquire() must be matched by one release().
  void acquire(const std::string& symbol, std::size_t worker_id, std::uint64_t generation);
  void release(const std::string& symbol, std::size_t worker_id);

  // The Redis client's message handler.
  void on_message(std::string_view channel, std::string_view payload);
  // After each round of Redis I/O: hands each worker everything gathered for it in one post.
  void flush();

 private:
  // A source_status heartbeat: handed to every worker, which tracks staleness itself.
  void on_source_status(std::string_view payload);
  // An unusable message: counted by reason and logged at a bounded rate, then dropped.
  void drop(std::string_view channel, const common::error& problem, std::string_view payload);

  edge_metrics& metrics_;
  const std::string control_channel_;
  common::redis_client* redis_ = nullptr;
  std::function<void(std::string_view)> on_control_;
  std::vector<worker*> workers_;
  // channel -> ids of the workers holding a reference (Redis thread only).
  std::unordered_map<std::string, std::vector<std::size_t>, string_hash, std::equal_to<>> routes_;
  std::size_t invalid_seen_ = 0;  // Redis thread only; bounds how often bad messages are logged
  std::vector<std::vector<frame_ptr>> gathered_;  // per worker, since the last flush (Redis thread)
};

}  // namespace tickstream::edge
