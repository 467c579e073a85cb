// The edge's parser of client WebSocket frames (edge::client_frame_parser) on arbitrary bytes.
//
// Input: byte 0 picks the message limit, bytes 1-2 the split point, bytes 3-6 the mask key used to
// re-encode; the rest is what a client sent after the upgrade. Checked:
//   - consumed bytes never exceed the input, and an ok parse leaves only an incomplete frame;
//   - the messages (and the final status) are the same whole, split at the chosen point, and fed
//     one byte at a time (short inputs), as reads could deliver them;
//   - every message respects the rules the parser enforces (size limit, UTF-8 text and close
//     reasons, control payloads of at most 125 bytes), and close_echo_code answers a legal code;
//   - the messages, framed again as a client would (masked, unfragmented), parse to the same list;
//   - server_frame's frames read back (bench::ws_frame_reader) as the opcode and payload given.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "bench/ws_frame_reader.hpp"
#include "edge/protocol/ws_codec.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace tickstream;
using edge::client_frame_parser;
using edge::ws_opcode;

namespace {

using messages = std::vector<std::pair<ws_opcode, std::string>>;

struct outcome {
  messages got;
  client_frame_parser::status status = client_frame_parser::status::ok;
  std::size_t left = 0;  // bytes kept for a later read (an incomplete frame)
};

// Feeds input in pieces ending at cuts (ascending), keeping the unconsumed tail between reads as
// the session's read buffer does; stops at the first error.
outcome parse_in_pieces(std::string_view input, const std::vector<std::size_t>& cuts, std::size_t max) {
  client_frame_parser parser(max);
  outcome out;
  std::string buffer;
  std::size_t from = 0;
  auto points = cuts;
  points.push_back(input.size());
  for (const auto cut : points) {
    buffer.append(input.substr(from, cut - from));
    from = cut;
    const auto size_before = buffer.size();
    const auto used = parser.parse(buffer.data(), buffer.size(), out.status,
                                   [&](ws_opcode op, std::string_view p) { out.got.emplace_back(op, std::string(p)); });
    FUZZ_CHECK(used <= size_before);
    FUZZ_CHECK(parser.last_error() == out.status);
    if (out.status != client_frame_parser::status::ok) break;
    buffer.erase(0, used);
  }
  out.left = buffer.size();
  return out;
}

// A masked, unfragmented client frame (RFC 6455 §5.2).
std::string client_frame(ws_opcode op, std::string_view payload, std::uint32_t key) {
  std::string out;
  out.push_back(static_cast<char>(0x80 | static_cast<std::uint8_t>(op)));
  if (payload.size() < 126) {
    out.push_back(static_cast<char>(0x80 | payload.size()));
  } else if (payload.size() <= 0xffff) {
    out.push_back(static_cast<char>(0x80 | 126));
    out.push_back(static_cast<char>(payload.size() >> 8));
    out.push_back(static_cast<char>(payload.size() & 0xff));
  } else {
    out.push_back(static_cast<char>(0x80 | 127));
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((std::uint64_t{payload.size()} >> (8 * i)) & 0xff));
  }
  const char mask[4] = {static_cast<char>(key >> 24), static_cast<char>(key >> 16), static_cast<char>(key >> 8),
                        static_cast<char>(key)};
  out.append(mask, 4);
  for (std::size_t i = 0; i < payload.size(); ++i) out.push_back(static_cast<char>(payload[i] ^ mask[i & 3]));
  return out;
}

bool is_control(ws_opcode op) { return (static_cast<std::uint8_t>(op) & 0x08) != 0; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 7) return 0;
  // Limits from 1 byte to 64 KiB: small ones reach the too_big paths with short inputs.
  const std::size_t max = std::size_t{1} << (data[0] % 17);
  const std::size_t split_seed = (std::size_t{data[1]} << 8) | data[2];
  const std::uint32_t key =
      (std::uint32_t{data[3]} << 24) | (std::uint32_t{data[4]} << 16) | (std::uint32_t{data[5]} << 8) | data[6];
  const std::string_view wire = fuzz::as_view(data + 7, size - 7);

  const auto whole = parse_in_pieces(wire, {}, max);
  FUZZ_CHECK(whole.left <= wire.size());
  if (whole.status == client_frame_parser::status::ok) {
    // What is left is not a complete frame: another parse of it alone makes no progress.
    client_frame_parser again(max);
    std::string rest(wire.substr(wire.size() - whole.left));
    client_frame_parser::status st{};
    std::size_t calls = 0;
    again.parse(rest.data(), rest.size(), st, [&](ws_opcode, std::string_view) { ++calls; });
    FUZZ_CHECK(calls == 0);
  }

  // The same bytes, cut where the input says, and (short inputs) at every byte.
  const std::size_t cut = wire.empty() ? 0 : split_seed % (wire.size() + 1);
  const auto split = parse_in_pieces(wire, {cut}, max);
  FUZZ_CHECK(split.got == whole.got);
  FUZZ_CHECK(split.status == whole.status);
  if (wire.size() <= 256) {
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < wire.size(); ++i) every.push_back(i);
    const auto bytewise = parse_in_pieces(wire, every, max);
    FUZZ_CHECK(bytewise.got == whole.got);
    FUZZ_CHECK(bytewise.status == whole.status);
  }

  // What the parser hands on obeys the rules it enforces.
  std::string reframed;
  for (const auto& [op, payload] : whole.got) {
    FUZZ_CHECK(op == ws_opcode::text || op == ws_opcode::binary || op == ws_opcode::close || op == ws_opcode::ping ||
               op == ws_opcode::pong);
    FUZZ_CHECK(payload.size() <= max);
    if (is_control(op)) FUZZ_CHECK(payload.size() <= 125);
    if (op == ws_opcode::text) FUZZ_CHECK(edge::valid_utf8(payload));
    if (op == ws_opcode::close) {
      if (payload.size() > 2) FUZZ_CHECK(edge::valid_utf8(std::string_view(payload).substr(2)));
      const auto echo = edge::close_echo_code(payload);
      FUZZ_CHECK(echo == edge::close_code::protocol_error || edge::valid_close_code(echo));
      if (payload.size() >= 2 && echo != edge::close_code::protocol_error) {
        FUZZ_CHECK(echo == ((static_cast<std::uint8_t>(payload[0]) << 8) | static_cast<std::uint8_t>(payload[1])));
      }
    }
    reframed += client_frame(op, payload, key);
  }
  // Framed again (masked, unfragmented) they parse to the very same messages.
  const auto again = parse_in_pieces(reframed, {}, max);
  FUZZ_CHECK(again.status == client_frame_parser::status::ok);
  FUZZ_CHECK(again.left == 0);
  FUZZ_CHECK(again.got == whole.got);

  // The server side: each message framed by the edge reads back as sent.
  std::string server;
  for (const auto& [op, payload] : whole.got) server += edge::server_frame(op, payload);
  bench::ws_frame_reader reader;
  std::size_t i = 0;
  const bool read_ok = reader.feed(server, [&](bench::ws_frame_reader::opcode op, std::string_view p) {
    FUZZ_CHECK(i < whole.got.size());
    FUZZ_CHECK(static_cast<std::uint8_t>(op) == static_cast<std::uint8_t>(whole.got[i].first));
    FUZZ_CHECK(p == whole.got[i].second);
    ++i;
  });
  FUZZ_CHECK(read_ok);
  FUZZ_CHECK(i == whole.got.size());
  return 0;
}
