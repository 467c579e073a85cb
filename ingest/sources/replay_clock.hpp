#pragma once
// Replay pacing and time-shifting for captures. Pure arithmetic, so tests need no clock.

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/event.hpp"

namespace tickstream::ingest {

// Replay speed: a positive factor (1 = real time, 10 = ten times faster), or "max" (no pacing).
struct replay_speed {
  double factor = 1.0;
  bool max = false;

  static std::optional<replay_speed> parse(std::string_view text) noexcept;
};

class replay_clock {
 public:
  explicit replay_clock(replay_speed speed) : speed_(speed) {}

  // Starts a pass over the capture at wall time start_us.
  void begin_pass(std::int64_t start_us) noexcept {
    start_us_ = start_us;
    first_recv_us_.reset();
  }

  // Wall time (µs) at which an event originally received at recv_us is due in this pass.
  std::int64_t due_us(std::int64_t recv_us) noexcept;

 private:
  replay_speed speed_;
  std::int64_t start_us_ = 0;
  std::optional<std::int64_t> first_recv_us_;
};

// Moves an event to the present: recv time becomes now_us and the source time moves by the same
// amount, keeping the original source-to-receive lag.
void time_shift(common::price_update& tick, std::int64_t now_us) noexcept;
// Moves any event's source and receive times by shift_us.
void time_shift(common::event& ev, std::int64_t shift_us) noexcept;

}  // namespace tickstream::ingest
