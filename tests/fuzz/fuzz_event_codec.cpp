// The event codec (common::decode_event / encode_event) on arbitrary text: what arrives on a
// Redis channel or from a backend's webhook. Checked: an event that decodes encodes to valid
// UTF-8 JSON (the edge forwards it in a text frame) naming its type, and decode -> encode ->
// decode is stable: the same event, and the same canonical text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/event_codec.hpp"
#include "edge/protocol/utf8.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace tickstream;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto first = common::decode_event(fuzz::as_view(data, size));
  if (!first) {
    const auto& code = first.err().code;
    FUZZ_CHECK(code == "invalid_json" || code == "unknown_type" || code == "invalid_event");
    return 0;
  }
  const auto text = common::encode_event(first.value());
  FUZZ_CHECK(edge::valid_utf8(text));
  FUZZ_CHECK(text.find(std::string("\"type\":\"") + common::event_type_name(first.value()) + "\"") !=
             std::string::npos);
  const auto second = common::decode_event(text);
  FUZZ_CHECK(second.ok());
  FUZZ_CHECK(second.value() == first.value());
  FUZZ_CHECK(common::recv_time_of(second.value()) == common::recv_time_of(first.value()));
  FUZZ_CHECK(common::encode_event(second.value()) == text);
  return 0;
}
