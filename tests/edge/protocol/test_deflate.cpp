#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "bench/ws_frame_reader.hpp"
#include "edge/protocol/client_message_reader.hpp"
#include "edge/protocol/deflate.hpp"
#include "edge/protocol/frame.hpp"
#include "edge/protocol/ws_codec.hpp"

using namespace tickstream::edge;

namespace {

const std::string tick_json =
    R"({"type":"price_update","symbol":"AAPL","price":270.26,"bid":270.25,"ask":270.26,"bid_size":200,)"
    R"("ask_size":700,"size":100,"volume":315846,"change":1.79,"change_percent":0.67,)"
    R"("timestamp":"2026-11-20T14:30:00.055629Z","recv_us":1795185000064264,"source":"sample"})";

// A masked client frame with the given first byte (FIN, RSV bits, opcode).
std::string client_frame(std::uint8_t first_byte, std::string_view payload) {
  auto f = tickstream::bench::make_client_frame(tickstream::bench::ws_frame_reader::opcode::text, payload, 0x1a2b3c4d);
  f[0] = static_cast<char>(first_byte);
  return f;
}

}  // namespace

TEST_CASE("permessage-deflate: offers are accepted, with context takeover unless declined, or refused", "[deflate]") {
  const std::string shared = "permessage-deflate; client_no_context_takeover";
  const std::string alone = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
  const auto agreed = [](std::string_view offers, bool takeover = true) {
    const auto a = negotiate_permessage_deflate(offers, takeover);
    return a ? a->response : std::string("(declined)");
  };
  CHECK(agreed("permessage-deflate") == shared);
  CHECK(negotiate_permessage_deflate("permessage-deflate", true)->mode == deflate_mode::shared);
  CHECK(agreed("permessage-deflate; client_max_window_bits") == shared);  // Chromium's offer
  CHECK(agreed("x-webkit-deflate-frame, permessage-deflate") == shared);
  // The client declines context takeover, or the edge does (--deflate-context-takeover=false).
  CHECK(agreed("permessage-deflate; client_max_window_bits=10; server_no_context_takeover") == alone);
  CHECK(negotiate_permessage_deflate("permessage-deflate; server_no_context_takeover", true)->mode ==
        deflate_mode::alone);
  CHECK(agreed("permessage-deflate", false) == alone);
  CHECK(negotiate_permessage_deflate("permessage-deflate", false)->mode == deflate_mode::alone);
  CHECK(agreed("") == "(declined)");
  CHECK(agreed("x-webkit-deflate-frame") == "(declined)");
  CHECK(agreed("permessage-deflate; server_max_window_bits=10") == "(declined)");  // we use 15
  CHECK(agreed("permessage-deflate; client_max_window_bits=16") == "(declined)");
  CHECK(agreed("permessage-deflate; mystery") == "(declined)");
  CHECK(agreed("permessage-deflate; server_no_context_takeover=1") == "(declined)");
  CHECK(agreed("permessage-deflate; mystery, permessage-deflate") == shared);
  // A window the client asks the server for is answered (RFC 7692 §7.1.2.1); a parameter given
  // twice makes the offer unacceptable (§7).
  CHECK(agreed("permessage-deflate; server_max_window_bits=15") == shared + "; server_max_window_bits=15");
  CHECK(agreed("permessage-deflate; server_max_window_bits=\"15\"; server_no_context_takeover") ==
        alone + "; server_max_window_bits=15");
  CHECK(agreed("permessage-deflate; server_max_window_bits") == "(declined)");
  CHECK(agreed("permessage-deflate; client_max_window_bits; client_max_window_bits=10") == "(declined)");
  CHECK(agreed("permessage-deflate; server_no_context_takeover; server_no_context_takeover, permessage-deflate") ==
        shared);
  CHECK(agreed("permessage-deflate; client_max_window_bits=010") == "(declined)");  // no leading zeros
  CHECK(agreed("permessage-deflate; server_no_context_takeover=\"\"") == "(declined)");
}

TEST_CASE("permessage-deflate: a message compresses and inflates back, and a bomb is refused", "[deflate]") {
  message_deflater d;
  message_inflater i;
  std::string packed;
  d.compress(tick_json, packed);
  CHECK(packed.size() < tick_json.size());
  auto back = i.inflate(packed, 1 << 20);
  REQUIRE(back);
  CHECK(back.value() == tick_json);
  // Each message alone: the same input gives the same bytes however often, and inflates alone.
  std::string again;
  d.compress(tick_json, again);
  CHECK(again == packed);
  CHECK(i.inflate(again, 1 << 20).value() == tick_json);
  // 1 MiB of zeros compresses to about a kilobyte: refused once it passes the limit inflating.
  std::string bomb;
  d.compress(std::string(1 << 20, '\0'), bomb);
  CHECK(bomb.size() < 2000);
  const auto refused = i.inflate(bomb, 64 * 1024);
  REQUIRE_FALSE(refused);
  CHECK(refused.err().code == "too_big");
  CHECK(i.inflate("\xff\xff\xff garbage", 1 << 20).err().code == "invalid_deflate");
  CHECK(i.inflate(packed, 1 << 20).value() == tick_json);  // the inflater is fine after a failure
}

TEST_CASE("permessage-deflate: a frame is compressed once and shared, small and control frames stay plain",
          "[deflate]") {
  const auto f = make_text_frame(frame_kind::tick, "AAPL", tick_json);
  const auto& a = f->wire_for(true, 64);
  const auto& b = f->wire_for(true, 64);
  CHECK(&a == &b);                                       // the same bytes for every client
  CHECK((static_cast<std::uint8_t>(a[0]) & 0x40) != 0);  // RSV1
  CHECK(a.size() < f->wire.size());
  CHECK(&f->wire_for(false, 64) == &f->wire);
  CHECK(&f->wire_for(true, 4096) == &f->wire);  // under the threshold
  const auto ping = make_control_frame(ws_opcode::ping, std::string(100, 'p'));
  CHECK(&ping->wire_for(true, 0) == &ping->wire);
  // What a client receives inflates back to the message.
  message_inflater i;
  const auto header = static_cast<std::size_t>(a.size() < 126 + 2 ? 2 : 4);
  CHECK(i.inflate(std::string_view(a).substr(header), 1 << 20).value() == tick_json);
}

TEST_CASE("the load generator's frame reader reports a compressed message only once deflate is agreed",
          "[deflate][bench]") {
  using reader = tickstream::bench::ws_frame_reader;
  const auto f = make_text_frame(frame_kind::tick, "AAPL", tick_json);
  const auto& wire = f->wire_for(true, 64);
  reader plain;
  CHECK_FALSE(plain.feed(wire, [](reader::opcode, std::string_view) {}));  // RSV1 unannounced
  reader agreed;
  agreed.accept_compressed(true);
  std::vector<std::pair<std::string, bool>> got;
  auto collect = [&](reader::opcode, std::string_view p, bool compressed) { got.emplace_back(p, compressed); };
  // Byte by byte, then a plain frame after it.
  for (const char c : wire) REQUIRE(agreed.feed(std::string_view(&c, 1), collect));
  REQUIRE(agreed.feed(f->wire, collect));
  REQUIRE(got.size() == 2);
  CHECK(got[0].second);
  CHECK(message_inflater().inflate(got[0].first, 1 << 20).value() == tick_json);
  CHECK_FALSE(got[1].second);
  CHECK(got[1].first == tick_json);
  // RSV1 on a control frame is refused even then.
  std::string ping = make_control_frame(ws_opcode::ping, "p")->wire;
  ping[0] = static_cast<char>(static_cast<std::uint8_t>(ping[0]) | 0x40);
  CHECK_FALSE(agreed.feed(ping, collect));
}

TEST_CASE("the client parser takes compressed messages only once negotiated, whole or fragmented", "[deflate][ws]") {
  message_deflater d;
  std::string packed;
  d.compress(R"({"type":"ping","id":1})", packed);
  const auto whole = client_frame(0xC1, packed);  // FIN, RSV1, text
  const auto halves = client_frame(0x41, packed.substr(0, 5)) + client_frame(0x80, packed.substr(5));
  for (const auto& input : {whole, halves}) {
    for (std::size_t cut = 0; cut <= input.size(); ++cut) {
      client_frame_parser p(4096);
      p.accept_compressed();
      std::vector<std::pair<std::string, bool>> got;
      std::string buf = input.substr(0, cut);
      client_frame_parser::status err{};
      const auto on = [&](ws_opcode, std::string_view body, bool compressed) { got.emplace_back(body, compressed); };
      buf.erase(0, p.parse(buf.data(), buf.size(), err, on));
      buf += input.substr(cut);
      buf.erase(0, p.parse(buf.data(), buf.size(), err, on));
      REQUIRE(err == client_frame_parser::status::ok);
      REQUIRE(got.size() == 1);
      CHECK(got[0].second);
      CHECK(message_inflater().inflate(got[0].first, 4096).value() == R"({"type":"ping","id":1})");
    }
  }
  client_frame_parser::status err{};
  const auto refuse = [&](const std::string& input, bool negotiated) {
    client_frame_parser p(4096);
    if (negotiated) p.accept_compressed();
    std::string buf = input;
    p.parse(buf.data(), buf.size(), err, [](ws_opcode, std::string_view, bool) {});
    return err == client_frame_parser::status::protocol_error;
  };
  CHECK(refuse(whole, false));                                             // RSV1 without the extension
  CHECK(refuse(client_frame(0xC9, "ping"), true));                         // compressed control frame
  CHECK(refuse(client_frame(0x41, "a") + client_frame(0xC0, "b"), true));  // RSV1 on a continuation
  CHECK(refuse(client_frame(0xA1, "rsv2"), true));                         // RSV2 is never ours
}

TEST_CASE("a client's messages arrive inflated, and a bomb or a broken stream ends its input", "[deflate][ws]") {
  message_deflater d;
  std::string hello;
  d.compress(R"({"type":"ping","id":1})", hello);
  std::string bomb;
  d.compress(std::string(1 << 20, ' '), bomb);
  const auto read_all = [](std::string input, std::vector<std::string>& got) {
    client_message_reader r(64 * 1024);
    r.accept_compressed();
    const auto used =
        r.read(input.data(), input.size(), [&](ws_opcode, std::string_view payload) { got.emplace_back(payload); });
    CHECK(used <= input.size());
    return r.refusal();
  };
  std::vector<std::string> got;
  // Compressed and plain messages side by side, each delivered as the client wrote it.
  CHECK_FALSE(read_all(client_frame(0xC1, hello) + client_frame(0x81, "plain"), got));
  REQUIRE(got.size() == 2);
  CHECK(got[0] == R"({"type":"ping","id":1})");
  CHECK(got[1] == "plain");
  // A bomb: 1009, and the message after it in the same read is not delivered.
  got.clear();
  const auto too_big = read_all(client_frame(0xC1, bomb) + client_frame(0x81, "after"), got);
  REQUIRE(too_big);
  CHECK(too_big->code == 1009);
  CHECK(got.empty());
  // Not a deflate stream: 1007. Over the limit uncompressed: 1009 from the parser itself.
  got.clear();
  const auto broken = read_all(client_frame(0xC1, "\xff\xff\xff garbage") + client_frame(0x81, "after"), got);
  REQUIRE(broken);
  CHECK(broken->code == 1007);
  CHECK(std::string(broken->what) == "invalid_deflate");
  CHECK(got.empty());
  const auto huge = read_all(client_frame(0x81, std::string(70 * 1024, 'x')), got);
  REQUIRE(huge);
  CHECK(huge->code == 1009);
}
