#pragma once
// The timed decisions of one connection — close-handshake timeout, token expiry and its warning,
// idle timeout, drain close, lease refresh, heartbeat ping — as a pure function of the time.
// The session feeds it what happens (traffic, refresh, close, drain) and acts on what decide()
// returns; tests drive it with made-up times.
//
// Threading: owned by one session, used on its worker thread only.

#include <chrono>
#include <cstdint>
#include <optional>

#include "edge/net/session_limits.hpp"
#include "edge/protocol/ws_codec.hpp"

namespace tickstream::edge {

// What the socket side knows at the heartbeat sweep.
struct session_io_state {
  std::size_t unsent_bytes = 0;  // in the kernel's send queue, being written, and queued by us
};

class session_timers {
 public:
  using clock = std::chrono::steady_clock;

  struct settings {
    std::chrono::milliseconds idle_timeout{30'000};  // no traffic for this long: closed
    std::chrono::seconds token_expiry_warning{60};   // token_expiring this long before expiry
    std::chrono::milliseconds lease_refresh{0};      // refresh the connection lease this often (0: none)
    // A slow consumer is judged by what it reads: more than this unsent (the kernel's send queue
    // plus ours), or data waiting with no write progress for stall_timeout, closes with 4008.
    std::size_t max_unsent_bytes = 4 * 1024 * 1024;
    std::chrono::milliseconds stall_timeout{30'000};
    // This connection's place in the ping window, in [0, 1): its ping goes out after half the idle
    // timeout of silence plus this fraction of a quarter of it, so connections that arrived
    // together are not all pinged in one sweep (and each still has a quarter of the timeout to
    // answer).
    double ping_phase = 0;
  };
  // The settings of a connection under these limits: the stall timeout is the idle timeout, the
  // lease (lease_ttl zero: none) is refreshed every third of its time to live.
  static settings for_limits(const session_limits& limits, std::chrono::milliseconds lease_ttl,
                             double ping_phase) noexcept;
  // A ping phase drawn at random, so that connections arriving together differ (one generator per
  // thread: no lock).
  static double random_ping_phase();

  using io_state = session_io_state;

  // What the heartbeat sweep must do, in this order: warn, then end the connection if `end` says
  // so; otherwise run the feed's timers, then refresh the lease and ping as flagged.
  struct decision {
    enum class end_kind {
      none,
      close_timeout,  // our close frame went unanswered: close the socket
      token_expired,  // close 4001
      idle,           // no traffic within the idle timeout: close the socket
      auth_timeout,   // no in-band authentication in time: close 4003
      slow_consumer,  // the client does not read what it is sent: close 4008
      drain,          // close 1001 (after the reconnect hint)
    };
    end_kind end = end_kind::none;
    bool warn_expiry = false;  // send token_expiring (once per credential)
    bool tick_feed = false;
    bool refresh_lease = false;
    bool ping = false;  // once per silence
  };

  session_timers(settings s, clock::time_point now, std::optional<std::int64_t> expires_at_s)
      : settings_(s),
        expires_at_s_(expires_at_s),
        last_rx_(now),
        lease_refreshed_(now),
        last_progress_(now),
        lease_refresh_(s.lease_refresh) {}

  // A complete frame from the client is a sign of life (bytes of an unfinished one are not).
  void on_traffic(clock::time_point now) noexcept {
    last_rx_ = now;
    ping_sent_ = false;
  }
  // The client took some of what it was sent (a write completed, or the kernel's queue shrank).
  void on_write_progress(clock::time_point now) noexcept { last_progress_ = now; }
  // A refresh moved the credential's expiry (nullopt: it no longer expires).
  void on_refreshed(std::optional<std::int64_t> expires_at_s) noexcept {
    expires_at_s_ = expires_at_s;
    expiry_warned_ = false;
    auth_deadline_ = clock::time_point::max();
  }
  // Our close frame is out: past deadline the socket is closed whatever the client does.
  void on_closing(clock::time_point deadline) noexcept {
    closing_ = true;
    close_deadline_ = deadline;
  }
  // The connection must authenticate in-band before `at` (cleared by on_refreshed()).
  void auth_by(clock::time_point at) noexcept { auth_deadline_ = at; }
  // A lease is held from now on: refresh it every `every`.
  void lease_from(clock::time_point now, std::chrono::milliseconds every) noexcept {
    lease_refreshed_ = now;
    lease_refresh_ = every;
  }
  // Draining: close at `at`. False if a drain close was already set.
  bool drain_at(clock::time_point at) noexcept {
    if (drain_close_at_ != clock::time_point::max()) return false;
    drain_close_at_ = at;
    return true;
  }

  // How the session ends a connection for what decide() returned: how it closes, what it counts
  // and what it tells the client first. None for `none`, and for the two the session words itself:
  // slow_consumer (logged with the queue's figures) and drain (after the feed's timers).
  struct ending {
    std::uint16_t close_code = 0;         // 0: the socket is closed at once, without a close frame
    const char* close_reason = "";        // the close frame's reason
    const char* end_reason = nullptr;     // the disconnect metric's label (null: as it stands)
    const char* client_error = nullptr;   // counted as a client error, by this code
    const char* error_message = nullptr;  // sent as an error frame with that code before the close
  };
  static std::optional<ending> ending_for(decision::end_kind end) noexcept;

  // now: steady time; now_s: wall-clock seconds since the epoch (token expiry is wall-clock).
  decision decide(clock::time_point now, std::int64_t now_s, io_state io = {}) noexcept;

  std::optional<std::int64_t> expires_at_s() const noexcept { return expires_at_s_; }

 private:
  const settings settings_;
  std::optional<std::int64_t> expires_at_s_;
  clock::time_point last_rx_;
  clock::time_point lease_refreshed_;
  clock::time_point last_progress_;
  clock::time_point close_deadline_{};
  clock::time_point drain_close_at_ = clock::time_point::max();
  clock::time_point auth_deadline_ = clock::time_point::max();
  std::chrono::milliseconds lease_refresh_;
  bool expiry_warned_ = false;
  bool ping_sent_ = false;
  bool closing_ = false;
};

}  // namespace tickstream::edge
