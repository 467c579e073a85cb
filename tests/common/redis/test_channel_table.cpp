// The channel table on its own: no sockets, no clock (time is passed in).
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "common/redis/channel_table.hpp"

using namespace tickstream::common;
using namespace std::chrono_literals;

namespace {

using strings = std::vector<std::string>;
constexpr const char* ctl = "ts:ctl";

// (channel, holder, tag, again) of each activation, for comparisons.
using told = std::vector<std::tuple<std::string, holder_id, std::uint64_t, bool>>;
told told_of(const channel_actions& a) {
  told out;
  for (const auto& x : a.activations) out.emplace_back(x.channel, x.holder, x.tag, x.again);
  return out;
}

// A connected table whose control channel Redis has confirmed.
channel_table connected_table(channel_table::time linger = 0ms) {
  channel_table t(ctl, linger);
  REQUIRE(t.connected().subscribe == strings{ctl});
  REQUIRE(t.subscribed(ctl).empty());
  return t;
}

}  // namespace

TEST_CASE("the first holder subscribes and every holder is told only once Redis confirms", "[channel_table]") {
  auto t = connected_table();
  auto a = t.acquire("ts:{md:AAPL}", 0, 7);
  CHECK(a.subscribe == strings{"ts:{md:AAPL}"});
  CHECK(a.activations.empty());
  CHECK(t.state("ts:{md:AAPL}") == channel_state::subscribing);
  // A second holder while the SUBSCRIBE is in flight: no second SUBSCRIBE, told with the first.
  CHECK(t.acquire("ts:{md:AAPL}", 1, 9).empty());
  CHECK(t.holders("ts:{md:AAPL}").size() == 2);
  CHECK(t.held_count() == 1);

  const auto confirmed = t.subscribed("ts:{md:AAPL}");
  CHECK(confirmed.subscribe.empty());
  CHECK(told_of(confirmed) == told{{"ts:{md:AAPL}", 0, 7, false}, {"ts:{md:AAPL}", 1, 9, false}});
  CHECK(t.state("ts:{md:AAPL}") == channel_state::active);

  // A holder joining an active channel is told at once.
  const auto late = t.acquire("ts:{md:AAPL}", 2, 3);
  CHECK(late.subscribe.empty());
  CHECK(told_of(late) == told{{"ts:{md:AAPL}", 2, 3, false}});
  CHECK(t.referenced_count() == 1);
}

TEST_CASE("the last holder leaving unsubscribes, the others only drop out of the route", "[channel_table]") {
  auto t = connected_table();
  t.acquire("ts:{md:AAPL}", 0, 1);
  t.acquire("ts:{md:AAPL}", 1, 1);
  t.subscribed("ts:{md:AAPL}");
  CHECK(t.release("ts:{md:AAPL}", 0, 0ms).empty());
  REQUIRE(t.holders("ts:{md:AAPL}").size() == 1);
  CHECK(t.holders("ts:{md:AAPL}")[0].id == 1);
  CHECK(t.release("ts:{md:AAPL}", 1, 0ms).unsubscribe == strings{"ts:{md:AAPL}"});
  CHECK(t.holders("ts:{md:AAPL}").empty());
  CHECK(t.state("ts:{md:AAPL}") == channel_state::unsubscribing);
  CHECK(t.held_count() == 0);
  CHECK(t.referenced_count() == 0);
  CHECK(t.unsubscribed("ts:{md:AAPL}").empty());
  CHECK(t.state("ts:{md:AAPL}") == channel_state::idle);
}

TEST_CASE("no SUBSCRIBE goes out while an UNSUBSCRIBE of the channel is in flight", "[channel_table]") {
  // hiredis 0.14 forgets a channel's callback when the UNSUBSCRIBE reply arrives: a SUBSCRIBE sent
  // before it would be confirmed into the void.
  auto t = connected_table();
  t.acquire("ts:churn", 0, 1);
  t.subscribed("ts:churn");
  REQUIRE(t.release("ts:churn", 0, 0ms).unsubscribe == strings{"ts:churn"});
  const auto again = t.acquire("ts:churn", 0, 2);
  CHECK(again.empty());
  CHECK(t.state("ts:churn") == channel_state::unsubscribing);
  // Only the UNSUBSCRIBE's confirmation sends the SUBSCRIBE, and only that one's tells the holder.
  CHECK(t.unsubscribed("ts:churn").subscribe == strings{"ts:churn"});
  CHECK(told_of(t.subscribed("ts:churn")) == told{{"ts:churn", 0, 2, false}});
}

TEST_CASE("everybody leaving while the SUBSCRIBE is in flight unsubscribes on its confirmation", "[channel_table]") {
  auto t = connected_table(5000ms);
  t.acquire("ts:gone", 0, 1);
  CHECK(t.release("ts:gone", 0, 0ms).empty());
  const auto confirmed = t.subscribed("ts:gone");
  CHECK(confirmed.unsubscribe == strings{"ts:gone"});  // no linger: it was never wanted while active
  CHECK(confirmed.activations.empty());
  CHECK(t.unsubscribed("ts:gone").empty());
  CHECK(t.state("ts:gone") == channel_state::idle);
}

TEST_CASE("a channel whose last holder left lingers, then is unsubscribed unless taken up again", "[channel_table]") {
  auto t = connected_table(1000ms);
  t.acquire("ts:linger", 0, 1);
  t.subscribed("ts:linger");

  SECTION("not taken up: unsubscribed exactly when the linger ends") {
    CHECK(t.release("ts:linger", 0, 10'000ms).empty());
    CHECK(t.state("ts:linger") == channel_state::active);
    CHECK(t.next_expiry() == std::optional(11'000ms));
    CHECK(t.expire(10'999ms).empty());
    CHECK(t.expire(11'000ms).unsubscribe == strings{"ts:linger"});
    CHECK_FALSE(t.next_expiry().has_value());
    CHECK(t.expire(20'000ms).empty());
  }
  SECTION("taken up within the linger: told at once, no round trip, and it does not expire") {
    t.release("ts:linger", 0, 10'000ms);
    const auto back = t.acquire("ts:linger", 1, 5);
    CHECK(back.subscribe.empty());
    CHECK(back.unsubscribe.empty());
    CHECK(told_of(back) == told{{"ts:linger", 1, 5, false}});
    CHECK(t.expire(11'000ms).empty());
    CHECK(t.state("ts:linger") == channel_state::active);
  }
  SECTION("taken up and released again: the linger counts from the second release") {
    t.release("ts:linger", 0, 10'000ms);
    t.acquire("ts:linger", 0, 2);
    t.release("ts:linger", 0, 10'500ms);
    CHECK(t.expire(11'000ms).empty());
    CHECK(t.next_expiry() == std::optional(11'500ms));
    CHECK(t.expire(11'500ms).unsubscribe == strings{"ts:linger"});
  }
  SECTION("a disconnect forgets a lingering channel") {
    t.release("ts:linger", 0, 10'000ms);
    t.disconnected();
    CHECK_FALSE(t.next_expiry().has_value());
    CHECK(t.connected().subscribe == strings{ctl});
  }
}

TEST_CASE("without a linger the last holder's channel is unsubscribed at once", "[channel_table]") {
  auto t = connected_table(0ms);
  t.acquire("ts:now", 0, 1);
  t.subscribed("ts:now");
  CHECK(t.release("ts:now", 0, 10'000ms).unsubscribe == strings{"ts:now"});
  CHECK_FALSE(t.next_expiry().has_value());
}

TEST_CASE("after a reconnect everything held is subscribed again and its holders are told again", "[channel_table]") {
  auto t = connected_table(1000ms);
  t.acquire("ts:{u:42}", 0, 3);
  t.acquire("ts:{md:AAPL}", 1, 4);
  t.subscribed("ts:{u:42}");
  t.subscribed("ts:{md:AAPL}");
  t.acquire("ts:lingers", 2, 1);
  t.subscribed("ts:lingers");
  t.release("ts:lingers", 2, 0ms);

  t.disconnected();
  CHECK_FALSE(t.is_connected());
  CHECK(t.state("ts:{u:42}") == channel_state::idle);
  // Held meanwhile: no SUBSCRIBE without a connection; the holder waits for its first confirmation.
  CHECK(t.acquire("ts:{u:42}", 5, 6).empty());
  CHECK(t.acquire("ts:new", 5, 7).empty());

  auto up = t.connected();
  REQUIRE(!up.subscribe.empty());
  CHECK(up.subscribe.front() == ctl);  // first, so hiredis stays in subscribed mode whatever follows
  std::sort(up.subscribe.begin() + 1, up.subscribe.end());
  CHECK(up.subscribe == strings{ctl, "ts:new", "ts:{md:AAPL}", "ts:{u:42}"});  // the lingering one is gone
  CHECK(up.activations.empty());  // only Redis's confirmations tell anybody

  // Holders confirmed before are told again (they may have missed messages); new ones for the first time.
  CHECK(told_of(t.subscribed("ts:{u:42}")) == told{{"ts:{u:42}", 0, 3, true}, {"ts:{u:42}", 5, 6, false}});
  CHECK(told_of(t.subscribed("ts:{md:AAPL}")) == told{{"ts:{md:AAPL}", 1, 4, true}});
  CHECK(told_of(t.subscribed("ts:new")) == told{{"ts:new", 5, 7, false}});
  // And on every later reconnect too.
  t.disconnected();
  t.connected();
  CHECK(told_of(t.subscribed("ts:{u:42}")) == told{{"ts:{u:42}", 0, 3, true}, {"ts:{u:42}", 5, 6, true}});
}

TEST_CASE("a channel acquired before the first connection is subscribed once connected", "[channel_table]") {
  channel_table t(ctl, 0ms);
  CHECK(t.acquire("ts:early", 0, 1).empty());
  CHECK(t.pin("ts:sys").empty());
  auto up = t.connected();
  std::sort(up.subscribe.begin() + 1, up.subscribe.end());
  CHECK(up.subscribe == strings{ctl, "ts:early", "ts:sys"});
  CHECK(told_of(t.subscribed("ts:early")) == told{{"ts:early", 0, 1, false}});
}

TEST_CASE("pinned channels and the control channel are never unsubscribed", "[channel_table]") {
  auto t = connected_table(0ms);
  CHECK(t.pin("ts:sys").subscribe == strings{"ts:sys"});
  CHECK(t.pin("ts:sys").empty());                     // pinned once is enough
  CHECK(t.subscribed("ts:sys").activations.empty());  // nobody to tell
  CHECK(t.referenced_count() == 1);                   // the control channel is not counted
  CHECK(t.held_count() == 0);

  // Holding and releasing a pinned channel never unsubscribes it.
  CHECK(told_of(t.acquire("ts:sys", 0, 1)) == told{{"ts:sys", 0, 1, false}});
  CHECK(t.release("ts:sys", 0, 0ms).empty());
  CHECK(t.acquire(ctl, 0, 1).activations.size() == 1);
  CHECK(t.release(ctl, 0, 0ms).empty());
  CHECK(t.state(ctl) == channel_state::active);
  CHECK(t.state("ts:sys") == channel_state::active);
  CHECK(t.referenced_count() == 1);

  t.disconnected();
  auto up = t.connected();
  CHECK(up.subscribe == strings{ctl, "ts:sys"});
}

TEST_CASE("a channel pinned while its UNSUBSCRIBE is in flight is subscribed again", "[channel_table]") {
  auto t = connected_table(0ms);
  t.acquire("ts:x", 0, 1);
  t.subscribed("ts:x");
  REQUIRE(t.release("ts:x", 0, 0ms).unsubscribe == strings{"ts:x"});
  CHECK(t.pin("ts:x").empty());
  CHECK(t.unsubscribed("ts:x").subscribe == strings{"ts:x"});
}

TEST_CASE("confirmations that do not match the state are ignored", "[channel_table]") {
  auto t = connected_table();
  CHECK(t.subscribed("ts:unknown").empty());
  CHECK(t.unsubscribed("ts:unknown").empty());
  t.acquire("ts:a", 0, 1);
  CHECK(t.unsubscribed("ts:a").empty());  // it is being subscribed, not unsubscribed
  t.subscribed("ts:a");
  CHECK(t.subscribed("ts:a").empty());  // confirmed twice: told once
  CHECK(t.holders("ts:unknown").empty());
  CHECK(t.state("ts:unknown") == channel_state::idle);
}

TEST_CASE("a channel released while disconnected is forgotten at once", "[channel_table]") {
  channel_table t(ctl, 1000ms);
  t.acquire("ts:a", 0, 1);
  CHECK(t.release("ts:a", 0, 0ms).empty());
  CHECK(t.referenced_count() == 0);
  CHECK(t.connected().subscribe == strings{ctl});
}

TEST_CASE("a refused SUBSCRIBE lets go of that channel's holders and nothing else", "[channel_table]") {
  auto t = connected_table();
  REQUIRE(t.acquire("ts:{md:AAPL}", 0, 1).subscribe == strings{"ts:{md:AAPL}"});
  REQUIRE(t.acquire("ts:{md:DENIED}", 0, 2).subscribe == strings{"ts:{md:DENIED}"});
  REQUIRE(t.acquire("ts:{md:DENIED}", 1, 3).empty());
  CHECK(t.held_count() == 2);

  const auto r = t.refused("ts:{md:DENIED}", "NOPERM no access");
  CHECK(r.subscribe.empty());
  CHECK(r.unsubscribe.empty());
  REQUIRE(r.refusals.size() == 2);
  CHECK(r.refusals[0].channel == "ts:{md:DENIED}");
  CHECK(r.refusals[0].holder == 0);
  CHECK(r.refusals[0].tag == 2);
  CHECK(r.refusals[1].holder == 1);
  CHECK(r.refusals[1].reason == "NOPERM no access");
  CHECK(t.holders("ts:{md:DENIED}").empty());
  CHECK(t.held_count() == 1);
  CHECK(t.referenced_count() == 1);
  // A holder that had not heard yet may still let go: nothing happens.
  CHECK(t.release("ts:{md:DENIED}", 1, 0ms).empty());
  // The other channel carries on.
  CHECK(told_of(t.subscribed("ts:{md:AAPL}")) == told{{"ts:{md:AAPL}", 0, 1, false}});
  // Taken again later (an ACL may have changed): a fresh SUBSCRIBE.
  CHECK(t.acquire("ts:{md:DENIED}", 1, 4).subscribe == strings{"ts:{md:DENIED}"});
  // A refusal of a channel not being subscribed (stale) changes nothing.
  CHECK(t.refused("ts:{md:AAPL}", "late").empty());
  CHECK(t.state("ts:{md:AAPL}") == channel_state::active);
}

TEST_CASE("a channel Redis ended by itself is subscribed again and its holders told again", "[channel_table]") {
  auto t = connected_table(10ms);
  REQUIRE(t.acquire("ts:{u:7}", 0, 5).subscribe == strings{"ts:{u:7}"});
  REQUIRE(told_of(t.subscribed("ts:{u:7}")) == told{{"ts:{u:7}", 0, 5, false}});
  const auto d = t.dropped("ts:{u:7}");
  CHECK(d.subscribe == strings{"ts:{u:7}"});
  CHECK(d.activations.empty());
  CHECK(t.state("ts:{u:7}") == channel_state::subscribing);
  CHECK(told_of(t.subscribed("ts:{u:7}")) == told{{"ts:{u:7}", 0, 5, true}});
  // A lingering channel nobody holds is simply forgotten.
  REQUIRE(t.acquire("ts:{md:X}", 0, 1).subscribe == strings{"ts:{md:X}"});
  REQUIRE(t.subscribed("ts:{md:X}").activations.size() == 1);
  REQUIRE(t.release("ts:{md:X}", 0, 0ms).empty());
  CHECK(t.dropped("ts:{md:X}").empty());
  CHECK(t.state("ts:{md:X}") == channel_state::idle);
  CHECK(t.expire(100ms).empty());
}
