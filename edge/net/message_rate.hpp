#pragma once
// A connection's message rate: a token bucket of `per_second` messages, bursts up to twice that.
// Over the rate a message is dropped, with a rate_limited error at most once a second (a flood
// must not be answered by a flood); past `max_violations` dropped messages the connection is
// closed with 1008. Pure: time is an argument, so tests drive it with made-up times.
//
// Threading: owned by one session, used on its worker thread only.

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "common/token_bucket.hpp"

namespace tickstream::edge {

class message_rate {
 public:
  using clock = std::chrono::steady_clock;

  // What to do with a message that arrived at `now`.
  enum class verdict : std::uint8_t {
    take,           // within the rate
    drop,           // over it: dropped silently (the client was told less than a second ago)
    drop_and_tell,  // over it: dropped, with a rate_limited error
    close,          // over it too often: close with 1008
  };

  message_rate(std::size_t per_second, std::size_t max_violations, clock::time_point now) noexcept;

  verdict admit(clock::time_point now) noexcept;

 private:
  common::token_bucket tokens_;
  std::uint32_t violations_ = 0;
  std::uint32_t max_violations_;
  clock::time_point last_told_;
};

}  // namespace tickstream::edge
