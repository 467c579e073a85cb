#pragma once
// Per-connection limits, each with the reason for its default.

#include <chrono>
#include <cstddef>

namespace tickstream::edge {

struct session_limits {
  // Largest client message. Client messages are small control messages; 64 KiB leaves room for a
  // subscribe with a thousand symbols. Larger frames close the connection with 1009.
  std::size_t max_message_bytes = 64 * 1024;
  // Symbols one connection may hold; a trading screen watches tens to hundreds.
  std::size_t max_subscriptions = 1000;
  // Outbound queue bound in frames and in bytes. A client this far behind is not keeping up; it
  // is closed with 4008 so it reconnects and resynchronizes instead of growing our memory.
  std::size_t max_queued_frames = 4096;
  std::size_t max_queued_bytes = 4 * 1024 * 1024;
  // WebSocket handshake (and HTTP request) must complete within this.
  std::chrono::seconds handshake_timeout{10};
  // Seed REQ: ping after 15 s of silence, close after 30 s without traffic or pong. Beast sends the
  // ping at half the idle timeout.
  std::chrono::seconds idle_timeout{30};
};

// Close codes the edge uses besides the standard ones (docs/PROTOCOL.md).
inline constexpr unsigned short close_slow_consumer = 4008;

}  // namespace tickstream::edge
