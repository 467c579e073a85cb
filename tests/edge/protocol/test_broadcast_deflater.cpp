#include <catch2/catch.hpp>

#include <zlib.h>

#include <algorithm>
#include <array>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "edge/protocol/broadcast_deflater.hpp"
#include "edge/protocol/frame.hpp"

using namespace tickstream::edge;

namespace {

// What a client with context takeover does with each message (RFC 7692 §7.2.2): one inflate
// stream for the whole connection, 00 00 ff ff added back after each compressed message. Written
// here from the RFC, not shared with the edge's code.
class client_inflater {
 public:
  client_inflater() { REQUIRE(inflateInit2(&z_, -15) == Z_OK); }
  ~client_inflater() { inflateEnd(&z_); }
  client_inflater(const client_inflater&) = delete;
  client_inflater& operator=(const client_inflater&) = delete;

  // The message a frame carries: its payload, inflated when RSV1 is set. Fails the test on a bad
  // stream.
  std::string read(const std::string& wire) {
    const auto b0 = static_cast<std::uint8_t>(wire[0]);
    const auto len7 = static_cast<std::uint8_t>(wire[1]) & 0x7f;
    const std::size_t header = len7 < 126 ? 2 : len7 == 126 ? 4 : 10;
    const std::string payload = wire.substr(header);
    if ((b0 & 0x40) == 0) return payload;
    ++compressed;
    const std::string in = payload + std::string("\x00\x00\xff\xff", 4);
    std::string out;
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = static_cast<uInt>(in.size());
    std::array<char, 4096> chunk{};
    do {
      z_.next_out = reinterpret_cast<Bytef*>(chunk.data());
      z_.avail_out = static_cast<uInt>(chunk.size());
      const int rc = inflate(&z_, Z_SYNC_FLUSH);
      REQUIRE((rc == Z_OK || rc == Z_BUF_ERROR));
      out.append(chunk.data(), chunk.size() - z_.avail_out);
    } while (z_.avail_in > 0 || z_.avail_out == 0);
    return out;
  }

  int compressed = 0;

 private:
  z_stream z_{};
};

// A tick as ingest encodes one, its figures varying like a live feed's.
std::string tick(const std::string& symbol, std::mt19937& rng) {
  std::uniform_int_distribution<int> cents(10000, 99999);
  std::uniform_int_distribution<int> size(1, 2000);
  const auto price = std::to_string(cents(rng));
  const auto dollars = price.substr(0, 3) + "." + price.substr(3);
  return R"({"type":"price_update","symbol":")" + symbol + R"(","price":)" + dollars + R"(,"bid":)" + dollars +
         R"(,"ask":)" + dollars + R"(,"bid_size":)" + std::to_string(size(rng)) + R"(,"ask_size":)" +
         std::to_string(size(rng)) + R"(,"size":)" + std::to_string(size(rng)) +
         R"(,"volume":315846,"change":1.79,"change_percent":0.67,"timestamp":"2026-11-20T14:30:00.)" +
         std::to_string(size(rng)) + R"(Z","recv_us":17951850000)" + std::to_string(cents(rng)) +
         R"(,"source":"sample"})";
}

struct simulated_client {
  deflate_mode mode;
  std::vector<std::string> symbols;  // its subscriptions
  int joins_at;                      // the message it starts receiving at
  int drop_one_in;                   // its queue drops one message in this many (0: none)
  deflate_cursor cursor{};
  std::unique_ptr<client_inflater> inflater = std::make_unique<client_inflater>();
  std::size_t wire_bytes = 0;
  std::size_t text_bytes = 0;
  int received = 0;
};

}  // namespace

TEST_CASE("broadcast streams: every client reads every message right, whatever it joins, skips or mixes", "[deflate]") {
  // Two contexts for three channels: MSFT finds the cap reached and goes compressed alone.
  broadcast_deflater d({.max_contexts = 2, .restart_every = 8, .sweep_every = 100'000});
  d.add_taker();
  std::mt19937 rng(7);
  std::vector<simulated_client> clients;
  const auto add = [&](deflate_mode m, std::vector<std::string> s, int joins, int drops) {
    clients.push_back({m, std::move(s), joins, drops});
  };
  clients.reserve(8);
  add(deflate_mode::shared, {"AAPL"}, 0, 0);                   // in step from the first message
  add(deflate_mode::shared, {"AAPL"}, 37, 0);                  // joins mid-stream
  add(deflate_mode::shared, {"AAPL", "TSLA"}, 0, 0);           // two channels interleaved
  add(deflate_mode::shared, {"AAPL"}, 5, 3);                   // its queue drops messages
  add(deflate_mode::shared, {"AAPL", "TSLA", "MSFT"}, 11, 0);  // a channel without a context too
  add(deflate_mode::alone, {"AAPL", "TSLA"}, 0, 0);            // declined context takeover
  add(deflate_mode::off, {"AAPL"}, 0, 0);                      // no compression at all

  const std::vector<std::string> symbols{"AAPL", "TSLA", "MSFT"};
  std::uniform_int_distribution<int> pick(0, 9);
  int private_every = 0;
  for (int i = 0; i < 600; ++i) {
    const auto r = pick(rng);
    const auto& symbol = symbols[r < 6 ? 0 : r < 8 ? 1 : 2];
    auto f = make_text_frame_mutable(frame_kind::tick, symbol, tick(symbol, rng));
    d.compress("md:" + symbol, *f, 64);
    // Now and then a private message compressed alone, and a reply too small to compress, to every
    // client: both fall between the stream's messages.
    std::vector<frame_ptr> deliveries{f};
    if (++private_every % 13 == 0) deliveries.push_back(make_text_frame(frame_kind::order, "o", tick("PRIV", rng)));
    if (private_every % 7 == 0) deliveries.push_back(make_text_frame(frame_kind::control, {}, R"({"type":"pong"})"));
    for (auto& c : clients) {
      if (i < c.joins_at) continue;
      for (const auto& g : deliveries) {
        if (g->kind == frame_kind::tick && std::find(c.symbols.begin(), c.symbols.end(), g->key) == c.symbols.end()) {
          continue;
        }
        if (g->kind == frame_kind::tick && c.drop_one_in != 0 && i % c.drop_one_in == 0) continue;
        const auto& wire = g->wire_for(c.mode, 64, c.cursor);
        REQUIRE(c.inflater->read(wire) == g->payload());
        c.wire_bytes += wire.size();
        c.text_bytes += g->wire.size();
        ++c.received;
      }
    }
  }
  CHECK(d.contexts() == 2);
  for (const auto& c : clients) CHECK(c.received > 100);
  // Compression pays most for the client in step with one channel (about 0.3 here: these
  // figures are random, a live feed's repeat more); alone, about 0.75.
  const auto ratio = [](const simulated_client& c) {
    return static_cast<double>(c.wire_bytes) / static_cast<double>(c.text_bytes);
  };
  INFO("in step " << ratio(clients[0]) << ", alone " << ratio(clients[5]));
  CHECK(ratio(clients[0]) < 0.85 * ratio(clients[5]));
  CHECK(ratio(clients[6]) == 1.0);
  CHECK(clients[6].inflater->compressed == 0);
}

TEST_CASE("broadcast streams: nothing is compressed with no taker, below the threshold, or for control frames",
          "[deflate]") {
  broadcast_deflater d;
  std::mt19937 rng(1);
  auto f = make_text_frame_mutable(frame_kind::tick, "AAPL", tick("AAPL", rng));
  d.compress("md:AAPL", *f, 0);
  CHECK_FALSE(f->in_stream());  // no connection can take a stream
  d.add_taker();
  d.compress("md:AAPL", *f, 4096);
  CHECK_FALSE(f->in_stream());  // under the threshold
  auto ping = std::const_pointer_cast<frame>(make_control_frame(ws_opcode::ping, std::string(300, 'p')));
  d.compress("md:AAPL", *ping, 0);
  CHECK_FALSE(ping->in_stream());
  d.compress("md:AAPL", *f, 0);
  CHECK(f->in_stream());
  CHECK(d.contexts() == 1);
  d.remove_taker();
  auto g = make_text_frame_mutable(frame_kind::tick, "AAPL", tick("AAPL", rng));
  d.compress("md:AAPL", *g, 0);
  CHECK_FALSE(g->in_stream());
}

TEST_CASE("broadcast streams: an empty message in the middle of a stream inflates, and so does the next", "[deflate]") {
  broadcast_deflater d;
  d.add_taker();
  std::mt19937 rng(3);
  client_inflater c;
  deflate_cursor cursor{};
  for (const std::string& payload : {tick("AAPL", rng), std::string(), tick("AAPL", rng)}) {
    auto f = make_text_frame_mutable(frame_kind::tick, "AAPL", payload);
    d.compress("md:AAPL", *f, 0);
    REQUIRE(f->in_stream());
    CHECK(c.read(f->wire_for(deflate_mode::shared, 0, cursor)) == payload);
  }
  CHECK(c.compressed == 3);
}

TEST_CASE("broadcast streams: a context unused through a sweep is freed, and its channel starts a new stream",
          "[deflate]") {
  broadcast_deflater d({.max_contexts = 1, .restart_every = 1000, .sweep_every = 4});
  d.add_taker();
  std::mt19937 rng(3);
  client_inflater reader;
  deflate_cursor cursor;
  const auto send = [&](const std::string& symbol) {
    auto f = make_text_frame_mutable(frame_kind::tick, symbol, tick(symbol, rng));
    d.compress("md:" + symbol, *f, 0);
    REQUIRE(reader.read(f->wire_for(deflate_mode::shared, 0, cursor)) == f->payload());
    return f->in_stream();
  };
  CHECK(send("AAPL"));
  CHECK_FALSE(send("TSLA"));  // the cap: one context, AAPL's
  for (int i = 0; i < 3; ++i) CHECK(send("AAPL"));
  // AAPL falls silent through a sweep: its context goes, and TSLA gets one at the next sweep.
  for (int i = 0; i < 8; ++i) send("TSLA");
  CHECK(send("TSLA"));
  CHECK(d.contexts() == 1);
  CHECK_FALSE(send("AAPL"));
}
