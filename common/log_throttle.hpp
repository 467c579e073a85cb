#pragma once
// A log line for a condition that can repeat many times a second (a retry loop): the first
// occurrence is logged, then at most one per interval, carrying how many were left out meanwhile.
// Pure: the caller passes the time.

#include <chrono>
#include <cstdint>
#include <optional>

namespace tickstream::common {

class log_throttle {
 public:
  using time = std::chrono::milliseconds;  // on any steady clock

  explicit log_throttle(time interval) : interval_(interval) {}

  // An occurrence at now: nullopt if it is not to be logged, else how many were not since the
  // last one that was.
  std::optional<std::uint64_t> admit(time now) {
    if (logged_ && now - last_ < interval_) {
      ++suppressed_;
      return std::nullopt;
    }
    logged_ = true;
    last_ = now;
    const auto left_out = suppressed_;
    suppressed_ = 0;
    return left_out;
  }

  // The condition is over: its next occurrence is logged at once.
  void clear() {
    logged_ = false;
    suppressed_ = 0;
  }

 private:
  time interval_;
  time last_{0};
  bool logged_ = false;
  std::uint64_t suppressed_ = 0;
};

}  // namespace tickstream::common
