#include "edge/auth/connect_rate_limiter.hpp"

namespace tickstream::edge {

namespace {
constexpr std::int64_t sweep_interval_us = 1'000'000;
}

bool connect_rate_limiter::admit(const std::string& address, std::int64_t now_us) {
  if (per_second_ == 0) return true;
  std::lock_guard lock(mu_);
  if (now_us - last_sweep_us_ >= sweep_interval_us) sweep(now_us);
  const auto rate = static_cast<double>(per_second_);
  auto it = buckets_.try_emplace(address, rate, rate, now_us).first;
  return it->second.take(now_us);
}

void connect_rate_limiter::sweep(std::int64_t now_us) {
  last_sweep_us_ = now_us;
  std::erase_if(buckets_, [&](const auto& entry) { return entry.second.full(now_us); });
}

}  // namespace tickstream::edge
