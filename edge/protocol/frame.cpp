#include "edge/protocol/frame.hpp"

#include "edge/protocol/deflate.hpp"

namespace tickstream::edge {

frame_ptr make_text_frame(frame_kind kind, std::string key, std::string_view payload, std::string route) {
  return make_text_frame_mutable(kind, std::move(key), payload, std::move(route));
}

std::shared_ptr<frame> make_text_frame_mutable(frame_kind kind, std::string key, std::string_view payload,
                                               std::string route) {
  auto f = std::make_shared<frame>();
  f->kind = kind;
  f->route = route.empty() ? key : std::move(route);
  f->key = std::move(key);
  f->wire.reserve(payload.size() + 10);
  append_frame_header(f->wire, ws_opcode::text, payload.size());
  f->header_size = static_cast<std::uint8_t>(f->wire.size());
  f->wire.append(payload);
  return f;
}

const std::string& frame::wire_for(bool deflate, std::size_t threshold) const {
  if (!deflate || payload().size() < threshold) return wire;
  const auto op = static_cast<ws_opcode>(static_cast<std::uint8_t>(wire[0]) & 0x0f);
  if (op != ws_opcode::text && op != ws_opcode::binary) return wire;  // control frames never (§6.1)
  std::call_once(deflate_once_, [this, op] {
    thread_local message_deflater deflater;  // one per thread: no lock, no state per connection
    std::string body;
    deflater.compress(payload(), body);
    if (body.size() >= payload().size()) return;  // no gain: send it plain
    deflated_ = compressed_frame(op, body);
  });
  return deflated_.empty() ? wire : deflated_;
}

const std::string& frame::wire_for(deflate_mode mode, std::size_t threshold, deflate_cursor& cursor) const {
  if (mode == deflate_mode::off) return wire;
  // A stream's first message refers to nothing before it; each next one only to the stream's
  // earlier messages, which a connection in step has, and nothing compressed since.
  if (mode == deflate_mode::shared && stream_ != 0 &&
      (stream_index_ == 0 || (cursor.stream == stream_ && cursor.next == stream_index_))) {
    cursor = {stream_, stream_index_ + 1};
    return stream_deflated_;
  }
  const auto& out = wire_for(true, threshold);
  // Compressed alone, its text is in the client's window now: no stream can go on after it.
  if (&out != &wire) cursor = {};
  return out;
}

void frame::set_stream(std::string deflated, std::uint64_t stream, std::uint32_t index) {
  stream_deflated_ = std::move(deflated);
  stream_ = stream;
  stream_index_ = index;
}

frame_ptr make_control_frame(ws_opcode op, std::string_view payload) {
  auto f = std::make_shared<frame>();
  append_frame_header(f->wire, op, payload.size());
  f->header_size = static_cast<std::uint8_t>(f->wire.size());
  f->wire.append(payload);
  return f;
}

}  // namespace tickstream::edge
