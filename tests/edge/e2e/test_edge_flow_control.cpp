// Batching, slow consumers and heartbeats, against a real redis-server and real WebSocket
// clients over loopback.
#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/buffers_iterator.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include "bench/ws_frame_reader.hpp"
#include "common/clock.hpp"
#include "common/event_codec.hpp"
#include "common/redis/redis_client.hpp"
#include "common/symbol.hpp"
#include "tests/edge/support/edge_fixture.hpp"
#include "tests/edge/support/publisher.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;
using namespace std::chrono_literals;
using test::edge_fixture;
using test::parse;
using test::publisher;
using test::subscribe;
using test::type_of;
using test::wait_until;

namespace {

// A raw TCP connection that has sent a WebSocket upgrade request and nothing else, for clients
// that misbehave in ways the WebSocket client library will not. receive_buffer: the socket's
// SO_RCVBUF, set before connecting (0: the system's).
boost::asio::ip::tcp::socket raw_upgrade(boost::asio::io_context& ioc, unsigned short port, int receive_buffer = 0) {
  boost::asio::ip::tcp::socket s(ioc);
  s.open(boost::asio::ip::tcp::v4());
  if (receive_buffer > 0) s.set_option(boost::asio::socket_base::receive_buffer_size(receive_buffer));
  s.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  const std::string upgrade =
      "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  boost::asio::write(s, boost::asio::buffer(upgrade));
  return s;
}

struct received {
  std::chrono::steady_clock::time_point at;
  std::int64_t at_us;  // wall clock, comparable with recv_us
  std::string text;
};

// Reads frames until `until` holds for the list so far or timeout passes.
template <class Pred>
std::vector<received> read_frames(client::ws_client& c, std::chrono::milliseconds timeout, Pred until) {
  std::vector<received> out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!until(out) && std::chrono::steady_clock::now() < deadline) {
    if (auto f = c.next(20ms)) out.push_back({std::chrono::steady_clock::now(), common::now_us(), std::move(*f)});
  }
  return out;
}

// The events of a frame: itself, or the members of a batch.
std::vector<rapidjson::Document> events_of(const std::string& frame) {
  std::vector<rapidjson::Document> out;
  auto d = parse(frame);
  if (std::string(d["type"].GetString()) != "batch") {
    out.push_back(std::move(d));
    return out;
  }
  for (const auto& e : d["events"].GetArray()) {
    rapidjson::Document one;
    one.CopyFrom(e, one.GetAllocator());
    out.push_back(std::move(one));
  }
  return out;
}

}  // namespace

// The batching rules themselves (first event at once, one frame per window, no event waits longer
// than a window, conflation) are the outbound queue's, unit-tested with a made-up clock in
// tests/edge/fanout/test_outbound_queue.cpp. This checks the wiring: a real edge batches a burst.
TEST_CASE("batching: a burst leaves as the first tick alone, then batches, latest per symbol", "[batching]") {
  edge_fixture fx([&](edge::app_config& c) { c.limits.batch_window = std::chrono::milliseconds(200); });
  auto c = fx.connect();
  CHECK(parse(subscribe(*c, R"(["AAPL","MSFT"])"))["batch_ms"].GetInt() == 200);
  publisher pub(fx.redis.port());
  for (int i = 0; i < 150; ++i) pub.tick(i % 2 ? "MSFT" : "AAPL", i);  // one pipeline: a burst
  pub.flush();
  const auto frames = read_frames(*c, 10s, [](const std::vector<received>& got) {
    for (const auto& f : got) {
      for (const auto& e : events_of(f.text)) {
        if (e["size"].GetInt() == 149) return true;
      }
    }
    return false;
  });
  REQUIRE(frames.size() >= 2);
  // The first tick found an idle connection: sent alone, not as a batch.
  CHECK(parse(frames.front().text)["type"].GetString() == std::string("price_update"));
  bool batched = false;
  int last_aapl = -1, last_msft = -1, events = 0;
  for (const auto& f : frames) {
    batched = batched || parse(f.text)["type"].GetString() == std::string("batch");
    for (const auto& e : events_of(f.text)) {
      ++events;
      const int n = e["size"].GetInt();
      auto& last = std::string(e["symbol"].GetString()) == "AAPL" ? last_aapl : last_msft;
      CHECK(n > last);  // per symbol, in order
      last = n;
    }
  }
  CHECK(batched);
  CHECK(events < 150);  // conflated within the window: latest per symbol
  CHECK(last_aapl == 148);
  CHECK(last_msft == 149);
}

TEST_CASE("a client may widen its batching window but not narrow it", "[batching]") {
  edge_fixture fx([](edge::app_config& c) { c.limits.batch_window = std::chrono::milliseconds(100); });
  auto c = fx.connect();
  REQUIRE(c->send(R"({"type":"subscribe","snapshot":false,"symbols":["AAPL"],"batch_ms":20})"));
  auto narrow = c->next(5s);
  REQUIRE(narrow);
  CHECK(parse(*narrow)["batch_ms"].GetInt() == 100);
  REQUIRE(c->send(R"({"type":"subscribe","snapshot":false,"symbols":["AAPL"],"batch_ms":1000})"));
  auto wide = c->next(5s);
  REQUIRE(wide);
  CHECK(parse(*wide)["batch_ms"].GetInt() == 1000);
}

TEST_CASE("a never-reading client is conflated, then closed, and a healthy one beside it is not slowed",
          "[slow][timing]") {
  edge_fixture fx([](edge::app_config& c) {
    c.threads = 1;  // both clients on one worker: the slow one must not hold up the other
    c.limits.idle_timeout = std::chrono::milliseconds(3000);
  });
  auto healthy = fx.connect();
  auto slow = fx.connect();
  subscribe(*healthy, R"(["AAPL"])");
  subscribe(*slow, R"(["AAPL"])");  // ...and never reads again
  publisher pub(fx.redis.port());

  // Far more than the socket buffers hold, so the slow client's queue passes its soft bound. They
  // go out in rounds, each once the healthy client has seen the last: a tick's age then measures
  // the edge's delay (at most one round's worth of work) rather than the test's own publish
  // backlog, and an edge held up by the slow client shows as one round taking seconds.
  constexpr int n = 40'000;
  constexpr int round = 1'000;
  std::atomic<bool> done{false};
  std::atomic<std::int64_t> worst_age_us{0};
  std::atomic<int> last_seen{-1};
  std::jthread reader([&] {
    while (!done.load()) {
      auto f = healthy->next(50ms);
      if (!f) continue;
      for (const auto& e : events_of(*f)) {
        last_seen = e["size"].GetInt();
        worst_age_us = std::max(worst_age_us.load(), common::now_us() - e["recv_us"].GetInt64());
      }
    }
  });
  for (int i = 0; i < n; ++i) {
    pub.tick("AAPL", i, 32);
    if ((i + 1) % round != 0) continue;
    pub.flush();
    INFO("round ending at tick " << i);
    REQUIRE(wait_until([&] { return last_seen >= i; }, 20s));
  }
  // The slow client was conflated rather than queued without bound...
  const auto conflated = test::metric_value(fx.get("/metrics").body, "tickstream_edge_conflated_total");
  INFO("conflated: " << conflated);
  CHECK(conflated > 1000);
  // ...and, as it takes nothing it is sent, closed as a slow consumer (4008, not a silent idle
  // close): the stall timeout (the idle timeout, 3 s here) after its writes stopped progressing,
  // counted once its close handshake has timed out too. (The wait is generous for loaded
  // machines; tests/edge/faults measures the time to 4008.) The healthy one stays.
  REQUIRE(wait_until(
      [&] {
        return fx.get("/metrics").body.find(R"(tickstream_edge_disconnects_total{reason="slow_consumer"} 1)") !=
               std::string::npos;
      },
      30s));
  // The healthy client kept reading (and so answering pings) all along: still open.
  done = true;
  reader.join();
  CHECK_FALSE(healthy->closed());
  REQUIRE(healthy->send(R"({"type":"ping"})"));
  std::optional<std::string> pong;
  while ((pong = healthy->next(2s)) && parse(*pong)["type"].GetString() != std::string("pong")) {
  }
  CHECK(pong);
  INFO("worst tick age seen by the healthy client: " << worst_age_us.load() << " us");
  CHECK(worst_age_us.load() < 2'000'000);
}

// Most writes complete at once; a client that reads slowly makes the kernel take part of a write
// and the edge send the rest when the socket drains. Every frame must still arrive whole, once,
// in order.
TEST_CASE("a client that reads slowly gets every frame whole and in order", "[slow]") {
  edge_fixture fx([](edge::app_config& c) {
    c.threads = 1;
    c.limits.queue.soft_frames = 100'000;  // nothing conflated: every tick must arrive
    c.limits.queue.soft_bytes = 64 << 20;
    c.limits.queue.max_frames = 100'000;
    c.limits.queue.max_bytes = 64 << 20;
  });
  boost::asio::io_context ioc;
  auto s = raw_upgrade(ioc, fx.edge->port(), 4096);  // a small receive buffer: the edge's sends fill it
  boost::asio::streambuf head;
  boost::asio::read_until(s, head, "\r\n\r\n");
  const std::string response(boost::asio::buffers_begin(head.data()), boost::asio::buffers_end(head.data()));
  REQUIRE(response.starts_with("HTTP/1.1 101"));
  const auto after_head = response.substr(response.find("\r\n\r\n") + 4);
  boost::asio::write(s, boost::asio::buffer(bench::make_client_frame(
                            bench::ws_frame_reader::opcode::text,
                            R"({"type":"subscribe","snapshot":false,"symbols":["AAPL"]})", 0x0badf00d)));

  // Frames in arrival order; the subscription's confirmation first.
  bench::ws_frame_reader reader;
  std::vector<std::string> texts;
  bool broken = false;
  const auto take = [&](std::string_view bytes) {
    broken = broken || !reader.feed(bytes, [&](bench::ws_frame_reader::opcode op, std::string_view payload) {
      if (op == bench::ws_frame_reader::opcode::text) texts.emplace_back(payload);
    });
  };
  take(after_head);
  std::array<char, 65536> buf{};
  while (texts.empty() && !broken) take({buf.data(), s.read_some(boost::asio::buffer(buf))});
  REQUIRE(type_of(texts.front()) == "subscribed");

  // About 6 MB of ticks (more than the largest kernel send buffer) while the client does not
  // read, then everything it is owed.
  constexpr int n = 30'000;
  publisher pub(fx.redis.port());
  for (int i = 0; i < n; ++i) pub.tick("AAPL", i, 32);
  pub.flush();
  std::this_thread::sleep_for(300ms);
  std::vector<int> seqs;
  s.non_blocking(true);
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  std::size_t parsed = 1;  // texts.front() was the confirmation
  while (!broken && static_cast<int>(seqs.size()) < n && std::chrono::steady_clock::now() < deadline) {
    boost::system::error_code ec;
    const auto got = s.read_some(boost::asio::buffer(buf), ec);
    if (ec == boost::asio::error::would_block) {
      std::this_thread::sleep_for(1ms);
      continue;
    }
    REQUIRE_FALSE(ec);
    take({buf.data(), got});
    for (; parsed < texts.size(); ++parsed) {
      for (const auto& e : events_of(texts[parsed])) seqs.push_back(e["size"].GetInt());
    }
  }
  REQUIRE_FALSE(broken);
  REQUIRE(seqs.size() == static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    INFO("tick " << i);
    REQUIRE(seqs[static_cast<std::size_t>(i)] == i);
  }
}

// When to ping and when to give up is session_timers' (unit-tested in
// tests/edge/net/test_session_timers.cpp); this checks the wiring with a real client.
TEST_CASE("heartbeats keep a responsive client open and close a silent one", "[heartbeat]") {
  edge_fixture fx([](edge::app_config& c) { c.limits.idle_timeout = std::chrono::milliseconds(3000); });
  auto responsive = fx.connect();
  auto silent = fx.connect();
  // The responsive client sends nothing, but its WebSocket layer answers the edge's pings while
  // we read; the silent one never reads, so it never answers. (The idle timeout is long enough
  // that a busy test machine still reads within half of it.)
  REQUIRE(wait_until(
      [&] {
        responsive->next(50ms);
        return fx.get("/metrics").body.find(R"(tickstream_edge_disconnects_total{reason="timeout"} 1)") !=
               std::string::npos;
      },
      15s));
  CHECK_FALSE(responsive->closed());
  REQUIRE(wait_until(
      [&] {
        silent->next(10ms);
        return silent->closed();
      },
      2s));  // it was the silent one
  REQUIRE(responsive->send(R"({"type":"ping"})"));
  auto pong = responsive->next(2s);
  REQUIRE(pong);
  CHECK(parse(*pong)["type"].GetString() == std::string("pong"));
}

TEST_CASE("a client that sends but never reads is closed at the hard bound, not buffered", "[slow]") {
  edge_fixture fx([](edge::app_config& c) {
    c.threads = 1;
    c.limits.queue.max_bytes = 64 * 1024;
    c.limits.max_messages_per_second = 100'000;  // this test is about the queue bound, not the rate limit
  });
  // A raw socket: the WebSocket handshake by hand, then ping messages as fast as the socket takes
  // them, and never a read, so the pongs pile up on the edge's side.
  boost::asio::io_context ioc;
  auto s = raw_upgrade(ioc, fx.edge->port());
  std::string ping_burst;
  for (int i = 0; i < 1000; ++i) {
    ping_burst += bench::make_client_frame(bench::ws_frame_reader::opcode::text,
                                           R"({"type":"ping","id":")" + std::string(100, 'x') + "\"}", 0x12345678);
  }
  boost::system::error_code ec;
  s.non_blocking(true);
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  bool closed = false;
  while (!closed && std::chrono::steady_clock::now() < deadline) {
    boost::asio::write(s, boost::asio::buffer(ping_burst), ec);
    if (ec && ec != boost::asio::error::would_block) break;
    closed = test::metric_value(fx.get("/metrics").body, "tickstream_edge_connections") == 0;
    if (ec == boost::asio::error::would_block) std::this_thread::sleep_for(10ms);
  }
  REQUIRE(wait_until([&] {
    return fx.get("/metrics").body.find(R"(tickstream_edge_disconnects_total{reason="slow_consumer"} 1)") !=
           std::string::npos;
  }));
}

// What each limit does at which moment is a pure core's, tested with made-up times
// (tests/edge/net/test_message_rate.cpp, tests/edge/auth/test_connect_rate_limiter.cpp); this
// checks the wiring with real clients, with budgets small enough that a loaded machine's delays
// cannot change the outcome.
TEST_CASE("abuse limits: message rate, subscriptions, connection rate, handshake time", "[abuse]") {
  edge_fixture fx([](edge::app_config& c) {
    c.limits.max_messages_per_second = 2;
    c.limits.max_subscriptions = 3;
    c.max_connects_per_ip = 5;
    c.limits.handshake_timeout = std::chrono::seconds(1);
  });
  // Message rate: a burst of 40 pings against a budget of 2/s (bursts of 4), which only 18 s
  // could refill: some are dropped with a rate_limited error (one a second at most), the rest
  // answered, and the connection stays usable.
  auto c = fx.connect();
  const auto flood_start = std::chrono::steady_clock::now();
  for (int i = 0; i < 40; ++i) REQUIRE(c->send(R"({"type":"ping"})"));
  int pongs = 0, limited = 0;
  auto last_limited = flood_start;
  while (auto f = c->next(500ms)) {
    const auto type = test::type_of(*f);
    if (type == "pong") ++pongs;
    if (type == "error" && f->find("rate_limited") != std::string::npos) {
      ++limited;
      last_limited = std::chrono::steady_clock::now();
    }
  }
  const double flood_s = std::chrono::duration<double>(last_limited - flood_start).count();
  INFO("rate_limited errors over " << flood_s << " s");
  CHECK(pongs >= 4);
  CHECK(pongs < 40);
  CHECK(limited >= 1);
  CHECK(limited <= 1 + static_cast<int>(flood_s));
  std::this_thread::sleep_for(1200ms);  // the budget refills with time (waiting is the point here)
  REQUIRE(c->send(R"({"type":"ping"})"));
  auto pong = c->next(2s);
  REQUIRE(pong);
  CHECK(test::type_of(*pong) == "pong");

  // Subscriptions per connection.
  REQUIRE(c->send(R"({"type":"subscribe","snapshot":false,"symbols":["A1","A2","A3","A4"]})"));
  auto sub = c->next(5s);
  REQUIRE(sub);
  CHECK(sub->find(R"("symbols":["A1","A2","A3"])") != std::string::npos);
  CHECK(sub->find(R"({"name":"A4","code":"too_many_subscriptions")") != std::string::npos);

  // New connections per second from one address: a burst of 30 upgrades, all sent before any
  // answer is read. The first 5 are served; past that only what the bucket refilled (5 a second)
  // while the burst was being accepted, which would take 5 s to let all 30 in.
  const auto burst_start = std::chrono::steady_clock::now();
  boost::asio::io_context burst_ioc;
  std::vector<boost::asio::ip::tcp::socket> burst;
  for (int i = 0; i < 30; ++i) burst.push_back(raw_upgrade(burst_ioc, fx.edge->port()));
  int switched = 0, refused = 0;
  for (auto& s : burst) {
    boost::asio::streambuf head;
    boost::system::error_code ec;
    boost::asio::read_until(s, head, "\r\n", ec);
    const std::string status_line{boost::asio::buffers_begin(head.data()), boost::asio::buffers_end(head.data())};
    if (status_line.starts_with("HTTP/1.1 101")) ++switched;
    if (status_line.starts_with("HTTP/1.1 429")) ++refused;
  }
  const double burst_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - burst_start).count();
  INFO("burst took " << burst_s << " s");
  CHECK(switched + refused == 30);
  CHECK(switched >= 5);
  CHECK(switched <= 5 + static_cast<int>(5 * burst_s) + 1);
  CHECK(refused >= 1);
  burst.clear();

  // Handshake time: a client that opens a socket and says nothing is dropped.
  std::this_thread::sleep_for(1100ms);  // the connection-rate bucket refills
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket idle(ioc);
  idle.connect({boost::asio::ip::make_address("127.0.0.1"), fx.edge->port()});
  char byte = 0;
  boost::system::error_code ec;
  idle.read_some(boost::asio::buffer(&byte, 1), ec);  // returns when the edge closes it
  CHECK(ec == boost::asio::error::eof);

  // Everyone else is still served.
  REQUIRE(c->send(R"({"type":"ping"})"));
  std::optional<std::string> last;
  while ((last = c->next(2s)) && test::type_of(*last) != "pong") {
  }
  CHECK(last);
}

TEST_CASE("a client that breaks the framing gets close 1002 and its socket closed at once", "[ws][timing]") {
  edge_fixture fx;
  boost::asio::io_context ioc;
  auto s = raw_upgrade(ioc, fx.edge->port());
  boost::asio::write(s, boost::asio::buffer(std::string("\x81\x02hi", 4)));  // unmasked: not allowed from a client
  const auto start = std::chrono::steady_clock::now();
  std::string received;
  boost::system::error_code ec;
  char buf[512];
  while (!ec) {
    const auto n = s.read_some(boost::asio::buffer(buf), ec);
    received.append(buf, n);
  }
  CHECK(ec == boost::asio::error::eof);
  CHECK(std::chrono::steady_clock::now() - start < 2s);  // not the 5 s close timeout
  CHECK(received.find(std::string("\x88", 1)) != std::string::npos);
  CHECK(received.find(std::string("\x03\xea", 2)) != std::string::npos);  // 1002
}
