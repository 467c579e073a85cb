// Input a strict client or a hostile one sends that the edge must refuse precisely: text that is
// not UTF-8, HEAD on a kept-alive connection, credentials that must never reach a log line.
#include <catch2/catch.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include "bench/ws_frame_reader.hpp"
#include "edge/protocol/deflate.hpp"
#include "tests/edge/support/edge_fixture.hpp"
#include "tests/edge/support/publisher.hpp"
#include "tests/edge/support/user_clients.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;
using namespace std::chrono_literals;

namespace {

namespace net = boost::asio;

net::ip::tcp::socket raw_connect(net::io_context& ioc, unsigned short port) {
  net::ip::tcp::socket s(ioc);
  s.connect({net::ip::make_address("127.0.0.1"), port});
  return s;
}

// Upgrades s and returns once the 101 is read.
void upgrade(net::ip::tcp::socket& s) {
  net::write(
      s, net::buffer(std::string("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")));
  net::streambuf head;
  net::read_until(s, head, "\r\n\r\n");
}

// Everything the edge sends until it closes the connection.
std::string read_to_end(net::ip::tcp::socket& s) {
  std::string out;
  boost::system::error_code ec;
  char buf[4096];
  while (!ec) out.append(buf, s.read_some(net::buffer(buf), ec));
  return out;
}

std::string text_frame(std::string_view payload) {
  return bench::make_client_frame(bench::ws_frame_reader::opcode::text, payload, 0x1234abcd);
}

}  // namespace

TEST_CASE("text that is not UTF-8 closes the connection with 1007, others are still served", "[ws][hostile]") {
  test::edge_fixture fx;
  auto healthy = fx.connect();
  net::io_context ioc;
  for (const std::string& bad : {std::string("{\"type\":\"ping\",\"id\":\"caf\xc3\"}"), std::string("\xc0\xaf")}) {
    auto s = raw_connect(ioc, fx.edge->port());
    upgrade(s);
    net::write(s, net::buffer(text_frame(bad)));
    const auto got = read_to_end(s);
    CHECK(got.find(std::string("\x88", 1)) != std::string::npos);      // a close frame...
    CHECK(got.find(std::string("\x03\xef", 2)) != std::string::npos);  // ...with 1007
  }
  // A close frame whose reason is not UTF-8 is answered the same way.
  auto s = raw_connect(ioc, fx.edge->port());
  upgrade(s);
  auto close = bench::make_client_frame(bench::ws_frame_reader::opcode::close, std::string("\x03\xe8") + "bye\xff", 7);
  net::write(s, net::buffer(close));
  CHECK(read_to_end(s).find(std::string("\x03\xef", 2)) != std::string::npos);
  CHECK(test::metric_value(fx.get("/metrics").body, R"(tickstream_edge_client_errors_total{code="invalid_utf8"})") ==
        3);
  REQUIRE(healthy->send(R"({"type":"ping","id":"caf\u00e9 ok"})"));
  auto pong = healthy->next(5s);
  REQUIRE(pong);
  CHECK(test::type_of(*pong) == "pong");
}

TEST_CASE("HEAD gets a GET's headers and no body, so a kept-alive connection stays in step", "[http][hostile]") {
  test::edge_fixture fx;
  net::io_context ioc;
  auto s = raw_connect(ioc, fx.edge->port());
  net::write(s, net::buffer(std::string("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n"
                                        "Connection: close\r\n\r\n")));
  const auto got = read_to_end(s);
  const auto first_end = got.find("\r\n\r\n");
  REQUIRE(first_end != std::string::npos);
  const auto head = got.substr(0, first_end);
  CHECK(head.starts_with("HTTP/1.1 200"));
  CHECK(head.find("Content-Length: ") != std::string::npos);
  // The next bytes are the GET's answer, not the HEAD's body.
  CHECK(got.substr(first_end + 4).starts_with("HTTP/1.1 200"));
  CHECK(got.find(R"({"status":"ok")") > first_end + 4);
}

TEST_CASE("a malformed auth or refresh message is answered, and its token never reaches the log", "[auth][hostile]") {
  test::redis_server redis;
  std::remove("redact-edge.log");  // its log is read below: only this run's lines
  test::edge_process edge(redis.port(), "redact-edge");
  auto c = test::connect_as(edge.port, "u-1");
  const std::string jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1LTEiLCJleHAiOjF9.c2VjcmV0LXNpZ25hdHVyZQ";
  for (const auto& bad :
       {R"({"type":"refresh","token":")" + jwt + R"(",})", R"({"type":"refresh","token":)" + jwt + "}",
        R"({"type":"auth","token":[")" + jwt + R"("]})"}) {
    REQUIRE(c->send(bad));
    auto reply = c->next(5s);
    REQUIRE(reply);
    CHECK(test::type_of(*reply) == "error");
  }
  const auto read_log = [] {
    std::ifstream in("redact-edge.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  REQUIRE(test::wait_until([&] { return read_log().find("bad client message") != std::string::npos; }));
  const auto log = read_log();
  CHECK(log.find("eyJhbGciOiJIUzI1NiJ9") == std::string::npos);
  CHECK(log.find("c2VjcmV0") == std::string::npos);
  CHECK(log.find("withheld") != std::string::npos);
}

TEST_CASE("bytes of an unfinished frame are no sign of life: the idle timeout still closes", "[ws][hostile]") {
  test::edge_fixture fx([](edge::app_config& c) { c.limits.idle_timeout = std::chrono::milliseconds(2000); });
  net::io_context ioc;
  auto s = raw_connect(ioc, fx.edge->port());
  upgrade(s);
  // A frame header announcing 100 bytes, then its body one byte at a time, far slower than the
  // timeout: the frame never completes, so the connection must not live on.
  const auto frame = text_frame(std::string(100, 'x'));
  net::write(s, net::buffer(frame.substr(0, 6)));
  s.non_blocking(true);
  bool closed = false;
  for (std::size_t i = 6; i < frame.size() && !closed; ++i) {
    boost::system::error_code ec;
    net::write(s, net::buffer(frame.substr(i, 1)), ec);
    char buf[256];
    s.read_some(net::buffer(buf), ec);  // pings arrive; EOF once closed
    closed = ec == net::error::eof || ec == net::error::connection_reset || ec == net::error::broken_pipe;
    if (!closed) std::this_thread::sleep_for(200ms);  // the slow trickle is the point of the test
  }
  CHECK(closed);
  CHECK(test::metric_value(fx.get("/metrics").body, R"(tickstream_edge_disconnects_total{reason="timeout"})") == 1);
}

TEST_CASE("a client that keeps sending but never reads is closed with 4008, which it sees once it reads",
          "[slow][hostile]") {
  test::redis_server redis;
  std::remove("slow-edge.log");  // its log is read below: only this run's lines
  // A separate process, so its log tells when it decided (the disconnect is counted only once the
  // close handshake is over, and a client that does not read cannot finish one).
  test::edge_process edge(redis.port(), "slow-edge",
                          {"--threads", "1", "--max-queued-bytes", "262144", "--max-messages-per-second", "100000",
                           "--idle-timeout-ms", "3000"});
  test::publisher pub(redis.port());
  net::io_context ioc;
  auto s = raw_connect(ioc, static_cast<unsigned short>(edge.port));
  const auto auth = test::bearer_for("u-1");
  net::write(s, net::buffer("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
                            auth.first + ": " + auth.second + "\r\n\r\n"));
  net::streambuf head;
  net::read_until(s, head, "\r\n\r\n");
  std::string symbols;
  for (int i = 0; i < 500; ++i) symbols += (i ? ",\"S" : "\"S") + std::to_string(i) + "\"";
  net::write(s, net::buffer(text_frame(R"({"type":"subscribe","snapshot":false,"symbols":[)" + symbols + "]}")));
  const auto read_log = [] {
    std::ifstream in("slow-edge.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  // Ticks flow; the client only writes pings (signs of life) and reads nothing.
  bool decided = false;
  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + 30s;
  for (int round = 0; !decided && std::chrono::steady_clock::now() < deadline; ++round) {
    for (int i = 0; i < 500; ++i) pub.tick("S" + std::to_string(i), round * 500 + i, 32);
    pub.flush();
    boost::system::error_code ec;
    net::write(s, net::buffer(text_frame(R"({"type":"ping"})")), ec);
    decided = read_log().find("slow consumer") != std::string::npos;
  }
  REQUIRE(decided);
  // From the first tick (before the bound was crossed) to the decision: an upper bound on the time
  // from crossing the bound to 4008, which the docs put at one heartbeat sweep (about a second).
  const auto waited_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  WARN("slow consumer closed " << waited_ms << " ms after the first tick it did not read");
  CHECK(waited_ms < 5000);
  // Reading now drains what was in flight, and the stream ends with the close frame: 4008.
  const auto got = read_to_end(s);
  INFO("received " << got.size() << " bytes, ending " << got.substr(got.size() > 60 ? got.size() - 60 : 0));
  CHECK(got.rfind(std::string("\x88\x1c\x0f\xa8", 4) + "slow consumer: not reading") != std::string::npos);  // 4008
}

TEST_CASE("behind a load balancer, per-address limits see the client its PROXY header names", "[proxy][limits]") {
  test::edge_fixture fx([](edge::app_config& c) {
    c.proxy_protocol = true;
    c.max_connects_per_ip = 2;
  });
  net::io_context ioc;
  const auto via_balancer = [&](const std::string& client) {
    auto s = raw_connect(ioc, fx.edge->port());
    const auto header = "PROXY TCP4 " + client + " 10.0.0.2 40000 8080\r\n";
    net::write(s, net::buffer(header + "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    return read_to_end(s).substr(0, 12);
  };
  CHECK(via_balancer("203.0.113.7") == "HTTP/1.1 200");
  CHECK(via_balancer("203.0.113.7") == "HTTP/1.1 200");
  CHECK(via_balancer("203.0.113.7") == "HTTP/1.1 429");  // that client's third in a second
  CHECK(via_balancer("203.0.113.8") == "HTTP/1.1 200");  // another client behind the same balancer
  // Without the header, the connection is closed unanswered.
  auto s = raw_connect(ioc, fx.edge->port());
  net::write(s, net::buffer(std::string("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")));
  CHECK(read_to_end(s).empty());
  auto m = raw_connect(ioc, fx.edge->port());
  net::write(m, net::buffer(std::string("PROXY TCP4 10.9.9.9 10.0.0.2 1 2\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n"
                                        "Connection: close\r\n\r\n")));
  const auto metrics = read_to_end(m);
  CHECK(metrics.find(R"(tickstream_edge_rejected_upgrades_total{reason="bad_proxy_header"} 1)") != std::string::npos);
}

TEST_CASE("X-Forwarded-For from a trusted proxy names the client for per-address limits", "[proxy][limits]") {
  test::edge_fixture fx([](edge::app_config& c) {
    c.trusted_proxies = "127.0.0.1";
    c.max_connects_per_ip = 1;
  });
  const auto from = [&](const std::string& xff) {
    auto r = client::http_get("127.0.0.1", std::to_string(fx.edge->port()), "/healthz", 5s, {{"X-Forwarded-For", xff}});
    REQUIRE(r.ok());
    return r->status;
  };
  CHECK(from("198.51.100.1") == 200);
  CHECK(from("198.51.100.1") == 429);
  CHECK(from("198.51.100.2") == 200);
  CHECK(from("6.6.6.6, 198.51.100.3") == 200);  // the client cannot pick its address by prepending
  CHECK(from("198.51.100.3") == 429);
}

TEST_CASE("permessage-deflate with a real client: ticks compressed once, messages inflated, a bomb refused",
          "[deflate][hostile]") {
  test::edge_fixture fx([](edge::app_config& c) {
    c.permessage_deflate = true;
    c.deflate_threshold_bytes = 0;
  });
  const auto url = client::ws_url{"127.0.0.1", std::to_string(fx.edge->port()), "/ws"};
  auto zipped = client::ws_client::connect(url, 5s, {}, true);  // Beast's own permessage-deflate
  auto plain = client::ws_client::connect(url, 5s);
  REQUIRE(zipped.ok());
  REQUIRE(plain.ok());
  for (auto* c : {zipped.value().get(), plain.value().get()}) {
    // Beast compresses its own messages too: the edge inflates them.
    test::subscribe(*c, R"(["AAPL"])");
  }
  const auto sent_before = test::metric_value(fx.get("/metrics").body, "tickstream_edge_bytes_sent_total");
  test::publisher pub(fx.redis.port());
  for (int i = 0; i < 50; ++i) pub.tick("AAPL", i, 32);
  pub.flush();
  for (auto* c : {zipped.value().get(), plain.value().get()}) {
    std::string last;
    REQUIRE(test::wait_until([&] {
      if (auto f = c->next(50ms)) last = *f;
      return last.find(R"("size":49)") != std::string::npos;
    }));
    CHECK(test::parse(last)["price"].GetDouble() == 100.25);
  }
  // Both clients got the same 50 ticks; the compressed copies are smaller on the wire.
  const auto sent = test::metric_value(fx.get("/metrics").body, "tickstream_edge_bytes_sent_total") - sent_before;
  INFO("bytes sent for 2 x 50 ticks: " << sent);
  CHECK(sent < 2 * 50 * 200 * 0.85);

  // A compressed message that inflates past --max-message-bytes: 1009, and the others go on.
  net::io_context ioc;
  auto s = raw_connect(ioc, fx.edge->port());
  net::write(s, net::buffer(std::string("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                                        "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n")));
  net::streambuf head;
  net::read_until(s, head, "\r\n\r\n");
  const std::string response{net::buffers_begin(head.data()), net::buffers_end(head.data())};
  CHECK(response.find("Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover\r\n") !=
        std::string::npos);
  edge::message_deflater d;
  std::string bomb;
  d.compress(std::string(1 << 20, ' '), bomb);  // 1 MiB of spaces, a kilobyte or so compressed
  auto frame = bench::make_client_frame(bench::ws_frame_reader::opcode::text, bomb, 0x5a5a5a5a);
  frame[0] = static_cast<char>(0xC1);  // FIN, RSV1: compressed
  net::write(s, net::buffer(frame));
  CHECK(read_to_end(s).find(std::string("\x03\xf1", 2)) != std::string::npos);  // 1009
  REQUIRE(plain.value()->send(R"({"type":"ping","id":2})"));
  std::optional<std::string> pong;
  while ((pong = plain.value()->next(2s)) && test::type_of(*pong) != "pong") {
  }
  CHECK(pong);
}

TEST_CASE("permessage-deflate with context takeover: clients that join mid-stream or hold two channels read every tick",
          "[deflate]") {
  test::edge_fixture fx([](edge::app_config& c) {
    c.permessage_deflate = true;
    c.deflate_threshold_bytes = 0;
  });
  const auto url = client::ws_url{"127.0.0.1", std::to_string(fx.edge->port()), "/ws"};
  // Beast's permessage-deflate keeps the server's context: it inflates each message against the
  // ones before it, as browsers do, so a stream out of step would not inflate.
  auto one = client::ws_client::connect(url, 5s, {}, true);
  auto two = client::ws_client::connect(url, 5s, {}, true);
  auto late = client::ws_client::connect(url, 5s, {}, true);
  REQUIRE(one.ok());
  REQUIRE(two.ok());
  REQUIRE(late.ok());
  test::subscribe(*one.value(), R"(["AAPL"])");
  test::subscribe(*two.value(), R"(["AAPL","TSLA"])");
  const auto symbol_of = [](int i) { return i % 4 == 3 ? "TSLA" : "AAPL"; };
  // The ticks a client reads, as symbol:size, until it has n of them.
  std::size_t text_bytes = 0;
  const auto read = [&](client::ws_client& c, std::size_t n) {
    std::vector<std::string> got;
    while (got.size() < n) {
      const auto f = c.next(5s);
      if (!f) break;
      text_bytes += f->size() + (f->size() < 126 ? 2 : 4);
      const auto doc = test::parse(*f);
      got.push_back(std::string(doc["symbol"].GetString()) + ":" + std::to_string(doc["size"].GetInt()));
    }
    return got;
  };
  const auto expected = [&](int from, int to, bool tsla) {
    std::vector<std::string> want;
    for (int i = from; i < to; ++i) {
      if (tsla || std::string(symbol_of(i)) == "AAPL")
        want.push_back(std::string(symbol_of(i)) + ":" + std::to_string(i));
    }
    return want;
  };
  test::publisher pub(fx.redis.port());
  for (int i = 0; i < 40; ++i) pub.tick(symbol_of(i), i, 32);
  pub.flush();
  CHECK(read(*one.value(), 30) == expected(0, 40, false));
  CHECK(read(*two.value(), 40) == expected(0, 40, true));

  // A third joins mid-stream: it is sent ticks compressed alone until AAPL's stream restarts,
  // then the stream's bytes, and reads every one either way.
  test::subscribe(*late.value(), R"(["AAPL"])");
  text_bytes = 0;
  const auto sent_before = test::metric_value(fx.get("/metrics").body, "tickstream_edge_bytes_sent_total");
  for (int i = 40; i < 240; ++i) pub.tick(symbol_of(i), i, 32);
  pub.flush();
  CHECK(read(*one.value(), 150) == expected(40, 240, false));
  CHECK(read(*two.value(), 200) == expected(40, 240, true));
  CHECK(read(*late.value(), 150) == expected(40, 240, false));
  // Compressed against the ticks before them, they are a fraction of their size on the wire
  // (each alone, these ticks are about 0.7 of it).
  const auto sent = test::metric_value(fx.get("/metrics").body, "tickstream_edge_bytes_sent_total") - sent_before;
  INFO("bytes on the wire " << sent << " for " << text_bytes << " uncompressed");
  CHECK(sent < 0.5 * static_cast<double>(text_bytes));
  // Every client still answers: nothing it was sent broke its inflater.
  for (auto* c : {one.value().get(), two.value().get(), late.value().get()}) {
    REQUIRE(c->send(R"({"type":"ping","id":7})"));
    const auto pong = c->next(2s);
    REQUIRE(pong);
    CHECK(test::type_of(*pong) == "pong");
  }
}
