#pragma once
// One outbound WebSocket frame, built once (header and payload, ready for the socket) and shared
// by every session that sends it.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "edge/ws_codec.hpp"

namespace tickstream::edge {

// What a frame carries, which decides how it may be conflated (docs/PROTOCOL.md, "Batching";
// DESIGN.md, "One event schema").
enum class frame_kind : std::uint8_t {
  control,   // the edge's own replies and WebSocket control frames: never conflated
  tick,      // price_update: only the latest per symbol matters (key: symbol)
  position,  // position_update: a full snapshot of one position (key: symbol)
  account,   // account_update: a full snapshot of the account (key: empty)
  order,     // order_update: every status transition matters, never conflated
  trade,     // trade_executed: never conflated, never dropped
};

// True for kinds where a newer frame of the same kind and key makes an older one worthless.
constexpr bool conflates(frame_kind k) noexcept {
  return k == frame_kind::tick || k == frame_kind::position || k == frame_kind::account;
}

struct frame {
  frame_kind kind = frame_kind::control;
  std::string key;          // the symbol for ticks; empty for control frames
  std::string wire;         // the complete WebSocket frame: header, then payload
  std::uint8_t header_size = 0;

  std::string_view payload() const noexcept { return std::string_view(wire).substr(header_size); }
};

// Immutable once built: sessions on any worker thread may hold and send it concurrently.
using frame_ptr = std::shared_ptr<const frame>;

// A text frame (FIN set) carrying payload.
frame_ptr make_text_frame(frame_kind kind, std::string key, std::string_view payload);
// A control frame (ping, pong, close).
frame_ptr make_control_frame(ws_opcode op, std::string_view payload);

}  // namespace tickstream::edge
