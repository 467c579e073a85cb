#include "edge/ops/readiness.hpp"

#include <charconv>

namespace tickstream::edge {

void readiness::on_probe(std::string_view payload, std::int64_t now_us) noexcept {
  seen_us_.store(now_us);
  std::int64_t sent = 0;
  const auto [end, ec] = std::from_chars(payload.data(), payload.data() + payload.size(), sent);
  // Not one of ours (someone published on our channel): it still proves delivery.
  if (ec == std::errc{} && end == payload.data() + payload.size()) rtt_us_.store(now_us - sent);
}

std::string readiness::check(bool command_up, bool subscriber_up, std::int64_t now_us) const {
  if (!command_up) return "redis_command_down";
  if (!subscriber_up) return "redis_subscriber_down";
  const auto seen = seen_us_.load();
  const auto limit_us = 3 * std::chrono::duration_cast<std::chrono::microseconds>(interval_).count();
  if (seen == 0 || now_us - seen > limit_us) return "probe_not_returning";
  return {};
}

}  // namespace tickstream::edge
