#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "bench/ws_frame_reader.hpp"
#include "edge/protocol/ws_codec.hpp"

using namespace tickstream::edge;

namespace {

// A masked client frame, as a browser would send it (first_byte: FIN, RSV bits and opcode).
std::string client_frame(std::uint8_t first_byte, std::string_view payload, std::uint32_t key = 0x37fa213d) {
  auto frame = tickstream::bench::make_client_frame(tickstream::bench::ws_frame_reader::opcode::text, payload, key);
  frame[0] = static_cast<char>(first_byte);
  return frame;
}

using messages = std::vector<std::pair<ws_opcode, std::string>>;

// Feeds input to a parser in pieces cut at the given points, as reads would deliver it.
messages parse_in_pieces(const std::string& input, const std::vector<std::size_t>& cuts,
                         client_frame_parser::status& err, std::size_t max = 1 << 20) {
  client_frame_parser parser(max);
  messages out;
  std::string buffer;
  std::size_t from = 0;
  auto cut_points = cuts;
  cut_points.push_back(input.size());
  for (const auto cut : cut_points) {
    buffer.append(input, from, cut - from);
    from = cut;
    const auto used = parser.parse(buffer.data(), buffer.size(), err,
                                   [&](ws_opcode op, std::string_view p) { out.emplace_back(op, std::string(p)); });
    if (err != client_frame_parser::status::ok) return out;
    buffer.erase(0, used);
  }
  return out;
}

}  // namespace

TEST_CASE("the accept key matches RFC 6455's example", "[ws]") {
  CHECK(websocket_accept_key("dGhlIHNhbXBsZSBub25jZQ==").value() == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  CHECK_FALSE(websocket_accept_key("short").ok());
  CHECK_FALSE(websocket_accept_key("!!!!!!!!!!!!!!!!!!!!!!==").ok());
}

TEST_CASE("server frame headers use the shortest length encoding", "[ws]") {
  CHECK(server_frame(ws_opcode::text, "hi") == std::string("\x81\x02hi", 4));
  CHECK(server_frame(ws_opcode::text, std::string(125, 'x')).substr(0, 2) == std::string("\x81\x7d", 2));
  CHECK(server_frame(ws_opcode::text, std::string(126, 'x')).substr(0, 4) == std::string("\x81\x7e\x00\x7e", 4));
  CHECK(server_frame(ws_opcode::text, std::string(65535, 'x')).substr(0, 4) == std::string("\x81\x7e\xff\xff", 4));
  CHECK(server_frame(ws_opcode::binary, std::string(65536, 'x')).substr(0, 10) ==
        std::string("\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10));
  CHECK(close_payload(1001, "bye") == std::string("\x03\xe9"
                                                  "bye",
                                                  5));
}

TEST_CASE("client frames parse the same however the reads split them", "[ws]") {
  // A text message, a ping in the middle of a fragmented message, a 126-byte and a 70,000-byte
  // message, and a close: cut at every possible single boundary, then at pairs of boundaries.
  const std::string big(70'000, 'b');
  const std::string medium(126, 'm');
  const std::string input = client_frame(0x81, R"({"type":"ping"})") + client_frame(0x01, "frag-") +
                            client_frame(0x89, "are you there") + client_frame(0x80, "mented") +
                            client_frame(0x81, medium) + client_frame(0x82, big) +
                            client_frame(0x88, std::string("\x03\xe8", 2));
  const messages expected = {{ws_opcode::text, R"({"type":"ping"})"},
                             {ws_opcode::ping, "are you there"},
                             {ws_opcode::text, "frag-mented"},
                             {ws_opcode::text, medium},
                             {ws_opcode::binary, big},
                             {ws_opcode::close, std::string("\x03\xe8", 2)}};
  client_frame_parser::status err{};
  CHECK(parse_in_pieces(input, {}, err) == expected);
  // Single cuts everywhere in the small frames, and every 997th byte in the big one.
  for (std::size_t cut = 1; cut < input.size(); cut += cut < 400 || cut > input.size() - 400 ? 1 : 997) {
    const auto got = parse_in_pieces(input, {cut}, err);
    REQUIRE(err == client_frame_parser::status::ok);
    REQUIRE(got == expected);
  }
  for (std::size_t a = 1; a < 60; ++a) {
    for (std::size_t b = a + 1; b < 80; ++b) {
      REQUIRE(parse_in_pieces(input, {a, b}, err) == expected);
    }
  }
}

TEST_CASE("client frame protocol errors are reported, not parsed", "[ws]") {
  client_frame_parser::status err{};
  std::string unmasked = "\x81\x02hi";
  parse_in_pieces(unmasked, {}, err);
  CHECK(err == client_frame_parser::status::protocol_error);

  parse_in_pieces(client_frame(0xC1, "rsv"), {}, err);  // RSV1 without an extension
  CHECK(err == client_frame_parser::status::protocol_error);
  parse_in_pieces(client_frame(0x83, "op3"), {}, err);  // reserved opcode
  CHECK(err == client_frame_parser::status::protocol_error);
  parse_in_pieces(client_frame(0x09, "ping"), {}, err);  // fragmented control frame
  CHECK(err == client_frame_parser::status::protocol_error);
  parse_in_pieces(client_frame(0x89, std::string(126, 'p')), {}, err);  // control frame over 125
  CHECK(err == client_frame_parser::status::protocol_error);
  parse_in_pieces(client_frame(0x80, "orphan"), {}, err);  // continuation with nothing to continue
  CHECK(err == client_frame_parser::status::protocol_error);
  parse_in_pieces(client_frame(0x01, "a") + client_frame(0x81, "b"), {}, err);  // new message mid-fragment
  CHECK(err == client_frame_parser::status::protocol_error);
}

TEST_CASE("a 64-bit length with its top bit set is a protocol error, not a size", "[ws]") {
  // RFC 6455 §5.2: the most significant bit of a 64-bit length must be 0 (it was refused as 1009).
  client_frame_parser::status err{};
  std::string header = client_frame(0x82, std::string(70'000, 'x')).substr(0, 14);
  header[2] = static_cast<char>(0x80);
  parse_in_pieces(header, {}, err);
  CHECK(err == client_frame_parser::status::protocol_error);
  for (std::size_t cut = 1; cut < header.size(); ++cut) {
    parse_in_pieces(header, {cut}, err);
    CHECK(err == client_frame_parser::status::protocol_error);
  }
}

TEST_CASE("a message over the limit is refused before it is buffered", "[ws]") {
  client_frame_parser::status err{};
  // Only the header has arrived: the declared length alone is enough to refuse.
  const std::string header = client_frame(0x81, std::string(5000, 'x')).substr(0, 8);
  parse_in_pieces(header, {}, err, 4096);
  CHECK(err == client_frame_parser::status::too_big);
  // Fragments count together.
  parse_in_pieces(client_frame(0x01, std::string(3000, 'x')) + client_frame(0x80, std::string(3000, 'y')), {}, err,
                  4096);
  CHECK(err == client_frame_parser::status::too_big);
  messages ok = parse_in_pieces(client_frame(0x81, std::string(4096, 'x')), {}, err, 4096);
  CHECK(err == client_frame_parser::status::ok);
  CHECK(ok.size() == 1);
}

TEST_CASE("only close codes allowed on the wire are echoed", "[ws]") {
  for (std::uint16_t ok : {1000, 1001, 1003, 1007, 1011, 3000, 4008, 4999}) CHECK(valid_close_code(ok));
  for (std::uint16_t bad : {0, 999, 1004, 1005, 1006, 1012, 1015, 2999, 5000}) CHECK_FALSE(valid_close_code(bad));
}

TEST_CASE("UTF-8 validation follows RFC 3629", "[ws][utf8]") {
  for (const std::string ok :
       {"", "plain ascii", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x93\x88", "\xed\x9f\xbf", "\xf4\x8f\xbf\xbf"}) {
    CHECK(valid_utf8(ok));
  }
  for (const std::string bad : {"\x80", "\xc3", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                                "\xf8\x88\x80\x80\x80", "caf\xc3", "\xe2\x82", "\xff"}) {
    CHECK_FALSE(valid_utf8(bad));
  }
}

TEST_CASE("text that is not UTF-8, whole or split across fragments or reads, is refused", "[ws][utf8]") {
  client_frame_parser::status err{};
  parse_in_pieces(client_frame(0x81, "caf\xc3"), {}, err);
  CHECK(err == client_frame_parser::status::invalid_utf8);
  // A code point split across two fragments is fine; a broken one is not, wherever the cut falls.
  const auto good = client_frame(0x01, "caf\xc3") + client_frame(0x80, "\xa9!");
  const auto broken = client_frame(0x01, "caf\xc3") + client_frame(0x80, "\x28!");
  for (std::size_t cut = 1; cut < good.size(); ++cut) {
    auto out = parse_in_pieces(good, {cut}, err);
    CHECK(err == client_frame_parser::status::ok);
    REQUIRE(out.size() == 1);
    CHECK(out[0].second == "caf\xc3\xa9!");
    parse_in_pieces(broken, {cut}, err);
    CHECK(err == client_frame_parser::status::invalid_utf8);
  }
  // Binary messages carry any bytes; a close reason must be UTF-8 too.
  parse_in_pieces(client_frame(0x82, "\xff\xfe"), {}, err);
  CHECK(err == client_frame_parser::status::ok);
  parse_in_pieces(client_frame(0x88, std::string("\x03\xe8", 2) + "bye\xff"), {}, err);
  CHECK(err == client_frame_parser::status::invalid_utf8);
  parse_in_pieces(client_frame(0x88, std::string("\x03\xe8", 2) + "bye"), {}, err);
  CHECK(err == client_frame_parser::status::ok);
}

TEST_CASE("refused client input closes with the code RFC 6455 gives its reason", "[ws_codec]") {
  using status = client_frame_parser::status;
  CHECK(refusal_for(status::too_big).code == 1009);
  CHECK(std::string(refusal_for(status::too_big).what) == "message_too_big");
  CHECK(refusal_for(status::invalid_utf8).code == 1007);
  CHECK(std::string(refusal_for(status::invalid_utf8).what) == "invalid_utf8");
  CHECK(refusal_for(status::protocol_error).code == 1002);
  CHECK(std::string(refusal_for(status::protocol_error).what) == "protocol_error");
  // A compressed message: past the limit once inflated, not UTF-8, or not a deflate stream at all.
  CHECK(refusal_for_inflate("too_big").code == 1009);
  CHECK(refusal_for_inflate("invalid_utf8").code == 1007);
  CHECK(std::string(refusal_for_inflate("invalid_utf8").what) == "invalid_utf8");
  CHECK(refusal_for_inflate("invalid_deflate").code == 1007);
  CHECK(std::string(refusal_for_inflate("invalid_deflate").what) == "invalid_deflate");
}
