#include "edge/net/session_timers.hpp"

#include <random>

namespace tickstream::edge {

session_timers::settings session_timers::for_limits(const session_limits& limits, std::chrono::milliseconds lease_ttl,
                                                    double ping_phase) noexcept {
  settings s;
  s.ping_phase = ping_phase;
  s.idle_timeout = limits.idle_timeout;
  s.max_unsent_bytes = limits.queue.max_bytes;
  s.stall_timeout = limits.idle_timeout;
  s.token_expiry_warning = limits.token_expiry_warning;
  s.lease_refresh = lease_ttl / 3;
  return s;
}

double session_timers::random_ping_phase() {
  thread_local std::minstd_rand rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0, 1)(rng);
}

std::optional<session_timers::ending> session_timers::ending_for(decision::end_kind end) noexcept {
  using end_kind = decision::end_kind;
  switch (end) {
    case end_kind::close_timeout: return ending{};
    case end_kind::token_expired:
      return ending{close_code::token_expired, "token expired", "token_expired", "token_expired", nullptr};
    case end_kind::idle: return ending{0, "", "timeout", nullptr, nullptr};
    case end_kind::auth_timeout:
      return ending{close_code::auth_failed, "authentication timed out", "auth_timeout", "auth_timeout",
                    "no auth message within the deadline"};
    case end_kind::none:
    case end_kind::slow_consumer:
    case end_kind::drain: break;
  }
  return std::nullopt;
}

session_timers::decision session_timers::decide(clock::time_point now, std::int64_t now_s, io_state io) noexcept {
  using end_kind = decision::end_kind;
  decision d;
  if (closing_) {
    if (now >= close_deadline_) d.end = end_kind::close_timeout;
    return d;
  }
  if (expires_at_s_) {
    if (now_s >= *expires_at_s_) {
      d.end = end_kind::token_expired;
      return d;
    }
    if (!expiry_warned_ && now_s + settings_.token_expiry_warning.count() >= *expires_at_s_) {
      expiry_warned_ = true;
      d.warn_expiry = true;
    }
  }
  if (now >= auth_deadline_) {
    d.end = end_kind::auth_timeout;
    return d;
  }
  // Judged by what it reads, not by what it sends: a client that keeps pinging but reads nothing
  // ends here, as does one that sends nothing (before the idle rule, so it gets a 4008 close).
  if (io.unsent_bytes > settings_.max_unsent_bytes ||
      (io.unsent_bytes > 0 && now - last_progress_ >= settings_.stall_timeout)) {
    d.end = end_kind::slow_consumer;
    return d;
  }
  if (io.unsent_bytes == 0) last_progress_ = now;  // nothing waiting: nothing to progress on
  const auto idle = now - last_rx_;
  if (idle >= settings_.idle_timeout) {
    // Silent with data waiting: it does not read either (its writes may have progressed later
    // than it last spoke, so the stall rule above has not fired yet): 4008, not a silent close.
    d.end = io.unsent_bytes > 0 ? end_kind::slow_consumer : end_kind::idle;
    return d;
  }
  d.tick_feed = true;
  if (now >= drain_close_at_) {
    d.end = end_kind::drain;
    return d;
  }
  if (lease_refresh_.count() > 0 && now - lease_refreshed_ >= lease_refresh_) {
    lease_refreshed_ = now;
    d.refresh_lease = true;
  }
  // A ping after half to three quarters of the idle timeout of silence (spread by the phase); the
  // close at the whole of it.
  const auto ping_after = settings_.idle_timeout / 2 + std::chrono::duration_cast<std::chrono::milliseconds>(
                                                           settings_.idle_timeout * settings_.ping_phase / 4);
  if (!ping_sent_ && idle >= ping_after) {
    ping_sent_ = true;
    d.ping = true;
  }
  return d;
}

}  // namespace tickstream::edge
