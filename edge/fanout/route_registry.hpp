#pragma once
// What a worker needs from the fan-out: taking and letting go of a route (a symbol, or a user's
// route, see user_route). The fan-out (fanout) implements it; a worker holds one.

#include <cstddef>
#include <cstdint>
#include <string>

namespace tickstream::edge {

class route_registry {
 public:
  // Worker worker_id wants route's messages; it is told through fanout_target::post_activate(route,
  // generation) once Redis has confirmed, and again after every reconnect. Each acquire() is
  // matched by one release(). Thread-safe (called from the worker's thread).
  virtual void acquire(const std::string& route, std::size_t worker_id, std::uint64_t generation) = 0;
  virtual void release(const std::string& route, std::size_t worker_id) = 0;

 protected:
  ~route_registry() = default;
};

}  // namespace tickstream::edge
