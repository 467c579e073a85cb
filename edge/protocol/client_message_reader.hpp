#pragma once
// A client's messages from the bytes it sends: frames parsed (client_frame_parser), compressed
// messages inflated within the message limit (permessage-deflate), and whatever breaks the
// protocol turned into the refusal its connection closes with. Without sockets: the session feeds
// it what it read.
//
// Threading: owned by one session, used on its worker thread only.

#include <cstddef>
#include <string>
#include <string_view>

#include "edge/protocol/deflate.hpp"
#include "edge/protocol/ws_codec.hpp"

namespace tickstream::edge {

class client_message_reader {
 public:
  explicit client_message_reader(std::size_t max_message_bytes) : parser_(max_message_bytes), max_(max_message_bytes) {}

  // permessage-deflate was negotiated for the connection.
  void accept_compressed() noexcept { parser_.accept_compressed(); }

  // Reads what it can of data (which it unmasks in place): on_message(opcode, payload) gets each
  // text or binary message whole (inflated) and each control frame; returns the bytes consumed.
  // Once the input is refused (refusal()), nothing more is delivered.
  template <class OnMessage>
  std::size_t read(char* data, std::size_t size, OnMessage&& on_message);

  // Why the input was refused, once it is (null until then): the rest of the connection's input is
  // not to be trusted.
  const input_refusal* refusal() const noexcept { return refusal_; }

 private:
  client_frame_parser parser_;
  const std::size_t max_;
  const input_refusal* refusal_ = nullptr;
};

template <class OnMessage>
std::size_t client_message_reader::read(char* data, std::size_t size, OnMessage&& on_message) {
  if (refusal_) return 0;
  auto err = client_frame_parser::status::ok;
  const auto consumed = parser_.parse(data, size, err, [&](ws_opcode op, std::string_view payload, bool compressed) {
    if (refusal_) return;
    if (!compressed) return on_message(op, payload);
    auto inflated = inflate_client_message(payload, op == ws_opcode::text, max_);
    if (!inflated) {
      refusal_ = &refusal_for_inflate(inflated.err().code);
      return;
    }
    on_message(op, std::string_view(inflated.value()));
  });
  if (err != client_frame_parser::status::ok && refusal_ == nullptr) refusal_ = &refusal_for(err);
  return consumed;
}

}  // namespace tickstream::edge
