#pragma once
// Shared by the edge integration tests: a real redis-server plus an edge app in this process, and
// helpers for talking to it over real WebSocket connections.

#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bench/ws_client.hpp"
#include "edge/app.hpp"
#include "tests/edge/support/edge_threads.hpp"
#include "tests/support/redis_server.hpp"

namespace tickstream::test {

using namespace std::chrono_literals;

// An edge app for config; the test fails if config is refused.
inline std::unique_ptr<edge::app> make_edge(const edge::app_config& config) {
  auto made = edge::app::make(config);
  REQUIRE(made);
  return std::move(made).value();
}

struct edge_fixture {
  test::redis_server redis;
  std::unique_ptr<edge::app> edge;

  // An edge with test settings (two workers unless edge_threads() says otherwise, batching off,
  // short linger); tweak changes any.
  explicit edge_fixture(const std::function<void(edge::app_config&)>& tweak = {}) {
    edge::app_config c;
    c.listen_host = "127.0.0.1";
    c.port = 0;
    c.threads = edge_threads();
    c.limits.batch_window = std::chrono::milliseconds(0);
    c.unsubscribe_linger_ms = 200;
    c.redis_port = redis.port();
    c.shutdown_grace_ms = 1000;
    c.limits.max_message_bytes = 4096;
    c.node_id = "test-edge";
    if (tweak) tweak(c);
    edge = make_edge(c);
    edge->start();
  }

  std::unique_ptr<client::ws_client> connect(const std::vector<std::pair<std::string, std::string>>& headers = {},
                                             const std::string& target = "/ws") {
    auto c = try_connect(headers, target);
    REQUIRE(c.ok());
    return std::move(c).value();
  }

  common::result<std::unique_ptr<client::ws_client>> try_connect(
      const std::vector<std::pair<std::string, std::string>>& headers = {}, const std::string& target = "/ws") {
    return client::ws_client::connect({"127.0.0.1", std::to_string(edge->port()), target}, 5s, headers);
  }

  client::http_reply get(const std::string& target) {
    auto r = client::http_get("127.0.0.1", std::to_string(edge->port()), target, 5s);
    REQUIRE(r.ok());
    return std::move(r).value();
  }
};

// The value of an unlabelled metric in a Prometheus text exposition, or -1 if absent.
inline double metric_value(const std::string& exposition, const std::string& name) {
  const auto at = exposition.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(exposition.substr(at + name.size() + 2));
}

inline rapidjson::Document parse(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

inline std::string type_of(const std::string& frame) { return parse(frame)["type"].GetString(); }

// Sends a subscribe (without the snapshot of last ticks: these tests count ticks) and returns the
// confirmation frame.
inline std::string subscribe(client::ws_client& c, const std::string& symbols_json) {
  REQUIRE(c.send(R"({"type":"subscribe","snapshot":false,"symbols":)" + symbols_json + "}"));
  auto reply = c.next(5s);
  REQUIRE(reply);
  REQUIRE(type_of(*reply) == "subscribed");
  return *reply;
}

}  // namespace tickstream::test
