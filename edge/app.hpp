#pragma once
// Edge wiring: metrics, the Redis thread and its fan-out, the workers and the listener, started
// in that order and stopped in reverse; the drain on SIGTERM.

#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/redis/redis_client.hpp"
#include "common/result.hpp"
#include "common/stop_signal.hpp"
#include "edge/config.hpp"
#include "edge/fanout/fanout.hpp"
#include "edge/net/services.hpp"
#include "edge/net/session_limits.hpp"
#include "edge/ops/edge_metrics.hpp"
#include "edge/ops/readiness.hpp"

namespace tickstream::edge {

class listener;
class worker;

class app {
 public:
  // The app for config, or why config is unusable (the error's code names the flag).
  static common::result<std::unique_ptr<app>> make(app_config config);
  ~app();
  app(const app&) = delete;
  app& operator=(const app&) = delete;

  // The whole life of the process: starts, serves until SIGTERM/SIGINT, drains (a second signal
  // cuts the drain short), stops. Returns the exit status (2: the port cannot be bound).
  int run(common::stop_signal& signals);

  // Binds the listener and starts every thread; throws std::system_error if the port cannot be
  // bound.
  void start();
  // The bound port (useful with port 0), and the ops port's (0: none).
  unsigned short port() const;
  unsigned short ops_port() const;
  // Stops accepting, closes every client with 1001, and joins all threads. Idempotent.
  void stop();
  // Graceful drain (SIGTERM): /readyz turns 503, new upgrades are refused, and every client gets a
  // "reconnect" hint and a 1001 close at a random moment within --drain-ms. Returns at once.
  void drain();
  // Open WebSocket connections on every worker.
  std::size_t connection_count() const;

 private:
  app(app_config config, auth_config auth);

  app_config config_;
  edge_metrics metrics_;
  // With --permessage-deflate and context takeover: the broadcast channels' compression streams,
  // used by the fan-out on the Redis thread.
  std::unique_ptr<broadcast_deflater> broadcast_deflate_;
  fanout fanout_;
  common::redis_client redis_;
  std::vector<std::unique_ptr<worker>> workers_;
  std::unique_ptr<connection_leases> leases_;
  services services_;
  std::shared_ptr<listener> listener_;
  std::shared_ptr<listener> ops_listener_;  // with --ops-listen
  bool stopped_ = false;
  connection_census census_;
  address_quota quota_{config_.limits.max_subscriptions_per_address};
  connect_rate_limiter connect_limiter_{static_cast<std::uint32_t>(config_.max_connects_per_ip)};
  std::atomic<bool> draining_{false};
  readiness readiness_{std::chrono::milliseconds(config_.probe_interval_ms)};
  std::optional<boost::asio::steady_timer> probe_timer_;
  void send_probe();
  void return_memory();
  std::size_t peak_held_ = 0;  // connections, subscriptions and channels since the last trim (worker 0 only)
  int trims_left_ = 0;         // probes that still trim after a drop (worker 0 only)
  bool ready(std::string& why) const;
  std::string admin_stats() const;
};

}  // namespace tickstream::edge
