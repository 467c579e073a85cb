#include "edge/net/message_rate.hpp"

#include <algorithm>
#include <limits>

namespace tickstream::edge {

namespace {

std::int64_t steady_us(message_rate::clock::time_point t) noexcept {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

}  // namespace

message_rate::message_rate(std::size_t per_second, std::size_t max_violations, clock::time_point now) noexcept
    : tokens_(2.0 * static_cast<double>(per_second), static_cast<double>(per_second), steady_us(now)),
      max_violations_(static_cast<std::uint32_t>(
          std::min<std::size_t>(max_violations, std::numeric_limits<std::uint32_t>::max() - 1))),
      last_told_(now - std::chrono::seconds(1)) {}

message_rate::verdict message_rate::admit(clock::time_point now) noexcept {
  if (tokens_.take(steady_us(now))) return verdict::take;
  if (++violations_ > max_violations_) return verdict::close;
  if (now - last_told_ < std::chrono::seconds(1)) return verdict::drop;
  last_told_ = now;
  return verdict::drop_and_tell;
}

}  // namespace tickstream::edge
