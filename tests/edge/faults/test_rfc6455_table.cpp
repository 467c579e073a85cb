// An Autobahn-style table of RFC 6455 violations against a real in-process edge: each case is
// sent on its own connection and must get the exact close code (or the documented reply), and a
// healthy client connected before the table keeps being served (its ping answered) after each.
// A case's writes are separate sends with TCP_NODELAY; whether the edge reads them apart is the
// kernel's choice, so every split at the read level is covered by the parser's own tests and by
// its fuzz target (tests/fuzz/fuzz_ws_frames.cpp).
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bench/ws_frame_reader.hpp"
#include "tests/edge/support/edge_fixture.hpp"

using namespace tickstream;
using namespace std::chrono_literals;

namespace {

using opcode = bench::ws_frame_reader::opcode;
using steady = std::chrono::steady_clock;

// A client frame with any first byte (FIN, RSV bits, opcode): masked unless told otherwise.
std::string frame(std::uint8_t b0, std::string_view payload, bool masked = true) {
  std::string out;
  out.push_back(static_cast<char>(b0));
  const auto m = static_cast<char>(masked ? 0x80 : 0);
  if (payload.size() < 126) {
    out.push_back(static_cast<char>(m | static_cast<char>(payload.size())));
  } else {
    out.push_back(static_cast<char>(m | 126));
    out.push_back(static_cast<char>(payload.size() >> 8));
    out.push_back(static_cast<char>(payload.size() & 0xff));
  }
  if (!masked) return out + std::string(payload);
  const char key[4] = {0x5a, static_cast<char>(0xc3), 0x11, static_cast<char>(0x9e)};
  out.append(key, 4);
  for (std::size_t i = 0; i < payload.size(); ++i) out.push_back(static_cast<char>(payload[i] ^ key[i % 4]));
  return out;
}

std::string code_bytes(std::uint16_t code) { return {static_cast<char>(code >> 8), static_cast<char>(code & 0xff)}; }

// A blocking TCP connection with deadlines on reads (POSIX, so a read can wait with a timeout).
class raw_client {
 public:
  explicit raw_client(unsigned short port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    REQUIRE(fd_ >= 0);
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // each write its own segment
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  ~raw_client() { ::close(fd_); }
  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;

  // Upgrades; bytes after the 101 stay for the frame reader.
  void upgrade() {
    write(
        "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    std::string got;
    const auto deadline = steady::now() + 5s;
    while (got.find("\r\n\r\n") == std::string::npos) {
      REQUIRE(read_some(got, deadline));
    }
    const auto end = got.find("\r\n\r\n") + 4;
    REQUIRE(got.starts_with("HTTP/1.1 101"));
    pending_ = got.substr(end);
  }

  // Sends bytes; false once the peer has gone (a refused connection may close before the rest).
  bool write(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Appends what one read brings; false at EOF, on an error or at the deadline.
  bool read_some(std::string& out, steady::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count();
    pollfd p{fd_, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) != 1) return false;
    char buf[4096];
    const auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    out.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  struct received {
    std::vector<std::pair<opcode, std::string>> frames;  // in order
    bool ended = false;                                  // the edge closed the TCP connection
  };

  // Frames until the edge closes the connection, or until stop(frames) holds, within timeout.
  template <class Stop>
  received read_frames(Stop&& stop, std::chrono::milliseconds timeout = 5s) {
    received r;
    const auto deadline = steady::now() + timeout;
    bench::ws_frame_reader reader;
    std::string chunk = std::exchange(pending_, {});
    for (;;) {
      REQUIRE(reader.feed(chunk, [&](opcode op, std::string_view p) { r.frames.emplace_back(op, std::string(p)); }));
      chunk.clear();
      if (stop(r.frames)) return r;
      if (!read_some(chunk, deadline)) {
        r.ended = steady::now() < deadline;  // EOF or reset, not the deadline
        return r;
      }
    }
  }

 private:
  int fd_;
  std::string pending_;
};

// What a case must end with: a close frame with this code and the TCP connection closed, or (no
// code) a text reply containing `reply` / a pong with that payload, with the connection open.
struct expect {
  std::optional<std::uint16_t> close;
  std::optional<std::string> reply;  // a text frame containing this (JSON)
  std::optional<std::string> pong;   // or a pong frame with this payload
};

struct rfc_case {
  std::string name;
  std::vector<std::string> writes;  // each a separate TCP write
  expect want;
};

expect closes(std::uint16_t code) { return {code, {}, {}}; }
expect replies(std::string text) { return {std::nullopt, std::move(text), {}}; }
expect pongs(std::string payload) { return {std::nullopt, {}, std::move(payload)}; }

std::optional<std::uint16_t> close_code_of(const raw_client::received& r) {
  for (const auto& [op, p] : r.frames) {
    if (op == opcode::close) {
      if (p.size() < 2) return 0;
      return static_cast<std::uint16_t>((static_cast<std::uint8_t>(p[0]) << 8) | static_cast<std::uint8_t>(p[1]));
    }
  }
  return std::nullopt;
}

// The healthy client pings (a WebSocket ping with its own payload) and gets the pong.
void check_healthy(raw_client& healthy, int round) {
  const auto payload = "healthy-" + std::to_string(round);
  REQUIRE(healthy.write(frame(0x89, payload)));
  const auto r = healthy.read_frames([&](const auto& frames) {
    return !frames.empty() && frames.back().first == opcode::pong && frames.back().second == payload;
  });
  INFO("the healthy client after case " << round);
  REQUIRE_FALSE(r.frames.empty());
  CHECK(r.frames.back().first == opcode::pong);
  CHECK(r.frames.back().second == payload);
  CHECK_FALSE(close_code_of(r).has_value());
}

void run_table(const std::vector<rfc_case>& table) {
  test::edge_fixture fx([](edge::app_config& c) { c.max_connects_per_ip = 0; });  // many connections a second
  const auto port = static_cast<unsigned short>(fx.edge->port());
  raw_client healthy(port);
  healthy.upgrade();
  check_healthy(healthy, -1);
  int round = 0;
  for (const auto& c : table) {
    INFO("case: " << c.name);
    raw_client client(port);
    client.upgrade();
    for (const auto& w : c.writes) {
      if (!client.write(w)) break;  // refused before the rest: what was sent is enough
    }
    if (c.want.close) {
      const auto r = client.read_frames([](const auto&) { return false; });
      CHECK(close_code_of(r) == c.want.close);
      CHECK(r.ended);  // and the edge closed the connection
    } else {
      const auto wanted = [&](const std::pair<opcode, std::string>& f) {
        return (c.want.reply && f.first == opcode::text && f.second.find(*c.want.reply) != std::string::npos) ||
               (c.want.pong && f.first == opcode::pong && f.second == *c.want.pong);
      };
      const auto r =
          client.read_frames([&](const auto& frames) { return std::any_of(frames.begin(), frames.end(), wanted); });
      CHECK_FALSE(close_code_of(r).has_value());
      CHECK(std::any_of(r.frames.begin(), r.frames.end(), wanted));
      // Still open and well: a normal close is echoed, then the edge closes the connection.
      REQUIRE(client.write(frame(0x88, code_bytes(1000))));
      const auto end = client.read_frames([](const auto&) { return false; });
      CHECK(close_code_of(end) == std::optional<std::uint16_t>(1000));
      CHECK(end.ended);
    }
    check_healthy(healthy, round++);
  }
}

// A JSON ping whose id is `id` (raw JSON text bytes, possibly split by the caller).
std::string json_ping(std::string_view id) { return R"({"type":"ping","id":")" + std::string(id) + R"("})"; }

}  // namespace

TEST_CASE("RFC 6455 table: framing errors close with 1002, others keep being served", "[faults][ws][rfc6455]") {
  std::vector<rfc_case> table = {
      {"unmasked text frame", {frame(0x81, R"({"type":"ping"})", false)}, closes(1002)},
      {"RSV1 set", {frame(0xc1, R"({"type":"ping"})")}, closes(1002)},
      {"RSV2 set", {frame(0xa1, R"({"type":"ping"})")}, closes(1002)},
      {"RSV3 set", {frame(0x91, R"({"type":"ping"})")}, closes(1002)},
      {"RSV1 on a ping", {frame(0xc9, "p")}, closes(1002)},
      {"fragmented ping", {frame(0x09, "half a ping")}, closes(1002)},
      {"ping over 125 bytes", {frame(0x89, std::string(126, 'p'))}, closes(1002)},
      {"pong over 125 bytes", {frame(0x8a, std::string(126, 'p'))}, closes(1002)},
      {"close over 125 bytes", {frame(0x88, code_bytes(1000) + std::string(124, 'r'))}, closes(1002)},
      {"continuation without a start", {frame(0x80, "orphan")}, closes(1002)},
      {"unfinished continuation without a start", {frame(0x00, "orphan")}, closes(1002)},
      {"new text frame inside a fragmented message",
       {frame(0x01, R"({"type":)"), frame(0x81, R"("ping"})")},
       closes(1002)},
      {"new binary frame inside a fragmented message", {frame(0x01, R"({"type":)"), frame(0x02, "x")}, closes(1002)},
  };
  for (const std::uint8_t op : {3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf}) {
    table.push_back(
        {"reserved opcode " + std::to_string(op), {frame(static_cast<std::uint8_t>(0x80 | op), "x")}, closes(1002)});
  }
  table.push_back(
      {"reserved opcode 3 inside a fragmented message", {frame(0x01, "{"), frame(0x83, "x")}, closes(1002)});
  run_table(table);
}

TEST_CASE("RFC 6455 table: close frames are echoed with their code or answered with 1002", "[faults][ws][rfc6455]") {
  std::vector<rfc_case> table = {
      {"close without a payload", {frame(0x88, "")}, closes(1000)},
      {"close with a 1-byte payload", {frame(0x88, "\x03")}, closes(1002)},
      {"close reason that is not UTF-8", {frame(0x88, code_bytes(1000) + "bye\xff")}, closes(1007)},
      {"close reason cut inside a character", {frame(0x88, code_bytes(1000) + "caf\xc3")}, closes(1007)},
      {"close with a UTF-8 reason", {frame(0x88, code_bytes(1000) + "caf\xc3\xa9")}, closes(1000)},
  };
  for (const std::uint16_t code :
       {0, 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
    table.push_back({"close code " + std::to_string(code), {frame(0x88, code_bytes(code))}, closes(1002)});
  }
  for (const std::uint16_t code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999}) {
    table.push_back({"close code " + std::to_string(code), {frame(0x88, code_bytes(code) + "reason")}, closes(code)});
  }
  run_table(table);
}

TEST_CASE("RFC 6455 table: text that is not UTF-8 closes with 1007, whole or split", "[faults][ws][rfc6455]") {
  std::vector<rfc_case> table;
  for (const auto& [name, bad] :
       std::vector<std::pair<std::string, std::string>>{{"truncated 2-byte character", "caf\xc3"},
                                                        {"overlong encoding", "\xc0\xaf"},
                                                        {"surrogate", "\xed\xa0\x80"},
                                                        {"above U+10FFFF", "\xf4\x90\x80\x80"},
                                                        {"0xff", "\xff"},
                                                        {"continuation byte first", "\x80"}}) {
    table.push_back({"text: " + name, {frame(0x81, json_ping(bad))}, closes(1007)});
  }
  // A 4-byte character (U+1F4C8) and a broken one (last byte not a continuation), split across
  // fragments and across TCP writes at every boundary inside it.
  const std::string good = json_ping("\xf0\x9f\x93\x88");
  const std::string broken = json_ping("\xf0\x9f\x93\x28");
  const auto at = good.find('\xf0');
  for (std::size_t cut = at; cut <= at + 4; ++cut) {
    const auto where = " cut at byte " + std::to_string(cut - at) + " of the character";
    table.push_back({"fragments, valid," + where,
                     {frame(0x01, good.substr(0, cut)) + frame(0x80, good.substr(cut))},
                     replies(R"("id":"📈")")});
    table.push_back({"fragments, broken," + where,
                     {frame(0x01, broken.substr(0, cut)) + frame(0x80, broken.substr(cut))},
                     closes(1007)});
    const auto whole_good = frame(0x81, good);
    const auto whole_broken = frame(0x81, broken);
    const auto header = whole_good.size() - good.size();
    table.push_back({"TCP writes, valid," + where,
                     {whole_good.substr(0, header + cut), whole_good.substr(header + cut)},
                     replies(R"("id":"📈")")});
    table.push_back({"TCP writes, broken," + where,
                     {whole_broken.substr(0, header + cut), whole_broken.substr(header + cut)},
                     closes(1007)});
  }
  // Fragments each valid on their own, broken together, and the other way round.
  table.push_back({"fragments valid alone, broken together",
                   {frame(0x01, json_ping("a").substr(0, 21) + "\xc3"), frame(0x80, "\x28\"}")},
                   closes(1007)});
  table.push_back({"a character split across three fragments",
                   {frame(0x01, R"({"type":"ping","id":"caf)"
                                "\xe2"),
                    frame(0x00, "\x82"), frame(0x80, "\xac\"}")},
                   replies(R"("id":"caf€")")});
  run_table(table);
}

TEST_CASE("RFC 6455 table: size limit, interleaved pings and binary messages", "[faults][ws][rfc6455]") {
  // The fixture's limit is 4096 bytes per message (edge_fixture).
  const std::string over = frame(0x81, std::string(5000, 'x'));
  std::string exactly_the_limit = R"({"type":"ping","id":"big"})";
  exactly_the_limit.resize(4096, ' ');  // JSON may end in white space
  const std::vector<rfc_case> table = {
      {"a message over the limit (its header alone)", {over.substr(0, 8)}, closes(1009)},
      {"a 64-bit length over the limit",
       {std::string("\x82\xff\x00\x00\x00\x00\x00\x01\x00\x00", 10) + "mask"},
       closes(1009)},
      {"a 64-bit length with its top bit set",
       {std::string("\x82\xff\x80\x00\x00\x00\x00\x00\x00\x10", 10) + "mask"},
       closes(1002)},
      {"fragments over the limit together",
       {frame(0x01, std::string(3000, 'x')), frame(0x80, std::string(3000, 'y')).substr(0, 8)},
       closes(1009)},
      {"a message of exactly the limit", {frame(0x81, exactly_the_limit)}, replies(R"("id":"big")")},
      {"ping inside a fragmented message: answered",
       {frame(0x01, R"({"type":"ping",)"), frame(0x89, "mid-message")},
       pongs("mid-message")},
      {"ping inside a fragmented message: the message completes",
       {frame(0x01, R"({"type":"ping",)"), frame(0x89, "mid"), frame(0x80, R"("id":"after-ping"})")},
       replies(R"("id":"after-ping")")},
      {"pong inside a fragmented message",
       {frame(0x01, R"({"type":"ping",)"), frame(0x8a, "unsolicited"), frame(0x80, R"("id":"after-pong"})")},
       replies(R"("id":"after-pong")")},
      {"a ping with an empty payload", {frame(0x89, "")}, pongs("")},
      {"binary message", {frame(0x82, R"({"type":"ping"})")}, replies(R"("code":"binary_not_supported")")},
      {"fragmented binary message",
       {frame(0x02, "ab"), frame(0x80, "cd")},
       replies(R"("code":"binary_not_supported")")},
  };
  run_table(table);
}
