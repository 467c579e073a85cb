#pragma once
// Edge wiring: metrics, the Redis thread and its fan-out, the workers and the listener, started
// in that order and stopped in reverse.

#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/config_parser.hpp"
#include "common/redis/redis_client.hpp"
#include "edge/auth/authenticator.hpp"
#include "edge/ops/edge_metrics.hpp"
#include "edge/fanout/fanout.hpp"
#include "edge/services.hpp"
#include "edge/net/session_limits.hpp"

namespace tickstream::edge {

class listener;
class worker;

struct app_config {
  std::string listen_host = "0.0.0.0";  // address for WebSocket and HTTP clients
  std::int64_t port = 8080;             // 0 picks a free port (tests)
  std::int64_t threads = 0;             // worker threads; 0 = one per core
  std::string redis_host = "127.0.0.1";
  std::int64_t redis_port = 6379;
  std::string redis_password;           // never logged
  std::string node_id;                  // names this edge in Redis; default: host name and PID
  std::int64_t max_message_bytes = 64 * 1024;
  std::int64_t max_subscriptions = 1000;
  std::int64_t soft_queued_frames = 256;
  std::int64_t soft_queued_bytes = 256 * 1024;
  std::int64_t max_queued_frames = 4096;
  std::int64_t max_queued_bytes = 4 * 1024 * 1024;
  std::int64_t batch_window_ms = 250;
  std::int64_t unsubscribe_linger_ms = 5000;
  std::int64_t idle_timeout_ms = 30'000;
  std::int64_t handshake_timeout_s = 10;
  std::int64_t shutdown_grace_ms = 5000;  // how long closing clients get at shutdown
  std::string log_level = "info";
  // Authentication (all off: an open edge serving public data to anyone, for development).
  std::string jwt_algorithms;        // pinned, e.g. "RS256" or "HS256,ES256"
  std::string jwt_hs_secret;         // HS256 key; never logged
  std::string jwt_public_key_file;   // PEM public key for RS256/ES256
  std::string jwt_issuer;            // required "iss" (empty: not checked)
  std::string jwt_audience;          // required "aud" (empty: not checked)
  std::int64_t jwt_leeway_s = 30;
  std::string jwt_cookie;            // cookie carrying a JWT
  std::string session_cookie;        // cookie carrying a session id (ts:sess:<id>)
  bool allow_query_token = false;    // accept ?token=<JWT>
  std::string allowed_origins;       // comma-separated; required with cookie credentials
  std::int64_t max_connections_per_user = 5;  // tier-wide (seed REQ-3); 0 = no limit
  std::int64_t lease_ttl_ms = 30'000;         // a dead edge's leases lapse within this
  std::int64_t token_expiry_warning_s = 60;   // token_expiring this long before expiry
  std::int64_t max_messages_per_second = 20;  // per connection (bursts of twice this)
  std::int64_t max_connects_per_ip = 100;     // new connections per second from one address; 0 = off
  std::int64_t stale_after_ms = 30'000;       // a source silent this long is stale (seed: 30 s)
  std::int64_t drain_ms = 20'000;             // SIGTERM: clients are closed spread over this window
  std::int64_t probe_interval_ms = 2'000;     // readiness probe through the own pub/sub channel

  void bind(common::config_parser& parser);
  // The authentication settings, built and checked; throws std::invalid_argument naming the flag.
  auth_config auth() const;
};

class app {
 public:
  explicit app(app_config config);
  ~app();
  app(const app&) = delete;
  app& operator=(const app&) = delete;

  // Binds the listener and starts every thread; throws std::system_error if the port cannot be
  // bound.
  void start();
  // The bound port (useful with port 0).
  unsigned short port() const;
  // Stops accepting, closes every client with 1001, and joins all threads. Idempotent.
  void stop();
  // Graceful drain (SIGTERM): /readyz turns 503, new upgrades are refused, and every client gets a
  // "reconnect" hint and a 1001 close at a random moment within --drain-ms. Returns at once.
  void drain();
  // Open WebSocket connections on every worker.
  std::size_t connection_count() const;
  std::chrono::milliseconds drain_window() const { return std::chrono::milliseconds(config_.drain_ms); }

 private:
  app_config config_;
  edge_metrics metrics_;
  fanout fanout_;
  common::redis_client redis_;
  std::vector<std::unique_ptr<worker>> workers_;
  std::unique_ptr<connection_leases> leases_;
  services services_;
  std::shared_ptr<listener> listener_;
  bool stopped_ = false;
  connection_census census_;
  std::atomic<bool> draining_{false};
  // Readiness probe: last time (steady ms) a probe came back through the subscriber connection.
  std::atomic<std::int64_t> probe_seen_ms_{0};
  std::atomic<std::int64_t> probe_rtt_us_{-1};
  std::optional<boost::asio::steady_timer> probe_timer_;
  void send_probe();
  bool ready(std::string& why) const;
  std::string admin_stats() const;
};

}  // namespace tickstream::edge
