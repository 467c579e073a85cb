#pragma once
// The private channels a client may hold (docs/PROTOCOL.md, "subscribe"), as bits, and which
// frames each one carries.

#include <cstdint>
#include <string_view>

#include "edge/protocol/frame.hpp"

namespace tickstream::edge {

namespace channel_bits {
inline constexpr std::uint8_t positions = 1;
inline constexpr std::uint8_t orders = 2;
inline constexpr std::uint8_t account = 4;
inline constexpr std::uint8_t trades = 8;
inline constexpr std::uint8_t events = 16;  // the application's own events (server API)
}  // namespace channel_bits

// The channel bit a frame of this kind needs (0: not a private kind).
constexpr std::uint8_t channel_bit_of(frame_kind kind) noexcept {
  switch (kind) {
    case frame_kind::position:
    case frame_kind::position_mark: return channel_bits::positions;
    case frame_kind::order: return channel_bits::orders;
    case frame_kind::account:
    case frame_kind::account_mark: return channel_bits::account;
    case frame_kind::trade: return channel_bits::trades;
    case frame_kind::app_event:
    case frame_kind::app_latest: return channel_bits::events;
    default: return 0;
  }
}

// The bit of a channel name (0: not a channel).
constexpr std::uint8_t channel_bit_of(std::string_view name) noexcept {
  if (name == "positions") return channel_bits::positions;
  if (name == "orders") return channel_bits::orders;
  if (name == "account") return channel_bits::account;
  if (name == "trades") return channel_bits::trades;
  if (name == "events") return channel_bits::events;
  return 0;
}

}  // namespace tickstream::edge
