// A connection's message rate as a pure function of the time: the rules docs/PROTOCOL.md gives
// for rate_limited, with made-up times (the end-to-end test in test_edge_flow_control.cpp checks
// the wiring with a real client).
#include <catch2/catch.hpp>

#include <algorithm>
#include <vector>

#include "edge/net/message_rate.hpp"

using namespace tickstream::edge;
using namespace std::chrono_literals;
using verdict = message_rate::verdict;

namespace {

const message_rate::clock::time_point t0 = message_rate::clock::time_point(1000s);

// n messages at `at`, and what each got.
std::vector<verdict> burst(message_rate& r, message_rate::clock::time_point at, int n) {
  std::vector<verdict> out;
  for (int i = 0; i < n; ++i) out.push_back(r.admit(at));
  return out;
}

long count(const std::vector<verdict>& v, verdict what) { return std::count(v.begin(), v.end(), what); }

}  // namespace

TEST_CASE("message rate: bursts of twice the rate pass, then one message per refill interval", "[limits]") {
  message_rate r(5, 200, t0);
  const auto first = burst(r, t0, 40);
  CHECK(count(first, verdict::take) == 10);  // twice 5 a second
  CHECK(first[9] == verdict::take);
  CHECK(first[10] == verdict::drop_and_tell);
  // 5 a second: one token every 200 ms, none before.
  CHECK(r.admit(t0 + 200ms) == verdict::take);
  CHECK(r.admit(t0 + 200ms) != verdict::take);
  message_rate early(5, 200, t0);
  CHECK(count(burst(early, t0, 10), verdict::take) == 10);
  CHECK(early.admit(t0 + 199ms) != verdict::take);
  // A quiet client gets its whole burst back, and no more than that.
  CHECK(count(burst(r, t0 + 60s, 12), verdict::take) == 10);
}

TEST_CASE("message rate: a flood gets one rate_limited error a second, the rest are dropped silently", "[limits]") {
  message_rate r(5, 1000, t0);
  const auto first = burst(r, t0, 40);
  CHECK(count(first, verdict::drop_and_tell) == 1);
  CHECK(count(first, verdict::drop) == 29);
  // Still flooding: told again once a second has passed since the last error, not before.
  CHECK(count(burst(r, t0 + 999ms, 20), verdict::drop_and_tell) == 0);
  CHECK(count(burst(r, t0 + 1s, 20), verdict::drop_and_tell) == 1);
  CHECK(count(burst(r, t0 + 1500ms, 20), verdict::drop_and_tell) == 0);
  CHECK(count(burst(r, t0 + 2s, 20), verdict::drop_and_tell) == 1);
}

TEST_CASE("message rate: past the allowed violations the connection is closed, and stays so", "[limits]") {
  message_rate r(5, 3, t0);
  const auto v = burst(r, t0, 15);
  CHECK(count(v, verdict::take) == 10);
  CHECK(v[10] == verdict::drop_and_tell);
  CHECK(v[11] == verdict::drop);
  CHECK(v[12] == verdict::drop);
  CHECK(v[13] == verdict::close);  // the fourth violation of three allowed
  CHECK(v[14] == verdict::close);
  // Messages within the rate still pass (the close is under way), a violation closes again.
  CHECK(r.admit(t0 + 10s) == verdict::take);
  CHECK(count(burst(r, t0 + 10s, 20), verdict::close) == 11);
}
