#pragma once
// What a worker delivers to: a WebSocket session in production, a recorder in tests.

#include "edge/frame.hpp"

namespace tickstream::edge {

class frame_sink {
 public:
  // Queues f for sending. Never re-enters the worker synchronously.
  virtual void send(const frame_ptr& f) = 0;
  // The edge is shutting down: close with 1001 (going away).
  virtual void shutdown() = 0;

 protected:
  ~frame_sink() = default;
};

}  // namespace tickstream::edge
