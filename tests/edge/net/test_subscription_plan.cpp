#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "edge/net/subscription_plan.hpp"
#include "edge/protocol/private_channels.hpp"

using namespace tickstream::edge;
using strings = std::vector<std::string>;

namespace {

subscription_request request(strings symbols, strings channels = {}, bool subscribe = true) {
  subscription_request r;
  r.subscribe = subscribe;
  r.symbols = std::move(symbols);
  r.channels = std::move(channels);
  return r;
}

strings codes(const std::vector<rejection>& rejected) {
  strings out;
  for (const auto& r : rejected) out.push_back(r.name + ":" + r.code);
  return out;
}

const std::string route = "{u}u-1";

}  // namespace

TEST_CASE("subscription plan: symbols normalized and deduplicated, bad entries rejected with a reason",
          "[subscriptions]") {
  subscription_holdings held;
  auto req = request({"aapl", "AAPL", "brk.b", "not a symbol", ""}, {"positions", "positions", "news"});
  const auto plan = plan_subscribe(req, held, route);
  CHECK(plan.symbols == strings{"AAPL", "BRK.B"});
  CHECK(plan.channels == strings{"positions"});
  CHECK(plan.channel_bits == channel_bits::positions);
  CHECK(codes(plan.rejected) == strings{"news:unknown_channel", "not a symbol:invalid_symbol", ":invalid_symbol"});
  CHECK_FALSE(plan.window);
}

TEST_CASE("subscription plan: anonymous connections get no private channel", "[subscriptions]") {
  subscription_holdings held;
  held.anonymous = true;
  auto req = request({"AAPL"}, {"orders", "account"});
  const auto plan = plan_subscribe(req, held, route);
  CHECK(plan.channel_bits == 0);
  CHECK(plan.channels.empty());
  CHECK(codes(plan.rejected) == strings{"orders:unauthenticated", "account:unauthenticated"});
  CHECK(plan.symbols == strings{"AAPL"});
}

TEST_CASE("subscription plan: the per-connection limit counts the user's route, not symbols held for P&L",
          "[subscriptions]") {
  subscription_holdings held;
  held.max_subscriptions = 3;
  held.keys = {"AAPL", "TSLA"};  // the client's AAPL, and TSLA followed for a position
  held.follow_only = {"TSLA"};
  // The route (new) counts: AAPL + route + one more symbol reach 3.
  auto req = request({"MSFT", "NVDA", "AAPL"}, {"positions"});
  auto plan = plan_subscribe(req, held, route);
  CHECK(plan.symbols == strings{"MSFT", "AAPL"});  // AAPL is already held: no new slot needed
  CHECK(codes(plan.rejected) == strings{"NVDA:too_many_subscriptions"});
  // A symbol held for P&L is taken over without a limit check (it already has its slot).
  subscription_holdings full = held;
  full.keys = {"AAPL", "MSFT", "NVDA", "TSLA"};
  full.follow_only = {"TSLA"};
  auto take = request({"TSLA", "AMD"});
  plan = plan_subscribe(take, full, route);
  CHECK(plan.symbols == strings{"TSLA"});
  CHECK(plan.taken_over == strings{"TSLA"});
  CHECK(codes(plan.rejected) == strings{"AMD:too_many_subscriptions"});
}

TEST_CASE("subscription plan: a client may widen its batching window, never narrow it", "[subscriptions][batching]") {
  subscription_holdings held;
  held.server_window = std::chrono::milliseconds(100);
  auto narrow = request({"AAPL"});
  narrow.batch_ms = 20;
  CHECK(plan_subscribe(narrow, held, route).window == std::chrono::milliseconds(100));
  auto wide = request({"AAPL"});
  wide.batch_ms = 1000;
  CHECK(plan_subscribe(wide, held, route).window == std::chrono::milliseconds(1000));
}

TEST_CASE("subscription plan: an unsubscribe releases what the client holds, keeps what P&L needs", "[subscriptions]") {
  subscription_holdings held;
  held.channel_bits = channel_bits::positions | channel_bits::orders;
  held.keys = {"AAPL", "MSFT", "TSLA", route};
  held.follow_only = {"TSLA"};       // followed only: not the client's to release
  held.followed = {"MSFT", "TSLA"};  // the user holds MSFT and TSLA positions
  auto req = request({"aapl", "MSFT", "TSLA", "NVDA"}, {"orders", "trades", "bogus"}, false);
  const auto plan = plan_unsubscribe(req, held);
  CHECK(plan.symbols == strings{"AAPL", "MSFT"});
  CHECK(plan.to_release == strings{"AAPL"});
  CHECK(plan.to_follow == strings{"MSFT"});   // ticks keep coming for P&L, no longer to the client
  CHECK(plan.channels == strings{"orders"});  // trades was not held
  CHECK(plan.channel_bits == channel_bits::orders);
}

TEST_CASE("subscription plan: anonymous, per-address and per-edge bounds refuse new symbols only",
          "[subscriptions][limits]") {
  subscription_holdings held;
  held.anonymous = true;
  held.max_subscriptions = 2;  // the anonymous limit, as the session passes it
  held.keys = {"AAPL"};
  auto req = request({"AAPL", "MSFT", "NVDA"});
  auto plan = plan_subscribe(req, held, route);
  CHECK(plan.symbols == strings{"AAPL", "MSFT"});
  CHECK(codes(plan.rejected) == strings{"NVDA:too_many_subscriptions"});
  CHECK(plan.rejected[0].reason.find("without authentication") != std::string::npos);
  CHECK(plan.new_symbols == 1);

  subscription_holdings by_address;
  by_address.address_room = 1;
  auto two = request({"MSFT", "NVDA"});
  plan = plan_subscribe(two, by_address, route);
  CHECK(plan.symbols == strings{"MSFT"});
  CHECK(codes(plan.rejected) == strings{"NVDA:too_many_subscriptions"});

  subscription_holdings full_edge;
  full_edge.channel_room = 0;
  full_edge.keys = {"AAPL"};
  auto mixed = request({"AAPL", "TSLA"});
  plan = plan_subscribe(mixed, full_edge, route);
  CHECK(plan.symbols == strings{"AAPL"});  // held already: no new channel needed
  CHECK(codes(plan.rejected) == strings{"TSLA:too_many_channels"});
  CHECK(plan.new_symbols == 0);
}

TEST_CASE("subscription plan: symbols outside the connection's entitlements are refused as not_entitled",
          "[subscriptions][entitlements]") {
  const entitlements us({"US:*", "AAPL"});
  subscription_holdings held;
  held.entitled = &us;
  auto req = request({"us:msft", "AAPL", "MSFT", "bad symbol"});
  const auto plan = plan_subscribe(req, held, route);
  CHECK(plan.symbols == strings{"US:MSFT", "AAPL"});
  CHECK(codes(plan.rejected) == strings{"MSFT:not_entitled", "bad symbol:invalid_symbol"});
  // Null: every symbol (the default).
  held.entitled = nullptr;
  auto again = request({"MSFT"});
  CHECK(plan_subscribe(again, held, route).symbols == strings{"MSFT"});
  // An anonymous connection with the public set only.
  const auto public_set = entitlements::parse("SPY,QQQ").value();
  held.anonymous = true;
  held.entitled = &public_set;
  auto anon = request({"spy", "AAPL"});
  const auto anon_plan = plan_subscribe(anon, held, route);
  CHECK(anon_plan.symbols == strings{"SPY"});
  CHECK(codes(anon_plan.rejected) == strings{"AAPL:not_entitled"});
}

TEST_CASE("subscription plan: topics validated, entitled and counted like symbols", "[subscriptions][topics]") {
  const entitlements plan_set({"US:*", "news", "signals:*"});
  subscription_holdings held;
  held.entitled = &plan_set;
  held.max_subscriptions = 3;
  held.keys = {"US:AAPL"};
  subscription_request req;
  req.topics = {"news", "news", "Bad Topic", "alerts", "signals:momentum", "signals:value"};
  const auto plan = plan_subscribe(req, held, route);
  CHECK(plan.topics == strings{"news", "signals:momentum"});
  CHECK(codes(plan.rejected) ==
        strings{"Bad Topic:invalid_topic", "alerts:not_entitled", "signals:value:too_many_subscriptions"});
  // A topic held already takes no new room; the edge's channel room counts new channels only.
  held.keys = {"US:AAPL", topic_route("news")};
  held.channel_room = 1;
  held.worker_holds = {topic_route("news")};
  subscription_request again;
  again.topics = {"news", "signals:a", "signals:b"};
  const auto second = plan_subscribe(again, held, route);
  CHECK(second.topics == strings{"news", "signals:a"});
  CHECK(codes(second.rejected) == strings{"signals:b:too_many_subscriptions"});
}

TEST_CASE("subscription plan: unsubscribing releases only the topics held", "[subscriptions][topics]") {
  subscription_holdings held;
  held.keys = {topic_route("news"), "AAPL"};
  subscription_request req;
  req.subscribe = false;
  req.topics = {"news", "alerts", "NOPE!"};
  const auto plan = plan_unsubscribe(req, held);
  CHECK(plan.topics == strings{"news"});
  CHECK(plan.symbols.empty());
}
