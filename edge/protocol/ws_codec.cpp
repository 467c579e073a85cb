#include "edge/protocol/ws_codec.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <array>

namespace tickstream::edge {

common::result<std::string> websocket_accept_key(std::string_view key) {
  // RFC 6455 §4.2.1: the key is 16 random bytes in base64, i.e. 24 characters ending in "==".
  if (key.size() != 24 || key.substr(22) != "==")
    return common::error{"bad_key", "Sec-WebSocket-Key must be 16 bytes in base64"};
  std::array<unsigned char, 18> raw{};
  if (EVP_DecodeBlock(raw.data(), reinterpret_cast<const unsigned char*>(key.data()), 24) != 18) {
    return common::error{"bad_key", "Sec-WebSocket-Key is not valid base64"};
  }
  static constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string input(key);
  input += guid;
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest.data());
  std::array<unsigned char, 32> b64{};
  const int n = EVP_EncodeBlock(b64.data(), digest.data(), SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<const char*>(b64.data()), static_cast<std::size_t>(n));
}

void append_frame_header(std::string& out, ws_opcode op, std::size_t n) {
  out.push_back(static_cast<char>(0x80 | static_cast<std::uint8_t>(op)));
  if (n < 126) {
    out.push_back(static_cast<char>(n));
  } else if (n <= 0xffff) {
    out.push_back(static_cast<char>(126));
    out.push_back(static_cast<char>((n >> 8) & 0xff));
    out.push_back(static_cast<char>(n & 0xff));
  } else {
    out.push_back(static_cast<char>(127));
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((static_cast<std::uint64_t>(n) >> (8 * i)) & 0xff));
  }
}

std::string server_frame(ws_opcode op, std::string_view payload) {
  std::string out;
  out.reserve(payload.size() + 10);
  append_frame_header(out, op, payload.size());
  out.append(payload);
  return out;
}

std::string close_payload(std::uint16_t code, std::string_view reason) {
  std::string out;
  out.push_back(static_cast<char>(code >> 8));
  out.push_back(static_cast<char>(code & 0xff));
  out.append(reason.substr(0, 123));
  return out;
}

namespace {
constexpr input_refusal too_big_refusal{close_code::too_big, "message_too_big", "message too big"};
constexpr input_refusal utf8_refusal{close_code::invalid_payload, "invalid_utf8", "text is not UTF-8"};
constexpr input_refusal protocol_refusal{close_code::protocol_error, "protocol_error", "protocol error"};
constexpr input_refusal deflate_refusal{close_code::invalid_payload, "invalid_deflate", "compressed message is broken"};
}  // namespace

const input_refusal& refusal_for(client_frame_parser::status s) noexcept {
  using status = client_frame_parser::status;
  if (s == status::too_big) return too_big_refusal;
  if (s == status::invalid_utf8) return utf8_refusal;
  return protocol_refusal;
}

const input_refusal& refusal_for_inflate(std::string_view error_code) noexcept {
  if (error_code == "too_big") return too_big_refusal;
  if (error_code == "invalid_utf8") return utf8_refusal;
  return deflate_refusal;
}

}  // namespace tickstream::edge
