#include "ingest/sources/replay_clock.hpp"

#include <charconv>
#include <cmath>

namespace tickstream::ingest {

std::optional<replay_speed> replay_speed::parse(std::string_view text) noexcept {
  if (text == "max") return replay_speed{1.0, true};
  double f = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), f);
  if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(f) || f <= 0 || f > 1e6) {
    return std::nullopt;
  }
  return replay_speed{f, false};
}

std::int64_t replay_clock::due_us(std::int64_t recv_us) noexcept {
  if (speed_.max) return start_us_;
  if (!first_recv_us_) first_recv_us_ = recv_us;
  const auto offset = static_cast<double>(recv_us - *first_recv_us_) / speed_.factor;
  return start_us_ + static_cast<std::int64_t>(offset);
}

void time_shift(common::price_update& tick, std::int64_t now_us) noexcept {
  const std::int64_t shift = now_us - tick.recv_time_us;
  tick.source_time_us += shift;
  tick.recv_time_us = now_us;
}

void time_shift(common::event& ev, std::int64_t shift_us) noexcept {
  std::visit(
      [shift_us](auto& e) {
        if constexpr (std::is_same_v<std::decay_t<decltype(e)>, common::price_update>) {
          e.source_time_us += shift_us;
          e.recv_time_us += shift_us;
        } else {
          e.header.time_us += shift_us;
          e.header.recv_time_us += shift_us;
        }
      },
      ev);
}

}  // namespace tickstream::ingest
