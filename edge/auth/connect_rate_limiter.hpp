#pragma once
// New connections per second from one address, as a token bucket per address: up to `per_second`
// at once, refilled at `per_second` a second. Unlike a counter reset each second, a burst cannot
// get twice the limit through by straddling a second boundary.
//
// Thread-safe: every worker asks it once per new connection (never per message), so one mutex
// suffices. Memory: an address whose bucket has refilled is forgotten at the next sweep, so the
// table holds only addresses seen in about the last second.

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/token_bucket.hpp"

namespace tickstream::edge {

class connect_rate_limiter {
 public:
  // per_second 0: no limit.
  explicit connect_rate_limiter(std::uint32_t per_second) : per_second_(per_second) {}

  // Takes one connection for `address` at `now_us` (any monotonic microsecond clock); false when
  // the address is over its rate.
  bool admit(const std::string& address, std::int64_t now_us);

  std::size_t tracked_addresses() const {
    std::lock_guard lock(mu_);
    return buckets_.size();
  }

 private:
  void sweep(std::int64_t now_us);

  const std::uint32_t per_second_;
  mutable std::mutex mu_;
  std::int64_t last_sweep_us_ = 0;
  std::unordered_map<std::string, common::token_bucket> buckets_;
};

}  // namespace tickstream::edge
