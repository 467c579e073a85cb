#include "edge/protocol/frame.hpp"

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

frame_ptr make_control_frame(ws_opcode op, std::string_view payload) {
  auto f = std::make_shared<frame>();
  append_frame_header(f->wire, op, payload.size());
  f->header_size = static_cast<std::uint8_t>(f->wire.size());
  f->wire.append(payload);
  return f;
}

}  // namespace tickstream::edge
