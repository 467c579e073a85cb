#pragma once
// Incremental parser of WebSocket frames as a client receives them (RFC 6455 §5.2). Pure: feed it
// whatever bytes a read() returned, in any split, and it yields every complete message.
// Server-to-client frames are unmasked; a masked one is a protocol error. With permessage-deflate
// negotiated (accept_compressed), a data message may set RSV1 on its first frame: the message is
// then reported as compressed (the caller inflates it).

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace tickstream::bench {

class ws_frame_reader {
 public:
  enum class opcode : std::uint8_t { continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 };

  // Whether RSV1 (a compressed message, RFC 7692) is allowed: once permessage-deflate is agreed.
  void accept_compressed(bool on) noexcept { accept_compressed_ = on; }

  // Parses as much of data as forms complete frames and calls on_message(opcode, payload) for
  // each complete message (fragments are joined), or on_message(opcode, payload, compressed).
  // Keeps an incomplete tail for the next call. Returns false on a protocol error (then the
  // connection should be dropped).
  template <class OnMessage>
  bool feed(std::string_view data, OnMessage&& on_message) {
    auto deliver = [&](opcode op, std::string_view payload, bool compressed) {
      if constexpr (std::is_invocable_v<OnMessage&, opcode, std::string_view, bool>) {
        on_message(op, payload, compressed);
      } else {
        on_message(op, payload);
      }
    };
    std::string_view in = data;
    if (!tail_.empty()) {
      tail_.append(data.data(), data.size());
      in = tail_;
    }
    std::size_t pos = 0;
    for (;;) {
      const std::size_t avail = in.size() - pos;
      if (avail < 2) break;
      const auto b0 = static_cast<std::uint8_t>(in[pos]);
      const auto b1 = static_cast<std::uint8_t>(in[pos + 1]);
      if ((b1 & 0x80) != 0 || (b0 & 0x30) != 0) return false;  // masked, or RSV2/RSV3 set
      const bool rsv1 = (b0 & 0x40) != 0;
      std::uint64_t len = b1 & 0x7f;
      std::size_t header = 2;
      if (len == 126) {
        if (avail < 4) break;
        len = (std::uint64_t{static_cast<std::uint8_t>(in[pos + 2])} << 8) | static_cast<std::uint8_t>(in[pos + 3]);
        header = 4;
      } else if (len == 127) {
        if (avail < 10) break;
        len = 0;
        for (int i = 0; i < 8; ++i)
          len = (len << 8) | static_cast<std::uint8_t>(in[pos + 2 + static_cast<std::size_t>(i)]);
        header = 10;
      }
      if (len > (64ULL << 20)) return false;
      if (avail < header + len) break;
      const auto op = static_cast<opcode>(b0 & 0x0f);
      const bool fin = (b0 & 0x80) != 0;
      const std::string_view payload = in.substr(pos + header, static_cast<std::size_t>(len));
      pos += header + static_cast<std::size_t>(len);
      const bool control = op == opcode::ping || op == opcode::pong || op == opcode::close;
      // RSV1 only on a data message's first frame, and only once the extension is agreed.
      if (rsv1 && (!accept_compressed_ || control || op == opcode::continuation)) return false;
      if (control || (fin && op != opcode::continuation && message_.empty())) {
        deliver(op, payload, rsv1);  // control frames are never fragmented; a whole message needs no copy
      } else {
        if (op != opcode::continuation) {
          message_op_ = op;
          message_compressed_ = rsv1;
        }
        message_.append(payload.data(), payload.size());
        if (fin) {
          deliver(message_op_, std::string_view(message_), message_compressed_);
          message_.clear();
        }
      }
    }
    if (tail_.empty()) {
      tail_.assign(in.substr(pos));
    } else {
      tail_.erase(0, pos);
    }
    return true;
  }

 private:
  std::string tail_;     // bytes of an incomplete frame
  std::string message_;  // fragments of an incomplete message
  opcode message_op_ = opcode::text;
  bool message_compressed_ = false;
  bool accept_compressed_ = false;
};

// A masked client frame (clients must mask, RFC 6455 §5.3) with the given opcode and payload.
std::string make_client_frame(ws_frame_reader::opcode op, std::string_view payload, std::uint32_t mask_key);

}  // namespace tickstream::bench
