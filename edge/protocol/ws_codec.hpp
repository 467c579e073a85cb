#pragma once
// The WebSocket wire format as the edge speaks it (RFC 6455), without sockets: the opening
// handshake's accept key, server frame headers, and an incremental parser of client frames.
// The edge frames its own messages so that a frame is built once and shared by every session,
// and so that all frames queued for a connection go out in one gathered write.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

#include "common/result.hpp"
#include "edge/protocol/utf8.hpp"

namespace tickstream::edge {

enum class ws_opcode : std::uint8_t { continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 };

// Standard and Tickstream close codes (docs/PROTOCOL.md).
namespace close_code {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t invalid_payload = 1007;  // a text message or close reason that is not UTF-8
inline constexpr std::uint16_t policy_violation = 1008;
inline constexpr std::uint16_t too_big = 1009;
inline constexpr std::uint16_t slow_consumer = 4008;
inline constexpr std::uint16_t max_connections = 4009;
inline constexpr std::uint16_t token_expired = 4001;
inline constexpr std::uint16_t auth_failed = 4003;  // in-band authentication refused or too late
inline constexpr std::uint16_t revoked = 4010;      // the back end disconnected the user or session
}  // namespace close_code

// Whether a close frame may carry code (RFC 6455 §7.4): 1000–1003, 1007–1011, 3000–4999.
constexpr bool valid_close_code(std::uint16_t code) noexcept {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) || (code >= 3000 && code <= 4999);
}

// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key: base64(SHA-1(key + RFC GUID)).
// Errors ("bad_key") when the key is not 16 bytes in base64.
common::result<std::string> websocket_accept_key(std::string_view sec_websocket_key);

// Appends an unmasked server frame header (FIN set) for a payload of payload_size bytes.
void append_frame_header(std::string& out, ws_opcode op, std::size_t payload_size);
// A whole server frame: header and payload.
std::string server_frame(ws_opcode op, std::string_view payload);
// A close frame's payload: the code, big-endian, then the reason (cut to fit 125 bytes).
std::string close_payload(std::uint16_t code, std::string_view reason);

// The code to echo for a client's close frame payload (RFC 6455 §5.5.1): its own code, 1000 when
// it sent none, 1002 for a 1-byte payload or a code that may not appear on the wire.
constexpr std::uint16_t close_echo_code(std::string_view payload) noexcept {
  if (payload.empty()) return close_code::normal;
  if (payload.size() == 1) return close_code::protocol_error;
  const auto code =
      static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) | static_cast<std::uint8_t>(payload[1]));
  return valid_close_code(code) ? code : close_code::protocol_error;
}

// Parses client frames: masked (or it is a protocol error), possibly fragmented, interleaved with
// control frames. Feed it bytes in any split; it unmasks in place and reports each complete
// message. Bounded: a message longer than max_message_bytes is an error, not a buffer.
class client_frame_parser {
 public:
  enum class status { ok, protocol_error, too_big, invalid_utf8 };

  explicit client_frame_parser(std::size_t max_message_bytes) : max_message_(max_message_bytes) {}

  // permessage-deflate was negotiated: RSV1 on a message's first frame marks it compressed.
  void accept_compressed() noexcept { deflate_ = true; }

  // Consumes frames from data[0..size); returns how many bytes were consumed (the caller keeps
  // the rest for the next call) or sets err. on_message(opcode, payload) gets text/binary
  // messages whole and ping/pong/close frames as they come; with accept_compressed(), it is
  // called as on_message(opcode, payload, compressed) and a compressed text message's UTF-8 is
  // the caller's to check once it is inflated. data is modified (unmasked).
  template <class OnMessage>
  std::size_t parse(char* data, std::size_t size, status& err, OnMessage&& on_message);

  status last_error() const noexcept { return error_; }

 private:
  std::size_t max_message_;
  std::string fragments_;  // an incomplete fragmented message
  ws_opcode fragment_op_ = ws_opcode::text;
  bool in_fragmented_ = false;
  bool fragment_compressed_ = false;
  bool deflate_ = false;
  status error_ = status::ok;
};

template <class OnMessage>
std::size_t client_frame_parser::parse(char* data, std::size_t size, status& err, OnMessage&& on_message) {
  std::size_t pos = 0;
  err = status::ok;
  const auto fail = [&](status s) {
    err = error_ = s;
    return pos;
  };
  const auto deliver = [&](ws_opcode op, std::string_view body, bool compressed) {
    if constexpr (std::is_invocable_v<OnMessage&, ws_opcode, std::string_view, bool>) {
      on_message(op, body, compressed);
    } else {
      on_message(op, body);  // (compressed is never true: accept_compressed() needs the 3-argument form)
    }
  };
  while (size - pos >= 2) {
    const auto b0 = static_cast<std::uint8_t>(data[pos]);
    const auto b1 = static_cast<std::uint8_t>(data[pos + 1]);
    const bool fin = (b0 & 0x80) != 0;
    const auto op = static_cast<ws_opcode>(b0 & 0x0f);
    const bool control = (b0 & 0x08) != 0;
    std::uint64_t len = b1 & 0x7f;
    std::size_t header = 2;
    // RSV1 only for a compressed message's first frame, and only once negotiated (RFC 7692 §6.1).
    const bool rsv1 = (b0 & 0x40) != 0;
    if (rsv1 && (!deflate_ || control || op == ws_opcode::continuation)) return fail(status::protocol_error);
    if ((b0 & 0x30) != 0 || (b1 & 0x80) == 0) return fail(status::protocol_error);  // RSV2/3, unmasked
    if (control && (!fin || len > 125)) return fail(status::protocol_error);
    if (!control && op != ws_opcode::text && op != ws_opcode::binary && op != ws_opcode::continuation) {
      return fail(status::protocol_error);
    }
    if (control && op != ws_opcode::close && op != ws_opcode::ping && op != ws_opcode::pong) {
      return fail(status::protocol_error);
    }
    if (len == 126) {
      if (size - pos < 4) break;
      len = (std::uint64_t{static_cast<std::uint8_t>(data[pos + 2])} << 8) | static_cast<std::uint8_t>(data[pos + 3]);
      header = 4;
    } else if (len == 127) {
      if (size - pos < 10) break;
      len = 0;
      for (std::size_t i = 0; i < 8; ++i) len = (len << 8) | static_cast<std::uint8_t>(data[pos + 2 + i]);
      header = 10;
      if ((len >> 63) != 0) return fail(status::protocol_error);  // its top bit must be 0 (§5.2)
    }
    if (len > max_message_ || (!control && fragments_.size() + len > max_message_)) {
      return fail(status::too_big);
    }
    if (size - pos < header + 4 + len) break;
    char* mask = data + pos + header;
    char* payload = mask + 4;
    for (std::size_t i = 0; i < len; ++i) payload[i] = static_cast<char>(payload[i] ^ mask[i & 3]);
    const std::string_view body(payload, static_cast<std::size_t>(len));
    pos += header + 4 + static_cast<std::size_t>(len);

    // Text must be UTF-8 (RFC 6455 §8.1), and so must a close frame's reason (§5.5.1).
    if (op == ws_opcode::close && body.size() > 2 && !valid_utf8(body.substr(2))) return fail(status::invalid_utf8);
    if (control) {
      deliver(op, body, false);
    } else if (op == ws_opcode::continuation) {
      if (!in_fragmented_) return fail(status::protocol_error);
      fragments_.append(body);
      if (fin) {
        in_fragmented_ = false;
        if (fragment_op_ == ws_opcode::text && !fragment_compressed_ && !valid_utf8(fragments_)) {
          return fail(status::invalid_utf8);
        }
        deliver(fragment_op_, std::string_view(fragments_), fragment_compressed_);
        fragments_.clear();
      }
    } else {
      if (in_fragmented_) return fail(status::protocol_error);
      if (fin) {
        if (op == ws_opcode::text && !rsv1 && !valid_utf8(body)) return fail(status::invalid_utf8);
        deliver(op, body, rsv1);
      } else {
        in_fragmented_ = true;
        fragment_op_ = op;
        fragment_compressed_ = rsv1;
        fragments_.assign(body);
      }
    }
  }
  return pos;
}

// Why a client's input is refused, and how its connection is closed for it.
struct input_refusal {
  std::uint16_t code;  // the close code
  const char* what;    // the metric label and the logged reason
  const char* reason;  // the close frame's reason
};
// For a parser failure: too_big (1009), invalid_utf8 (1007), protocol_error (1002).
const input_refusal& refusal_for(client_frame_parser::status s) noexcept;
// For an inflate error code (inflate_client_message): "too_big" (1009), "invalid_utf8" or
// anything else, a broken deflate stream (1007).
const input_refusal& refusal_for_inflate(std::string_view error_code) noexcept;

}  // namespace tickstream::edge
