#pragma once
// What a worker delivers to: a WebSocket session in production, a recorder in tests.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "edge/protocol/frame.hpp"

namespace tickstream::edge {

class frame_sink {
 public:
  // Queues f for sending (or holds it for batching/conflation). Never re-enters the worker's
  // fan-out; it may ask to write later (worker::write_soon).
  virtual void send(const frame_ptr& f) = 0;
  // The worker's turn to write what send() queued, after the sink asked for it (write_soon).
  virtual void write_queued() {}
  // The edge is shutting down: close with 1001 (going away).
  virtual void shutdown() = 0;
  // Called by the worker about once a second: heartbeats and timeouts.
  virtual void tick(std::chrono::steady_clock::time_point now) = 0;
  // The edge is draining: tell the client to reconnect, and close with 1001 after delay.
  virtual void drain(std::chrono::milliseconds /*delay*/) {}
  // Redis confirmed the subscription to route again after a reconnect: messages published while
  // the connection was down are lost from pub/sub (the private history still has them).
  virtual void resubscribed(const std::string& /*route*/) {}
  // The server API revoked the user (session empty) or one of its sessions or token ids: a
  // matching connection closes with 4010 and reason.
  virtual void revoke(const std::string& /*user*/, const std::string& /*session*/, const std::string& /*reason*/) {}
  // The entitlement record of a user (plan empty) or of a plan (user empty) changed: a connection
  // it concerns reads its entitlements again.
  virtual void entitlements_changed(const std::string& /*user*/, const std::string& /*plan*/) {}
  // A source went stale (no heartbeat for the stale period; since_us: its last good one) or fresh.
  virtual void source_changed(const std::string& /*source*/, bool /*stale*/, std::int64_t /*since_us*/) {}

 protected:
  ~frame_sink() = default;
};

}  // namespace tickstream::edge
