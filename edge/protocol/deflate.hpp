#pragma once
// permessage-deflate (RFC 7692) for the edge: the negotiation, and compressing and inflating one
// message at a time. Clients are told client_no_context_takeover, so each message they send is
// inflated on its own. The edge keeps context takeover for itself unless the client (or the
// operator) declines it; it then compresses broadcast messages in shared streams
// (broadcast_deflater.hpp) and everything else alone. Either way a message is compressed once,
// the same bytes go to every client that takes that form, and no connection keeps a compression
// state (about 300 KB each with zlib's defaults).
//
// Threading: a codec object is used by one thread (one per worker); negotiation is pure.

#include <zlib.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "edge/protocol/frame.hpp"
#include "edge/protocol/ws_codec.hpp"

namespace tickstream::edge {

// A complete data frame (FIN, RSV1 set: compressed) carrying body, a message compressed as above.
std::string compressed_frame(ws_opcode op, std::string_view body);

// What the edge and a client agreed: the response header's value and how the connection takes
// compressed messages.
struct deflate_agreement {
  std::string response;
  deflate_mode mode = deflate_mode::alone;
};

// What a client's Sec-WebSocket-Extensions offer leads to, or nullopt when no acceptable
// permessage-deflate offer is in it (the connection goes uncompressed). context_takeover: the
// edge keeps it (shared streams) unless the offer says server_no_context_takeover.
std::optional<deflate_agreement> negotiate_permessage_deflate(std::string_view offers, bool context_takeover);

// Compresses messages for sending: raw deflate, the trailing empty block removed as RFC 7692
// §7.2.1 says. window_bits and mem_level are zlib's (smaller ones take less memory).
class message_deflater {
 public:
  explicit message_deflater(int level = Z_DEFAULT_COMPRESSION, int window_bits = 15, int mem_level = 8);
  ~message_deflater();
  message_deflater(const message_deflater&) = delete;
  message_deflater& operator=(const message_deflater&) = delete;

  // Appends the compressed form of payload to out: alone (compress), or against the messages
  // compressed since the last reset() (compress_next: context takeover).
  void compress(std::string_view payload, std::string& out) {
    reset();
    compress_next(payload, out);
  }
  void compress_next(std::string_view payload, std::string& out);
  void reset() { deflateReset(&z_); }

 private:
  z_stream z_{};
};

// Inflates received messages, each alone (the client was told client_no_context_takeover),
// refusing to produce more than max_bytes (a decompression bomb).
class message_inflater {
 public:
  message_inflater();
  ~message_inflater();
  message_inflater(const message_inflater&) = delete;
  message_inflater& operator=(const message_inflater&) = delete;

  // The message, or "too_big" (over max_bytes inflated) or "invalid_deflate".
  common::result<std::string> inflate(std::string_view compressed, std::size_t max_bytes);

 private:
  z_stream z_{};
};

// A compressed client message, inflated within max_bytes (on this thread's inflater: client
// messages are independent, client_no_context_takeover) and, for text, checked to be UTF-8: the
// message, or "too_big" (close 1009), "invalid_deflate" or "invalid_utf8" (close 1007).
common::result<std::string> inflate_client_message(std::string_view compressed, bool text, std::size_t max_bytes);

}  // namespace tickstream::edge
