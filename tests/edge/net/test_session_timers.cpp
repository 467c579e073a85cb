#include <catch2/catch.hpp>

#include "edge/net/session_timers.hpp"

using namespace tickstream::edge;
using namespace std::chrono_literals;
using end_kind = session_timers::decision::end_kind;

namespace {

const session_timers::clock::time_point t0 = session_timers::clock::time_point(1000s);
constexpr std::int64_t wall0 = 1'800'000'000;  // wall-clock seconds at t0

session_timers::settings settings(std::chrono::milliseconds lease_refresh = 0ms) {
  session_timers::settings s;
  s.idle_timeout = 30s;
  s.token_expiry_warning = 60s;
  s.lease_refresh = lease_refresh;
  return s;
}

// decide() at t0 + dt.
session_timers::decision at(session_timers& t, std::chrono::milliseconds dt) {
  return t.decide(t0 + dt, wall0 + std::chrono::duration_cast<std::chrono::seconds>(dt).count());
}

}  // namespace

TEST_CASE("session timers: one ping after half the idle timeout of silence, closed at all of it", "[heartbeat]") {
  session_timers t(settings(), t0, std::nullopt);
  CHECK_FALSE(at(t, 14'999ms).ping);
  CHECK(at(t, 15s).ping);
  CHECK_FALSE(at(t, 16s).ping);  // once per silence
  CHECK(at(t, 29'999ms).end == end_kind::none);
  CHECK(at(t, 30s).end == end_kind::idle);
  // Traffic (a pong is traffic) starts the silence again.
  session_timers u(settings(), t0, std::nullopt);
  CHECK(at(u, 15s).ping);
  u.on_traffic(t0 + 20s);
  CHECK(at(u, 34s).end == end_kind::none);
  CHECK_FALSE(at(u, 34s).ping);
  CHECK(at(u, 35s).ping);
  CHECK(at(u, 50s).end == end_kind::idle);
  CHECK(at(u, 20s).tick_feed);
}

TEST_CASE("session timers: a token is warned once before it expires, and the connection ends at expiry",
          "[heartbeat][auth]") {
  session_timers t(settings(), t0, wall0 + 100);
  CHECK_FALSE(at(t, 39s).warn_expiry);
  CHECK(at(t, 40s).warn_expiry);  // 60 s before
  CHECK_FALSE(at(t, 41s).warn_expiry);
  t.on_traffic(t0 + 90s);
  CHECK(at(t, 99s).end == end_kind::none);
  CHECK(at(t, 100s).end == end_kind::token_expired);
  // A refresh moves the expiry and warns again before the new one.
  session_timers r(settings(), t0, wall0 + 100);
  CHECK(at(r, 40s).warn_expiry);
  r.on_refreshed(wall0 + 200);
  r.on_traffic(t0 + 100s);
  CHECK(at(r, 100s).end == end_kind::none);
  CHECK(at(r, 140s).warn_expiry);
  CHECK(r.expires_at_s() == wall0 + 200);
}

TEST_CASE("session timers: leases refresh on their cadence, a drain closes at its time", "[heartbeat]") {
  session_timers t(settings(10s), t0, std::nullopt);
  CHECK_FALSE(at(t, 9s).refresh_lease);
  CHECK(at(t, 10s).refresh_lease);
  CHECK_FALSE(at(t, 19s).refresh_lease);
  CHECK(at(t, 20s).refresh_lease);
  session_timers none(settings(), t0, std::nullopt);
  CHECK_FALSE(at(none, 20s).refresh_lease);  // no lease held

  CHECK(t.drain_at(t0 + 25s));
  CHECK_FALSE(t.drain_at(t0 + 21s));  // the first drain time stands
  CHECK(at(t, 24s).end == end_kind::none);
  const auto d = at(t, 25s);
  CHECK(d.end == end_kind::drain);
  CHECK(d.tick_feed);
  CHECK_FALSE(d.ping);
}

TEST_CASE("session timers: once closing, only the close handshake's deadline counts", "[heartbeat]") {
  session_timers t(settings(10s), t0, wall0 + 5);
  t.on_closing(t0 + 5s);
  const auto before = at(t, 4s);
  CHECK(before.end == end_kind::none);
  CHECK_FALSE(before.warn_expiry);
  CHECK_FALSE(before.ping);
  CHECK_FALSE(before.tick_feed);
  CHECK(at(t, 5s).end == end_kind::close_timeout);
}

TEST_CASE("session timers: a slow consumer is judged by what it takes, not by what it sends", "[heartbeat][slow]") {
  auto s = settings();
  s.max_unsent_bytes = 1000;
  s.stall_timeout = 30s;
  // Over the bound: at once.
  session_timers over(s, t0, std::nullopt);
  CHECK(over.decide(t0 + 1s, wall0, {1001}).end == end_kind::slow_consumer);
  // Under the bound but nothing taken for the stall timeout, however much the client sends.
  session_timers stalled(s, t0, std::nullopt);
  for (int i = 1; i < 30; ++i) {
    stalled.on_traffic(t0 + std::chrono::seconds(i));  // it keeps pinging
    CHECK(stalled.decide(t0 + std::chrono::seconds(i), wall0, {500}).end == end_kind::none);
  }
  stalled.on_traffic(t0 + 30s);
  CHECK(stalled.decide(t0 + 30s, wall0, {500}).end == end_kind::slow_consumer);
  // Progress (a write completed, the kernel's queue shrank) starts the stall clock again.
  session_timers reading(s, t0, std::nullopt);
  reading.on_write_progress(t0 + 20s);
  reading.on_traffic(t0 + 40s);
  CHECK(reading.decide(t0 + 40s, wall0, {500}).end == end_kind::none);
  CHECK(reading.decide(t0 + 50s, wall0, {500}).end == end_kind::slow_consumer);
  // Nothing waiting: nothing to stall on; data arriving later gets a whole stall timeout.
  session_timers idle_ok(s, t0, std::nullopt);
  idle_ok.on_traffic(t0 + 25s);
  CHECK(idle_ok.decide(t0 + 25s, wall0, {0}).end == end_kind::none);
  CHECK(idle_ok.decide(t0 + 45s, wall0, {10}).end == end_kind::none);
  // A silent client with data waiting ends as a slow consumer (4008), not by the idle rule.
  session_timers silent(s, t0, std::nullopt);
  CHECK(silent.decide(t0 + 30s, wall0, {10}).end == end_kind::slow_consumer);
  // ...also when its writes progressed after it last spoke, so that the stall clock is younger
  // than its silence (the never-reading client of the flow-control test, seen closing idle).
  session_timers silent_later(s, t0, std::nullopt);
  silent_later.on_write_progress(t0 + 20s);
  CHECK(silent_later.decide(t0 + 29s, wall0, {10}).end == end_kind::none);
  CHECK(silent_later.decide(t0 + 30s, wall0, {10}).end == end_kind::slow_consumer);
  session_timers silent_empty(s, t0, std::nullopt);
  CHECK(silent_empty.decide(t0 + 30s, wall0, {0}).end == end_kind::idle);
}

TEST_CASE("session timers: pings are spread over the window by each connection's phase", "[heartbeat]") {
  for (const double phase : {0.0, 0.5, 0.999}) {
    auto s = settings();
    s.ping_phase = phase;
    session_timers t(s, t0, std::nullopt);
    const auto due = 15'000ms + std::chrono::milliseconds(static_cast<long>(7'500 * phase));
    CHECK_FALSE(at(t, due - 1ms).ping);
    CHECK(at(t, due).ping);
    CHECK(at(t, 30s).end == end_kind::idle);  // the dead-peer guarantee does not move
  }
}

TEST_CASE("session timers: a connection's settings follow the edge's limits", "[heartbeat]") {
  session_limits limits;
  limits.idle_timeout = 20s;
  limits.token_expiry_warning = 45s;
  limits.queue.max_bytes = 1000;
  const auto leased = session_timers::for_limits(limits, 30s, 0.25);
  CHECK(leased.idle_timeout == 20s);
  CHECK(leased.stall_timeout == 20s);  // data waiting without progress for as long as silence may last
  CHECK(leased.token_expiry_warning == 45s);
  CHECK(leased.max_unsent_bytes == 1000);
  CHECK(leased.lease_refresh == 10s);  // a third of the lease's 30 s
  CHECK(leased.ping_phase == 0.25);
  CHECK(session_timers::for_limits(limits, 0ms, 0).lease_refresh == 0ms);  // no lease, no refresh
}

TEST_CASE("session timers: how each timed ending closes and what the client is told", "[heartbeat]") {
  // Our close frame went unanswered: the socket goes, nothing is sent or counted.
  const auto unanswered = session_timers::ending_for(end_kind::close_timeout);
  REQUIRE(unanswered);
  CHECK(unanswered->close_code == 0);
  CHECK(unanswered->end_reason == nullptr);
  CHECK(unanswered->client_error == nullptr);
  // An expired token: close 4001, counted as the client's error, no error frame.
  const auto expired = session_timers::ending_for(end_kind::token_expired);
  REQUIRE(expired);
  CHECK(expired->close_code == 4001);
  CHECK(std::string(expired->end_reason) == "token_expired");
  CHECK(std::string(expired->client_error) == "token_expired");
  CHECK(expired->error_message == nullptr);
  // No in-band authentication in time: an auth_timeout error frame, then close 4003.
  const auto unauthenticated = session_timers::ending_for(end_kind::auth_timeout);
  REQUIRE(unauthenticated);
  CHECK(unauthenticated->close_code == 4003);
  CHECK(std::string(unauthenticated->client_error) == "auth_timeout");
  CHECK(unauthenticated->error_message != nullptr);
  // Silent past the idle timeout: the socket is closed without a close frame.
  const auto idle = session_timers::ending_for(end_kind::idle);
  REQUIRE(idle);
  CHECK(idle->close_code == 0);
  CHECK(std::string(idle->end_reason) == "timeout");
  // The session words these itself, or they are no ending at all.
  CHECK_FALSE(session_timers::ending_for(end_kind::slow_consumer));
  CHECK_FALSE(session_timers::ending_for(end_kind::drain));
  CHECK_FALSE(session_timers::ending_for(end_kind::none));
}
