#pragma once
// The invariant every event a normalizer makes must hold: ingest publishes its encoding, and an
// edge decodes that text back to the same event (else the edge drops it as a bad message). The
// encoding is valid UTF-8, since the edge forwards it in a text frame.

#include <string>
#include <variant>

#include "common/event_codec.hpp"
#include "edge/protocol/utf8.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace tickstream::fuzz {

// The event as the wire carries it: without the fields that stay inside ingest.
inline common::event on_the_wire(common::event ev) {
  std::visit(
      [](auto& e) {
        if constexpr (!std::is_same_v<std::decay_t<decltype(e)>, common::price_update>) e.header.dedupe_id.clear();
        if constexpr (std::is_same_v<std::decay_t<decltype(e)>, common::position_update>) e.fill.reset();
      },
      ev);
  return ev;
}

inline void check_published(const common::event& ev) {
  const auto text = common::encode_event(ev);
  FUZZ_CHECK(edge::valid_utf8(text));
  const auto back = common::decode_event(text);
  if (!back)
    std::fprintf(stderr, "published event refused: %s (%s)\n%s\n", back.err().code.c_str(), back.err().message.c_str(),
                 text.c_str());
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(back.value() == on_the_wire(ev));
  FUZZ_CHECK(common::encode_event(back.value()) == text);
}

}  // namespace tickstream::fuzz
