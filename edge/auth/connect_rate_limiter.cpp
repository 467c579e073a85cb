#include "edge/auth/connect_rate_limiter.hpp"

#include <algorithm>

namespace tickstream::edge {

namespace {
constexpr std::int64_t sweep_interval_us = 1'000'000;
}

double connect_rate_limiter::refilled(const bucket& b, std::int64_t now_us) const {
  const auto elapsed_us = std::max<std::int64_t>(0, now_us - b.at_us);
  return std::min<double>(per_second_, b.tokens + static_cast<double>(elapsed_us) * per_second_ / 1e6);
}

bool connect_rate_limiter::admit(const std::string& address, std::int64_t now_us) {
  if (per_second_ == 0) return true;
  if (now_us - last_sweep_us_ >= sweep_interval_us) sweep(now_us);
  auto [it, fresh] = buckets_.try_emplace(address, bucket{static_cast<double>(per_second_), now_us});
  auto& b = it->second;
  if (!fresh) {
    b.tokens = refilled(b, now_us);
    b.at_us = std::max(b.at_us, now_us);  // a clock that steps back must not earn a refill later
  }
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

void connect_rate_limiter::sweep(std::int64_t now_us) {
  last_sweep_us_ = now_us;
  std::erase_if(buckets_, [&](const auto& entry) { return refilled(entry.second, now_us) >= per_second_; });
}

}  // namespace tickstream::edge
