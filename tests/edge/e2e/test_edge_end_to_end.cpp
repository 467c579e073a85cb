// End to end: a real redis-server, the real tickstream-ingest binary, an edge app in this
// process, and real WebSocket clients over loopback.
#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/ws_client.hpp"
#include "edge/app.hpp"
#include "tests/edge/support/edge_fixture.hpp"
#include "tests/support/ingest_replay.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_file.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;
using namespace std::chrono_literals;
using test::edge_fixture;
using test::parse;
using test::subscribe;
using test::type_of;
using test::wait_until;

namespace {

// Writes a capture of n ticks cycling over symbols; tick i has size i so order can be checked.
test::temp_file write_capture(const std::vector<std::string>& symbols, int n,
                              const std::vector<std::string>& bad_lines) {
  test::temp_file capture("tickstream-capture");
  std::ofstream out(capture.path());
  for (int i = 0; i < n; ++i) {
    const auto& sym = symbols[static_cast<std::size_t>(i) % symbols.size()];
    out << R"({"type":"price_update","symbol":")" << sym << R"(","price":)" << 100 + i << R"(.25,"bid":)" << 100 + i
        << R"(.20,"ask":)" << 100 + i << R"(.30,"size":)" << i
        << R"(,"timestamp":"2026-11-20T14:30:00.000000Z","recv_us":)" << 1795185000000000LL + i * 1000
        << R"(,"source":"test"})"
        << "\n";
    if (i == n / 2) {
      for (const auto& b : bad_lines) out << b << "\n";
    }
  }
  return capture;
}

// Reads price_update frames until `count` have arrived (or 10 s pass); returns symbol -> sizes.
std::map<std::string, std::vector<int>> collect_ticks(client::ws_client& c, std::size_t count) {
  std::map<std::string, std::vector<int>> out;
  std::size_t got = 0;
  while (got < count) {
    auto f = c.next(10s);
    if (!f) break;
    auto d = parse(*f);
    REQUIRE(std::string(d["type"].GetString()) == "price_update");
    out[d["symbol"].GetString()].push_back(d["size"].GetInt());
    ++got;
  }
  return out;
}

std::vector<int> sizes_of(const std::string& symbol, const std::vector<std::string>& symbols, int n) {
  std::vector<int> out;
  for (int i = 0; i < n; ++i) {
    if (symbols[static_cast<std::size_t>(i) % symbols.size()] == symbol) out.push_back(i);
  }
  return out;
}

}  // namespace

TEST_CASE("ticks replayed by ingest reach exactly the clients subscribed to them, in order", "[e2e]") {
  // One worker (the Redis connections on its loop, messages handed over by direct calls) and two
  // (a Redis thread, one post per worker per round of Redis I/O).
  const int threads = GENERATE(1, 2);
  INFO("workers: " << threads);
  edge_fixture fx([threads](edge::app_config& c) { c.threads = threads; });
  auto a = fx.connect();
  auto b = fx.connect();
  auto c = fx.connect();  // same symbol as a, most likely on the other worker
  subscribe(*a, R"(["AAPL","msft"])");
  subscribe(*b, R"(["NVDA"])");
  subscribe(*c, R"(["AAPL"])");
  // One Redis subscription per channel per edge, whatever the number of clients.
  CHECK(fx.redis.cli({"PUBSUB", "NUMSUB", "ts:{md:AAPL}", "ts:{md:MSFT}", "ts:{md:NVDA}", "ts:{md:TSLA}"}) ==
        "ts:{md:AAPL}\n1\nts:{md:MSFT}\n1\nts:{md:NVDA}\n1\nts:{md:TSLA}\n0\n");

  const std::vector<std::string> symbols = {"AAPL", "MSFT", "NVDA", "TSLA"};
  constexpr int n = 400;
  const auto capture = write_capture(
      symbols, n, {"{broken json", R"({"type":"price_update","symbol":"AAPL","price":-1})", R"({"type":"mystery"})"});
  const test::temp_file log("tickstream-ingest-log");
  CHECK(test::replay_capture(fx.redis.port(), capture.path(), log.path()) == 0);
  const auto ingest_log = log.text();
  CHECK(ingest_log.find("invalid_lines=3") != std::string::npos);
  CHECK(ingest_log.find("published=400") != std::string::npos);
  CHECK(ingest_log.find("line=202") != std::string::npos);  // the bad line is reported by number

  const auto got_a = collect_ticks(*a, 200);
  CHECK(got_a.size() == 2);
  CHECK(got_a.at("AAPL") == sizes_of("AAPL", symbols, n));
  CHECK(got_a.at("MSFT") == sizes_of("MSFT", symbols, n));
  const auto got_b = collect_ticks(*b, 100);
  CHECK(got_b.size() == 1);
  CHECK(got_b.at("NVDA") == sizes_of("NVDA", symbols, n));
  const auto got_c = collect_ticks(*c, 100);
  CHECK(got_c.size() == 1);
  CHECK(got_c.at("AAPL") == sizes_of("AAPL", symbols, n));
  // Nothing else was sent: a ping's pong is the very next frame.
  for (auto* cl : {a.get(), b.get(), c.get()}) {
    REQUIRE(cl->send(R"({"type":"ping","id":"end"})"));
    auto f = cl->next(5s);
    REQUIRE(f);
    CHECK(type_of(*f) == "pong");
  }
  // Ready: the readiness probe came back through the subscriber connection.
  CHECK(wait_until([&] { return fx.get("/readyz").status == 200; }));
  // The last tick per symbol is kept in Redis with a TTL.
  CHECK(fx.redis.cli({"GET", "ts:{md:TSLA}:last"}).find(R"("size":399)") != std::string::npos);
  const auto ttl = std::stoi(fx.redis.cli({"TTL", "ts:{md:TSLA}:last"}));
  CHECK(ttl > 290);
  CHECK(ttl <= 300);
}

TEST_CASE("a capture of raw Finnhub and Alpaca messages replays through their normalizers", "[e2e]") {
  edge_fixture fx;
  auto c = fx.connect();
  subscribe(*c, R"(["AAPL","TSLA"])");
  const test::temp_file capture("tickstream-raw");
  {
    std::ofstream out(capture.path());
    // JSON-escaped raw messages, as a source adapter records them.
    out << R"({"recv_us":1795185000000000,"source":"alpaca","raw":"[{\"T\":\"success\",\"msg\":\"authenticated\"}]"})"
        << "\n"
        << R"({"recv_us":1795185000001000,"source":"alpaca","raw":"[{\"T\":\"q\",\"S\":\"AAPL\",\"bp\":150.20,\"bs\":1,\"ap\":150.30,\"as\":4,\"t\":\"2026-11-20T14:30:00.000900Z\"}]"})"
        << "\n"
        << R"({"recv_us":1795185000002000,"source":"alpaca","raw":"[{\"T\":\"t\",\"S\":\"AAPL\",\"p\":150.25,\"s\":100,\"t\":\"2026-11-20T14:30:00.001900Z\"}]"})"
        << "\n"
        << R"({"recv_us":1795185000003000,"source":"finnhub","raw":"{\"type\":\"trade\",\"data\":[{\"s\":\"TSLA\",\"p\":122.1,\"t\":1795185000002,\"v\":7}]}"})"
        << "\n"
        << R"({"recv_us":1795185000004000,"source":"finnhub","raw":"{\"type\":\"trade\",\"data\":[{\"s\":\"TSLA\",\"p\":\"bad\",\"t\":1795185000003,\"v\":1}]}"})"
        << "\n"
        << R"({"recv_us":1795185000005000,"source":"nowhere","raw":"{}"})"
        << "\n";
  }
  const test::temp_file log("tickstream-ingest-log");
  CHECK(test::replay_capture(fx.redis.port(), capture.path(), log.path()) == 0);
  const auto ingest_log = log.text();
  CHECK(ingest_log.find("invalid_lines=2") != std::string::npos);
  CHECK(ingest_log.find("code=unknown_source") != std::string::npos);
  CHECK(ingest_log.find("code=invalid_trade") != std::string::npos);
  // Both unusable messages are kept in the dead-letter stream with their reason.
  CHECK(fx.redis.cli({"XLEN", "ts:dead"}) == "2\n");
  CHECK(fx.redis.cli({"XRANGE", "ts:dead", "-", "+"}).find("data[0]: field 'p': must be a number") !=
        std::string::npos);

  auto first = c->next(5s);
  auto second = c->next(5s);
  REQUIRE(first);
  REQUIRE(second);
  auto aapl = parse(*first);
  auto tsla = parse(*second);
  CHECK(std::string(aapl["symbol"].GetString()) == "AAPL");
  CHECK(std::string(aapl["source"].GetString()) == "alpaca");
  CHECK(aapl["price"].GetDouble() == 150.25);
  CHECK(aapl["bid"].GetDouble() == 150.20);  // the quote before the trade is merged in
  CHECK(std::string(tsla["symbol"].GetString()) == "TSLA");
  CHECK(std::string(tsla["source"].GetString()) == "finnhub");
  CHECK(tsla["size"].GetInt() == 7);
  REQUIRE(c->send(R"({"type":"ping"})"));
  auto pong = c->next(5s);
  REQUIRE(pong);
  CHECK(type_of(*pong) == "pong");  // nothing else arrived
}

TEST_CASE("an Alpaca trading capture becomes the user's sequenced history and snapshot", "[e2e]") {
  edge_fixture fx;
  const test::temp_file capture("tickstream-trading");
  const std::string order =
      R"({\"id\":\"b-1\",\"client_order_id\":\"o-1\",\"symbol\":\"AAPL\",\"side\":\"buy\",\"order_type\":\"limit\",)"
      R"(\"qty\":\"10\",\"submitted_at\":\"2026-11-20T14:30:00Z\",)";
  {
    std::ofstream out(capture.path());
    out << R"({"recv_us":1795185000000000,"source":"alpaca-trading","raw":"{\"stream\":\"trade_updates\",\"data\":{\"event\":\"new\",\"order\":)"
        << order << R"(\"status\":\"new\",\"filled_qty\":\"0\"}}}"})"
        << "\n";
    for (int dup = 0; dup < 2; ++dup) {  // the fill arrives twice, as after a reconnect
      out << R"({"recv_us":1795185000100000,"source":"alpaca-trading","raw":"{\"stream\":\"trade_updates\",\"data\":{\"event\":\"fill\",\"execution_id\":\"x-1\",\"price\":\"189.25\",\"qty\":\"10\",\"position_qty\":\"10\",\"timestamp\":\"2026-11-20T14:30:00.1Z\",\"order\":)"
          << order << R"(\"status\":\"filled\",\"filled_qty\":\"10\",\"filled_avg_price\":\"189.25\"}}}"})"
          << "\n";
    }
  }
  const test::temp_file log("tickstream-ingest-log");
  CHECK(test::replay_capture(fx.redis.port(), capture.path(), log.path(), {"--trading-user", "u-77"}) == 0);
  const auto ingest_log = log.text();
  INFO(ingest_log);
  CHECK(ingest_log.find("duplicates=3") != std::string::npos);
  // new -> order_update (1); fill -> order_update (2), trade_executed (3), position_update (4);
  // the duplicate fill stores nothing.
  CHECK(fx.redis.cli({"GET", "ts:{u:u-77}:seq"}) == "4\n");
  CHECK(fx.redis.cli({"XLEN", "ts:{u:u-77}:hist"}) == "4\n");
  CHECK(fx.redis.cli({"HLEN", "ts:{u:u-77}:orders"}) == "0\n");  // filled: not open
  CHECK(fx.redis.cli({"HGET", "ts:{u:u-77}:pos", "AAPL"}).find(R"("quantity":"10")") != std::string::npos);
  CHECK(fx.redis.cli({"ZCARD", "ts:{u:u-77}:execs"}) == "4\n");  // new + the fill's three
}

TEST_CASE("unsubscribing stops delivery and releases the Redis subscription", "[e2e]") {
  const int threads = GENERATE(1, 2);
  INFO("workers: " << threads);
  edge_fixture fx([threads](edge::app_config& c) { c.threads = threads; });
  auto a = fx.connect();
  auto b = fx.connect();
  subscribe(*a, R"(["AAPL"])");
  subscribe(*b, R"(["AAPL"])");
  REQUIRE(a->send(R"({"type":"unsubscribe","symbols":["AAPL","NEVER"]})"));
  auto reply = a->next(5s);
  REQUIRE(reply);
  CHECK(*reply == R"({"type":"unsubscribed","symbols":["AAPL"],"channels":[]})");
  CHECK(fx.redis.cli({"PUBSUB", "NUMSUB", "ts:{md:AAPL}"}) == "ts:{md:AAPL}\n1\n");  // b still holds it

  b->close();
  REQUIRE(wait_until([&] { return fx.redis.cli({"PUBSUB", "NUMSUB", "ts:{md:AAPL}"}) == "ts:{md:AAPL}\n0\n"; }));

  const std::vector<std::string> symbols = {"AAPL"};
  const auto capture = write_capture(symbols, 5, {});
  CHECK(test::replay_capture(fx.redis.port(), capture.path(), "/dev/null") == 0);
  REQUIRE(a->send(R"({"type":"ping"})"));
  auto f = a->next(5s);
  REQUIRE(f);
  CHECK(type_of(*f) == "pong");  // no AAPL tick came first
}

TEST_CASE("bad client messages get error frames and the connection keeps working", "[e2e]") {
  edge_fixture fx;
  auto c = fx.connect();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"this is not json", "invalid_json"},
      {R"({"type":"dance"})", "unknown_type"},
      {R"({"type":"subscribe"})", "invalid_message"},
      {R"({"type":"subscribe","symbols":"AAPL"})", "invalid_message"},
      {R"([1,2,3])", "invalid_message"},
      {std::string(2000, '['), "invalid_json"},
  };
  for (const auto& [input, code] : cases) {
    INFO(input);
    REQUIRE(c->send(input));
    auto f = c->next(5s);
    REQUIRE(f);
    auto d = parse(*f);
    CHECK(std::string(d["type"].GetString()) == "error");
    CHECK(std::string(d["code"].GetString()) == code);
    CHECK(std::string(d["message"].GetString()).size() > 10);
  }
  REQUIRE(c->send(R"({"type":"ping"})", true));
  auto bin = c->next(5s);
  REQUIRE(bin);
  CHECK(parse(*bin)["code"].GetString() == std::string("binary_not_supported"));

  // Still usable: symbols are validated one by one and the good ones subscribed.
  const auto confirm = subscribe(*c, R"(["AAPL","not a symbol","AAPL"])");
  CHECK(
      confirm ==
      R"({"type":"subscribed","symbols":["AAPL"],"channels":[],"rejected":[{"name":"not a symbol","code":"invalid_symbol",)"
      R"("reason":"symbol may only contain letters, digits and . - / : _"}],"batch_ms":0})");
  REQUIRE(c->send(R"({"type":"ping","id":7})"));
  auto pong = c->next(5s);
  REQUIRE(pong);
  auto d = parse(*pong);
  CHECK(std::string(d["type"].GetString()) == "pong");
  CHECK(d["id"].GetInt() == 7);
  CHECK(d["server_time_us"].GetInt64() > 1'700'000'000'000'000LL);

  const auto metrics = fx.get("/metrics").body;
  CHECK(metrics.find(R"(tickstream_edge_client_errors_total{code="invalid_json"} 2)") != std::string::npos);
  CHECK(metrics.find(R"(tickstream_edge_client_errors_total{code="unknown_type"} 1)") != std::string::npos);
  CHECK(metrics.find(R"(tickstream_edge_client_errors_total{code="binary_not_supported"} 1)") != std::string::npos);
}

TEST_CASE("a frame over the size limit closes that connection with 1009 and no other", "[e2e]") {
  edge_fixture fx;
  auto big = fx.connect();
  auto other = fx.connect();
  subscribe(*other, R"(["AAPL"])");
  REQUIRE(big->send(R"({"type":"ping","id":")" + std::string(10'000, 'x') + "\"}"));
  REQUIRE(wait_until([&] {
    big->next(50ms);
    return big->closed();
  }));
  CHECK(big->close_code() == 1009);
  REQUIRE(other->send(R"({"type":"ping"})"));
  auto f = other->next(5s);
  REQUIRE(f);
  CHECK(type_of(*f) == "pong");
  CHECK(fx.get("/metrics").body.find(R"(tickstream_edge_client_errors_total{code="message_too_big"} 1)") !=
        std::string::npos);
}

TEST_CASE("HTTP endpoints: health, metrics, and refusals for everything else", "[e2e]") {
  edge_fixture fx;
  CHECK(fx.connect()->node() == "test-edge");
  const auto health = fx.get("/healthz");
  CHECK(health.status == 200);
  REQUIRE(wait_until([&] { return fx.get("/healthz").body == R"({"status":"ok","redis":"up"})"; }));
  CHECK(fx.get("/metrics").body.find("tickstream_edge_connections ") != std::string::npos);
  const auto plain = fx.get("/ws");
  CHECK(plain.status == 426);
  CHECK(plain.body.find("upgrade_required") != std::string::npos);
  CHECK(fx.get("/nope").status == 404);
}

TEST_CASE("stopping the edge closes clients with 1001", "[e2e]") {
  edge_fixture fx;
  auto c = fx.connect();
  subscribe(*c, R"(["AAPL"])");
  // stop() blocks until clients have closed (or the grace period ends): the client answers the
  // close handshake meanwhile on this thread.
  std::thread stopper([&] { fx.edge->stop(); });
  const bool closed = wait_until([&] {
    c->next(50ms);
    return c->closed();
  });
  stopper.join();
  REQUIRE(closed);
  CHECK(c->close_code() == 1001);
}
