// A Redis that stalls (SIGSTOP: its sockets stay open and answer nothing) must not freeze the
// tier: every request that needs Redis is answered within --redis-timeout-ms, and what does not
// need Redis goes on being served.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "bench/ws_client.hpp"
#include "tests/edge/support/edge_fixture.hpp"
#include "tests/edge/support/user_clients.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;
using namespace std::chrono_literals;

namespace {

using clock_type = std::chrono::steady_clock;

double ms_since(clock_type::time_point t) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t).count();
}

}  // namespace

TEST_CASE("a stalled Redis: upgrades and REST are answered within the Redis timeout, the rest goes on",
          "[faults][redis]") {
  test::edge_fixture fx([](edge::app_config& c) {
    c.jwt_algorithms = "HS256";
    c.jwt_hs_secret = test::user_secret;
    c.session_cookie = "sid";
    c.allowed_origins = "https://app.example";
    c.redis_timeout_ms = 500;
    c.max_connects_per_ip = 0;
  });
  const auto port = std::to_string(fx.edge->port());
  fx.redis.cli({"HSET", "ts:sess:s-1", "user", "u-9", "roles", "", "expires", "9999999999"});
  auto before = test::connect_as(fx.edge->port(), "u-1");  // connected while Redis is healthy

  fx.redis.pause();
  std::vector<double> upgrade_ms, session_ms, rest_ms;
  for (int i = 0; i < 5; ++i) {
    // A token needs no Redis to verify; its lease does: accepted without one after the timeout.
    auto t = clock_type::now();
    auto c = client::ws_client::connect({"127.0.0.1", port, "/ws"}, 5s, {test::bearer_for("u-" + std::to_string(i))});
    upgrade_ms.push_back(ms_since(t));
    CHECK(c.ok());
    // A session cookie cannot be checked: 503 within the timeout.
    t = clock_type::now();
    auto s = client::ws_client::connect({"127.0.0.1", port, "/ws"}, 5s,
                                        {{"Cookie", "sid=s-1"}, {"Origin", "https://app.example"}});
    session_ms.push_back(ms_since(t));
    REQUIRE_FALSE(s.ok());
    CHECK(s.err().message.find("HTTP 503") != std::string::npos);
    t = clock_type::now();
    auto r = client::http_get("127.0.0.1", port, "/api/positions", 5s, {test::bearer_for("u-1")});
    rest_ms.push_back(ms_since(t));
    REQUIRE(r.ok());
    CHECK(r->status == 503);
    CHECK(r->header("Retry-After") == "1");
  }
  // A connection that was up keeps being served where Redis is not needed.
  REQUIRE(before->send(R"({"type":"ping","id":7})"));
  auto pong = before->next(2s);
  REQUIRE(pong);
  CHECK(test::type_of(*pong) == "pong");
  fx.redis.resume();

  const auto worst = [](const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); };
  INFO("worst answer during the stall: upgrade " << worst(upgrade_ms) << " ms, session upgrade " << worst(session_ms)
                                                 << " ms, REST " << worst(rest_ms) << " ms (timeout 500 ms)");
  CHECK(worst(upgrade_ms) < 500 + 1000);  // the deadline, plus a loaded machine's slack
  CHECK(worst(session_ms) < 500 + 1000);
  CHECK(worst(rest_ms) < 500 + 1000);
  CHECK(worst(upgrade_ms) >= 450);  // it did wait for Redis, then went ahead without it
  WARN("stall figures: upgrade " << worst(upgrade_ms) << " ms, session " << worst(session_ms) << " ms, REST "
                                 << worst(rest_ms) << " ms");

  // Redis back: everything works as before, the session included.
  REQUIRE(test::wait_until([&] {
    auto r = client::http_get("127.0.0.1", port, "/api/positions", 2s, {test::bearer_for("u-1")});
    return r.ok() && r->status == 200;
  }));
  CHECK(client::ws_client::connect({"127.0.0.1", port, "/ws"}, 5s,
                                   {{"Cookie", "sid=s-1"}, {"Origin", "https://app.example"}})
            .ok());
}
