// The private stream's sequence/gap/resync machine, driven by scripted state reads: no Redis, no
// sockets, no clock but the one the test moves.
#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "common/event_codec.hpp"
#include "edge/ops/edge_metrics.hpp"
#include "edge/portfolio/private_feed.hpp"
#include "edge/portfolio/private_frame.hpp"

using namespace tickstream;
using namespace tickstream::edge;
using namespace std::chrono_literals;

namespace {

const std::string user = "u-1";

std::string order_json(std::int64_t seq) {
  common::order_update o;
  o.header.user_id = user;
  o.header.seq = seq;
  o.header.time_us = 1'795'000'000'000'000 + seq;
  o.header.recv_time_us = o.header.time_us;
  o.header.source = "alpaca-trading";
  o.order_id = "o-" + std::to_string(seq);
  o.broker_order_id = "b-" + std::to_string(seq);
  o.symbol = "AAPL";
  o.side = "buy";
  o.order_type = "limit";
  o.status = "new";
  o.submitted_at_us = o.header.time_us;
  return common::encode_event(o);
}

frame_ptr order_frame(std::int64_t seq) {
  auto f = decode_private_frame(order_json(seq), user);
  REQUIRE(f);
  return std::move(f).value();
}

// The host side of a feed: records what it was asked to send; posted work runs when the test says.
struct recorder final : private_feed::host {
  std::vector<std::string> out;  // "seq:N" for events, the JSON "type" (and reason) for replies
  std::deque<std::function<void()>> posted;
  std::vector<std::string> follows;

  std::vector<frame_ptr> frames;  // everything delivered, for its content

  void feed_deliver(frame_ptr f) override {
    out.push_back("seq:" + std::to_string(f->seq));
    frames.push_back(std::move(f));
  }
  void feed_reply(std::string json) override {
    rapidjson::Document d;
    d.Parse(json.c_str());
    std::string what = d["type"].GetString();
    if (d.HasMember("reason")) what += std::string(":") + d["reason"].GetString();
    if (d.HasMember("seq")) what += "@" + std::to_string(d["seq"].GetInt64());
    out.push_back(what);
  }
  void feed_follow(const std::string& symbol, bool follow) override {
    follows.push_back((follow ? "+" : "-") + symbol);
  }
  std::function<void(std::function<void()>)> feed_poster() override {
    return [this](std::function<void()> fn) { posted.push_back(std::move(fn)); };
  }
  void feed_filter_prices(std::vector<std::pair<std::string, std::string>>&) override {}
  void run_posted() {
    while (!posted.empty()) {
      auto fn = std::move(posted.front());
      posted.pop_front();
      fn();
    }
  }
};

// Scripted Redis: each read waits for the test to answer it.
struct script {
  struct read {
    state_request req;
    std::function<void(common::result<private_state>)> done;
  };
  std::deque<read> pending;
  void answer(common::result<private_state> r) {
    REQUIRE_FALSE(pending.empty());
    auto rd = std::move(pending.front());
    pending.pop_front();
    rd.done(std::move(r));
  }
};

private_state state(std::int64_t seq, bool complete, std::vector<std::int64_t> history = {}) {
  private_state s;
  s.seq = seq;
  s.history_complete = complete;
  for (auto h : history) s.history.push_back(order_json(h));
  return s;
}

struct feed_fixture {
  recorder host;
  script redis;
  edge_metrics metrics;
  private_feed::clock::time_point now = private_feed::clock::time_point(10s);
  private_feed feed{host,
                    private_feed::context{[this](state_request r, auto done) {
                                            redis.pending.push_back({std::move(r), std::move(done)});
                                          },
                                          metrics, [this] { return now; }},
                    user};

  // A subscribe of the orders channel confirmed by Redis (optionally resuming).
  void subscribe(std::optional<std::int64_t> since = std::nullopt) {
    const auto ticket = feed.hold(channel_bits::orders);
    feed.sync(ticket, since, {}, true);
  }
  void reply(common::result<private_state> r) {
    redis.answer(std::move(r));
    host.run_posted();
  }
};

}  // namespace

TEST_CASE("private feed: snapshot, then live events once each and in order", "[private_feed]") {
  feed_fixture fx;
  fx.subscribe();
  REQUIRE(fx.redis.pending.size() == 1);
  CHECK(fx.redis.pending.front().req.after == -1);
  fx.feed.on_event(order_frame(6));  // arrives during the read: held
  fx.reply(state(5, false));
  fx.feed.on_event(order_frame(6));  // a duplicate
  fx.feed.on_event(order_frame(7));
  fx.feed.on_event(order_frame(5));  // older than the snapshot
  CHECK(fx.host.out == std::vector<std::string>{"snapshot@5", "seq:6", "seq:7"});
}

TEST_CASE("private feed: a stored event that cannot be replayed resyncs instead of skipping it", "[private_feed]") {
  // Resume after 3: the history holds 4, then an entry that does not decode, then 6.
  feed_fixture fx;
  fx.subscribe(3);
  auto st = state(6, true, {4});
  st.history.emplace_back("{not json");
  st.history.push_back(order_json(6));
  fx.reply(std::move(st));
  // Nothing is replayed past what cannot be: the client starts again from a snapshot at 6.
  CHECK(fx.host.out == std::vector<std::string>{"resync:history_unreadable@6"});
  fx.feed.on_event(order_frame(7));
  CHECK(fx.host.out.back() == "seq:7");
  // The same for an entry out of order (5 missing, so 6 follows 4).
  feed_fixture gap;
  gap.subscribe(3);
  gap.reply(state(6, true, {4, 6}));
  CHECK(gap.host.out == std::vector<std::string>{"resync:history_unreadable@6"});
}

TEST_CASE("private feed: a gap is filled from the history before anything later", "[private_feed]") {
  feed_fixture fx;
  fx.subscribe();
  fx.reply(state(3, false));
  fx.feed.on_event(order_frame(6));  // 4 and 5 were lost on the way
  REQUIRE(fx.redis.pending.size() == 1);
  CHECK(fx.redis.pending.front().req.after == 3);
  fx.feed.on_event(order_frame(7));  // held behind the read
  fx.reply(state(6, true, {4, 5, 6}));
  CHECK(fx.host.out == std::vector<std::string>{"snapshot@3", "seq:4", "seq:5", "seq:6", "seq:7"});
}

TEST_CASE("private feed: resume with since replays the missed events, or resyncs", "[private_feed]") {
  feed_fixture fx;
  fx.subscribe(2);
  CHECK(fx.redis.pending.front().req.after == 2);
  fx.reply(state(4, true, {3, 4}));
  CHECK(fx.host.out == std::vector<std::string>{"seq:3", "seq:4"});

  feed_fixture truncated;
  truncated.subscribe(2);
  truncated.reply(state(900, false));  // the history no longer reaches back to 2
  CHECK(truncated.host.out == std::vector<std::string>{"resync:history_truncated@900"});

  feed_fixture reset;
  reset.subscribe(50);
  reset.reply(state(7, false));  // Redis is behind the client: it lost data
  CHECK(reset.host.out == std::vector<std::string>{"resync:sequence_reset@7"});
  reset.feed.on_event(order_frame(8));
  CHECK(reset.host.out.back() == "seq:8");
}

TEST_CASE("private feed: a failed read is retried a second later, nothing lost meanwhile", "[private_feed]") {
  feed_fixture fx;
  fx.subscribe();
  fx.feed.on_event(order_frame(2));
  fx.reply(common::error{"connection_lost", "Redis went away"});
  CHECK(fx.host.out.empty());
  CHECK(fx.redis.pending.empty());
  fx.now += 999ms;
  fx.feed.tick(fx.now);
  CHECK(fx.redis.pending.empty());  // not yet
  fx.now += 1ms;
  fx.feed.tick(fx.now);
  REQUIRE(fx.redis.pending.size() == 1);
  fx.reply(state(1, false));
  CHECK(fx.host.out == std::vector<std::string>{"snapshot@1", "seq:2"});
}

TEST_CASE("private feed: a Redis reconnect makes the feed check the history for what pub/sub lost", "[private_feed]") {
  feed_fixture fx;
  fx.subscribe();
  fx.reply(state(4, false));
  fx.feed.on_resubscribed();
  REQUIRE(fx.redis.pending.size() == 1);
  CHECK(fx.redis.pending.front().req.after == 4);
  fx.reply(state(6, true, {5, 6}));
  CHECK(fx.host.out == std::vector<std::string>{"snapshot@4", "seq:5", "seq:6"});
  // A reconnect during a read: checked again once that read is done.
  fx.feed.on_event(order_frame(8));  // a gap: a read starts
  fx.feed.on_resubscribed();
  fx.reply(state(8, true, {7, 8}));
  REQUIRE(fx.redis.pending.size() == 1);
  CHECK(fx.redis.pending.front().req.after == 8);
  fx.reply(state(8, true));
  CHECK(fx.host.out == std::vector<std::string>{"snapshot@4", "seq:5", "seq:6", "seq:7", "seq:8"});
}

TEST_CASE("private feed: too many events held during a read are read back from the history", "[private_feed]") {
  feed_fixture fx;
  fx.subscribe();
  for (std::int64_t seq = 2; seq <= 10'002; ++seq) fx.feed.on_event(order_frame(seq));  // past the bound
  fx.reply(state(1, false));
  // The held events were dropped: a gap check reads them back instead.
  REQUIRE(fx.redis.pending.size() == 1);
  CHECK(fx.redis.pending.front().req.after == 1);
  std::vector<std::int64_t> missed;
  for (std::int64_t seq = 2; seq <= 10'002; ++seq) missed.push_back(seq);
  fx.reply(state(10'002, true, missed));
  REQUIRE(fx.host.out.size() == 10'002);
  CHECK(fx.host.out.front() == "snapshot@1");
  for (std::size_t i = 1; i < fx.host.out.size(); ++i) CHECK(fx.host.out[i] == "seq:" + std::to_string(i + 1));
}

TEST_CASE("private feed: dropping every channel ignores a late reply and forgets the stream", "[private_feed]") {
  feed_fixture fx;
  fx.subscribe();
  CHECK(fx.feed.drop(channel_bits::orders) == 0);
  fx.reply(state(9, false));  // the read that was in flight
  CHECK(fx.host.out.empty());
  fx.feed.on_event(order_frame(10));
  CHECK(fx.host.out.empty());
}

TEST_CASE("private feed: a symbol held for the first time is marked at once from its last tick, labelled with it",
          "[private_feed]") {
  feed_fixture fx;
  const auto ticket = fx.feed.hold(channel_bits::positions | channel_bits::account);
  fx.feed.sync(ticket, std::nullopt, {}, true);
  // The snapshot: cash 98106.00 after buying 10 @ 189.40 (the account as ingest moved it).
  common::account_update a;
  a.header = {user, 1, 1'795'000'000'000'000, 1'795'000'000'000'000, "alpaca-trading", {}};
  a.equity = a.portfolio_value = "100000.00";
  a.buying_power = "200000.00";
  a.cash = "98106.00";
  a.day_pnl = a.day_pnl_percent = "0.00";
  a.last_equity = "100000.00";
  a.provisional = true;
  auto snap = state(1, true);
  snap.account = common::encode_event(a);
  fx.reply(snap);
  REQUIRE(fx.redis.pending.empty());
  // The fill's position arrives: AAPL is new, and no tick of it has come yet.
  common::position_update p;
  p.header = {user, 2, 1'795'000'000'000'100, 1'795'000'000'000'100, "alpaca-trading", {}};
  p.symbol = "AAPL";
  p.quantity = "10";
  p.entry_price = "189.4";
  p.side = "long";
  auto pf = decode_private_frame(common::encode_event(p), user);
  REQUIRE(pf);
  fx.feed.on_event(pf.value());
  // Its last tick is read at once (prices only, no user state).
  REQUIRE(fx.redis.pending.size() == 1);
  CHECK(fx.redis.pending.front().req.user_id.empty());
  CHECK(fx.redis.pending.front().req.symbols == std::vector<std::string>{"AAPL"});
  common::price_update tick;
  tick.symbol = "AAPL";
  tick.price = "191.37";
  tick.source_time_us = 1'795'000'000'000'050;
  tick.recv_time_us = 1'795'000'000'000'060;
  tick.source = "finnhub";
  private_state prices;
  prices.prices.emplace_back("AAPL", common::encode_event(tick));
  const auto before = fx.host.frames.size();
  fx.reply(prices);
  // A position mark and an account mark, both labelled with the tick that priced them:
  // (191.37 − 189.4) × 10 = 19.70; equity 98106.00 + 1913.70 = 100019.70, day P&L 19.70.
  REQUIRE(fx.host.frames.size() == before + 2);
  for (std::size_t i = before; i < fx.host.frames.size(); ++i) {
    const auto& f = *fx.host.frames[i];
    CHECK(f.seq == 0);
    CHECK(f.source == "finnhub");
    CHECK(f.time_us == tick.source_time_us);
  }
  auto pos = common::decode_event(fx.host.frames[before]->payload());
  REQUIRE(pos);
  CHECK(std::get<common::position_update>(pos.value()).unrealized_pnl == "19.70");
  auto acct = common::decode_event(fx.host.frames[before + 1]->payload());
  REQUIRE(acct);
  const auto& marked = std::get<common::account_update>(acct.value());
  CHECK(marked.equity == "100019.70");
  CHECK(marked.day_pnl == "19.70");
  CHECK(marked.provisional);
  CHECK(fx.redis.pending.empty());  // nothing more is read
}
