#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include "edge/ops/admin_stats.hpp"
#include "edge/ops/readiness.hpp"

using namespace tickstream::edge;
using namespace std::chrono_literals;

TEST_CASE("readiness: both connections up and a probe back within three intervals", "[ops]") {
  readiness r(200ms);
  CHECK(r.check(false, true, 1'000'000) == "redis_command_down");
  CHECK(r.check(true, false, 1'000'000) == "redis_subscriber_down");
  CHECK(r.check(true, true, 1'000'000) == "probe_not_returning");  // none yet
  r.on_probe(readiness::probe_payload(1'000'000), 1'002'500);
  CHECK(r.round_trip_seconds() == Approx(0.0025));
  CHECK(r.check(true, true, 1'002'500 + 600'000).empty());
  CHECK(r.check(true, true, 1'002'500 + 600'001) == "probe_not_returning");  // wedged subscriber
  r.on_probe("not ours", 2'000'000);  // still proves delivery; the round trip stays
  CHECK(r.check(true, true, 2'100'000).empty());
  CHECK(r.round_trip_seconds() == Approx(0.0025));
}

TEST_CASE("admin stats: totals, quantiles, and user ids escaped", "[ops]") {
  admin_stats s;
  s.node = "edge-1";
  s.connections_per_worker = {3, 4};
  s.top_users = {{R"(u"1\)", 2}};
  s.subscriptions = 9;
  s.redis_channels = 5;
  s.latency_bounds = {0.001, 0.01};
  s.latency_window = {10, 0, 0};
  s.disconnects_last_minute = 30;
  rapidjson::Document d;
  d.Parse(render_admin_stats(s).c_str());
  REQUIRE_FALSE(d.HasParseError());
  CHECK(d["connections"]["total"].GetUint64() == 7);
  CHECK(d["connections"]["top_users"][0]["user"].GetString() == std::string(R"(u"1\)"));
  CHECK(d["subscriptions"]["redis_channels"].GetUint64() == 5);
  CHECK(d["delivery_latency_seconds"]["samples"].GetUint64() == 10);
  CHECK(d["delivery_latency_seconds"]["p99"].GetDouble() <= 0.001);
  CHECK(d["disconnects"]["per_second"].GetDouble() == Approx(0.5));
}
