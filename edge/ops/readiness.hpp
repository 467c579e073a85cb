#pragma once
// Whether the edge can serve: /readyz and the tickstream_edge_ready gauge. Both Redis connections
// must be up and a probe published on the edge's own channel must have come back through the
// subscriber connection within three probe intervals, so a subscriber whose socket looks healthy
// but delivers nothing (wedged) takes the edge out of rotation. Pure: time is an argument.
//
// Threading: on_probe() runs on the Redis thread, check() on any: the state is two atomics.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace tickstream::edge {

class readiness {
 public:
  explicit readiness(std::chrono::milliseconds probe_interval) : interval_(probe_interval) {}

  // The payload of a probe sent at now_us (steady microseconds).
  static std::string probe_payload(std::int64_t now_us) { return std::to_string(now_us); }
  // A message came back on the edge's own channel at now_us.
  void on_probe(std::string_view payload, std::int64_t now_us) noexcept;

  // Empty when ready, else the reason: redis_command_down, redis_subscriber_down,
  // probe_not_returning.
  std::string check(bool command_up, bool subscriber_up, std::int64_t now_us) const;
  // The last probe's round trip in seconds (-1e-6 before the first).
  double round_trip_seconds() const noexcept { return static_cast<double>(rtt_us_.load()) / 1e6; }

 private:
  const std::chrono::milliseconds interval_;
  std::atomic<std::int64_t> seen_us_{0};
  std::atomic<std::int64_t> rtt_us_{-1};
};

}  // namespace tickstream::edge
