// A Redis that refuses one channel (an ACL on the edge's Redis user): the client that asked is
// told in its subscribe answer, and the edge's Redis connection, readiness and every other
// channel carry on.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "bench/ws_client.hpp"
#include "tests/edge/support/edge_fixture.hpp"
#include "tests/edge/support/publisher.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;
using namespace std::chrono_literals;

namespace {

std::string metric_line(const std::string& metrics, const std::string& name) {
  const auto at = metrics.find("\n" + name + " ");
  if (at == std::string::npos) return {};
  return metrics.substr(at + 1, metrics.find('\n', at + 1) - at - 1);
}

}  // namespace

TEST_CASE("a subscription Redis refuses fails that symbol only and the edge stays connected and ready",
          "[faults][redis]") {
  test::redis_server redis;
  // The edge's user may use every key and command, but only the tier's own channels and AAPL's.
  redis.cli({"ACL", "SETUSER", "edge", "on", ">edge-pass", "~*", "+@all", "resetchannels", "&ts:edge:*", "&ts:sys",
             "&ts:tier", "&ts:{md:AAPL}"});
  const int port = test::free_port();
  test::child_process edge(
      {TICKSTREAM_EDGE_BIN, "--listen-host", "127.0.0.1", "--port", std::to_string(port), "--redis-url",
       "redis://edge:edge-pass@127.0.0.1:" + std::to_string(redis.port()), "--threads", "1", "--batch-window-ms", "0",
       "--node-id", "acl-edge", "--max-connects-per-ip", "0", "--probe-interval-ms", "100", "--log-level", "warn"},
      "acl-edge.log");
  const auto get = [&](const char* path) { return client::http_get("127.0.0.1", std::to_string(port), path, 2s); };
  REQUIRE(test::wait_until([&] {
    auto r = get("/readyz");
    return r.ok() && r->status == 200;
  }));

  auto ws = client::ws_client::connect({"127.0.0.1", std::to_string(port), "/ws"}, 5s);
  REQUIRE(ws.ok());
  REQUIRE(ws.value()->send(R"({"type":"subscribe","snapshot":false,"symbols":["AAPL","DENIED"]})"));
  auto reply = ws.value()->next(5s);
  REQUIRE(reply);
  const auto d = test::parse(*reply);
  REQUIRE(d["type"].GetString() == std::string("subscribed"));
  REQUIRE(d["symbols"].Size() == 1);
  CHECK(d["symbols"][0].GetString() == std::string("AAPL"));
  REQUIRE(d["rejected"].Size() == 1);
  CHECK(d["rejected"][0]["name"].GetString() == std::string("DENIED"));
  CHECK(d["rejected"][0]["code"].GetString() == std::string("unavailable"));

  // Ticks of the granted symbol flow; the connection to Redis never dropped; the edge is ready.
  test::publisher pub(redis.port());
  pub.tick("AAPL", 1);
  pub.flush();
  auto tick = ws.value()->next(5s);
  REQUIRE(tick);
  CHECK(tick->find("\"AAPL\"") != std::string::npos);
  // Asking again is refused again, with no reconnect either.
  REQUIRE(ws.value()->send(R"({"type":"subscribe","snapshot":false,"symbols":["DENIED"]})"));
  reply = ws.value()->next(5s);
  REQUIRE(reply);
  CHECK(test::parse(*reply)["rejected"][0]["code"].GetString() == std::string("unavailable"));
  auto ready = get("/readyz");
  REQUIRE(ready.ok());
  CHECK(ready->status == 200);
  const auto metrics = get("/metrics").value().body;
  CHECK(metric_line(metrics, "tickstream_edge_redis_reconnects_total") == "tickstream_edge_redis_reconnects_total 0");
  CHECK(metric_line(metrics, "tickstream_edge_redis_refused_subscriptions_total") ==
        "tickstream_edge_redis_refused_subscriptions_total 2");
  CHECK(metrics.find(R"(tickstream_edge_client_errors_total{code="unavailable"} 2)") != std::string::npos);
}
