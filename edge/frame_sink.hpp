#pragma once
// What a worker delivers to: a WebSocket session in production, a recorder in tests.

#include <chrono>

#include "edge/frame.hpp"

namespace tickstream::edge {

class frame_sink {
 public:
  // Queues f for sending (or holds it for batching/conflation). Never re-enters the worker.
  virtual void send(const frame_ptr& f) = 0;
  // The edge is shutting down: close with 1001 (going away).
  virtual void shutdown() = 0;
  // Called by the worker about once a second: heartbeats and timeouts.
  virtual void tick(std::chrono::steady_clock::time_point now) = 0;

 protected:
  ~frame_sink() = default;
};

}  // namespace tickstream::edge
