// tickstream-floor, the benchmarks' one-send()-per-delivery floor, against a real redis-server and
// a real WebSocket client: it admits its clients, answers their subscribe as the edge would, and
// forwards each message of its channel to all of them unchanged. (The frames they receive are
// checked against the protocol's contract with the edge's, as the load generator takes both alike.)
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "bench/ws_client.hpp"
#include "common/event_codec.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;
using namespace std::chrono_literals;

TEST_CASE("tickstream-floor forwards its channel's messages to every admitted client", "[tools][bench]") {
  test::redis_server redis;
  const int port = test::free_port();
  test::child_process floor({TICKSTREAM_FLOOR_BIN, "--port", std::to_string(port), "--redis-port",
                             std::to_string(redis.port()), "--channel", "ts:{md:FLOOR}", "--connections", "2",
                             "--duration", "60"});
  const auto url = client::ws_url::parse("ws://127.0.0.1:" + std::to_string(port) + "/ws").value();
  std::vector<std::unique_ptr<client::ws_client>> clients;
  for (int i = 0; i < 2; ++i) {
    std::unique_ptr<client::ws_client> c;
    REQUIRE(test::wait_until(
        [&] {
          auto r = client::ws_client::connect(url, 2s);
          if (!r) return false;
          c = std::move(r.value());
          return true;
        },
        10s));
    REQUIRE(c->send(R"({"type":"subscribe","symbols":["FLOOR"]})"));
    const auto ack = c->next(5s);
    REQUIRE(ack);
    CHECK(*ack == R"({"type":"subscribed","symbols":["FLOOR"],"channels":[],"rejected":[],"batch_ms":0})");
    clients.push_back(std::move(c));
  }
  // The floor subscribes once every client is in: publish until the first message arrives.
  common::price_update t;
  t.symbol = "FLOOR";
  t.price = "1.25";
  t.source = "test";
  t.recv_time_us = 1'795'185'000'064'264;
  t.source_time_us = t.recv_time_us;
  const std::string tick = common::encode_event(t);
  std::optional<std::string> first;
  REQUIRE(test::wait_until(
      [&] {
        redis.cli({"PUBLISH", "ts:{md:FLOOR}", tick});
        first = clients[0]->next(100ms);
        return first.has_value();
      },
      10s));
  CHECK(*first == tick);
  // The other client got the same message (and maybe more copies of it, published while waiting).
  const auto second = clients[1]->next(2s);
  REQUIRE(second);
  CHECK(*second == tick);
}
