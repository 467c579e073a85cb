#pragma once
// The edge's half of the Redis thread: the fan-out of each pub/sub message to the workers that
// hold its channel. A message is parsed and validated once, becomes one immutable frame, and is
// posted once per round to each interested worker (which then writes it to its own sessions).
// Which workers hold which channel is kept in one place, redis_client's channel table: a worker
// is a holder there (holder id = worker id, tag = the acquisition's generation).
//
// With one worker whose event loop the Redis client runs on (handoff::direct), nothing is posted:
// each frame goes to the worker by a plain call as its message is read, and confirmations,
// refusals and control messages are carried out at once, in the order Redis sent them.
//
// Threading: acquire()/release() may be called from any thread (they queue to the Redis thread);
// on_message(), flush() and the activations run on the Redis thread; gathered_ is touched only there.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/redis/keys.hpp"
#include "common/redis/redis_client.hpp"
#include "edge/fanout/fanout_target.hpp"
#include "edge/fanout/route_registry.hpp"
#include "edge/ops/edge_metrics.hpp"
#include "edge/portfolio/app_conflation.hpp"
#include "edge/protocol/broadcast_deflater.hpp"
#include "edge/protocol/frame.hpp"

namespace tickstream::edge {

// edge/app.cpp subscribes it by this name.
using common::source_status_channel;

class fanout final : public route_registry {
 public:
  // conflation: the app event types conflated on slow or batching connections (--conflate);
  // empty: none.
  fanout(edge_metrics& metrics, std::string control_channel, app_conflation conflation = {});

  // How messages reach the workers: posted, gathered per worker per round of Redis I/O (the Redis
  // client has a thread of its own); or by direct calls (one worker, and the Redis client runs on
  // its event loop).
  enum class handoff { posted, direct };

  // Wiring, before redis is started: the Redis client, the workers (by worker id), and on_control,
  // which runs (on the Redis thread) for each message on the edge's own control channel
  // (readiness probes).
  void attach(common::redis_client& redis, std::vector<fanout_target*> workers,
              std::function<void(std::string_view)> on_control = {}, handoff how = handoff::posted);
  // The same from the app's own worker pointers (any type derived from fanout_target).
  template <class Worker>
  void attach(common::redis_client& redis, const std::vector<Worker*>& workers,
              std::function<void(std::string_view)> on_control = {}, handoff how = handoff::posted) {
    attach(redis, std::vector<fanout_target*>(workers.begin(), workers.end()), std::move(on_control), how);
  }

  // route_registry: the route's channel gets the worker as a holder.
  void acquire(const std::string& route, std::size_t worker_id, std::uint64_t generation) override;
  void release(const std::string& route, std::size_t worker_id) override;

  // Ticks and topic messages are also compressed in their channel's shared stream (permessage-
  // deflate with context takeover), those of at least threshold bytes. Before redis is started.
  void compress_broadcasts(broadcast_deflater& d, std::size_t threshold) {
    deflater_ = &d;
    deflate_threshold_ = threshold;
  }

  // The Redis client's message handler.
  void on_message(std::string_view channel, std::string_view payload);
  // After each round of Redis I/O: hands each worker everything gathered for it in one post (on
  // the worker's own loop: tells it the round is delivered).
  void flush();

 private:
  // Redis confirmed a channel for a worker: the worker hears it with the route and generation.
  void on_activation(const common::channel_activation& a);
  // Redis refused a channel a worker took (an ACL): the worker answers the subscribes waiting for it.
  void on_refusal(const common::channel_refusal& r);
  // A source_status heartbeat: handed to every worker, which tracks staleness itself.
  void on_source_status(std::string_view payload);
  // A command on the tier's control channel (disconnect): handed to every worker.
  void on_tier_command(std::string_view payload);
  // An unusable message: counted by reason and logged at a bounded rate, then dropped.
  void drop(std::string_view channel, const common::error& problem, std::string_view payload);

  edge_metrics& metrics_;
  const std::string control_channel_;
  const app_conflation conflation_;
  common::redis_client* redis_ = nullptr;
  std::function<void(std::string_view)> on_control_;
  std::vector<fanout_target*> workers_;
  bool direct_ = false;  // handoff::direct
  broadcast_deflater* deflater_ = nullptr;
  std::size_t deflate_threshold_ = 0;
  // Redis thread only: how many bad messages were seen (bounds how often they are logged), and
  // the frames gathered per worker since the last flush.
  std::size_t invalid_seen_ = 0;
  std::vector<std::vector<frame_ptr>> gathered_;
};

}  // namespace tickstream::edge
