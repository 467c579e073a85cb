#pragma once
// A token bucket: up to `capacity` at once, refilled continuously at `per_second`. Pure (time is
// an argument, any monotonic microsecond clock), single-threaded, 16 bytes. Used for a
// connection's message rate and for new connections per address.

#include <algorithm>
#include <cstdint>

namespace tickstream::common {

class token_bucket {
 public:
  // Starts full at now_us.
  token_bucket(double capacity, double per_second, std::int64_t now_us) noexcept
      : tokens_(capacity), at_us_(now_us), capacity_(capacity), per_second_(per_second) {}

  // Takes one token if there is one at now_us. A clock that steps back earns no tokens, and the
  // refill it skipped is not earned later either.
  bool take(std::int64_t now_us) noexcept {
    refill(now_us);
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

  // Whether the bucket is full at now_us (it can be forgotten: a new one would be the same).
  bool full(std::int64_t now_us) const noexcept { return level(now_us) >= capacity_; }

 private:
  double level(std::int64_t now_us) const noexcept {
    const auto elapsed_us = std::max<std::int64_t>(0, now_us - at_us_);
    return std::min(capacity_, tokens_ + static_cast<double>(elapsed_us) * per_second_ / 1e6);
  }
  void refill(std::int64_t now_us) noexcept {
    tokens_ = level(now_us);
    at_us_ = std::max(at_us_, now_us);
  }

  double tokens_;
  std::int64_t at_us_;
  double capacity_;
  double per_second_;
};

}  // namespace tickstream::common
