// The private-event store against a real redis-server.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/event_codec.hpp"
#include "common/redis/redis_client.hpp"
#include "ingest/publish/private_store.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;
using test::wait_until;

namespace {

common::private_header header(std::int64_t t) {
  common::private_header h;
  h.user_id = "u1";
  h.time_us = 1'795'185'000'000'000 + t;
  h.recv_time_us = 1'795'185'000'000'000 + t;
  h.source = "test";
  return h;
}

common::order_update order(const std::string& status, const std::string& filled) {
  common::order_update o;
  o.header = header(1);
  o.order_id = "o-1";
  o.broker_order_id = "b-1";
  o.symbol = "AAPL";
  o.side = "buy";
  o.order_type = "limit";
  o.status = status;
  o.qty = "10";
  o.filled_qty = filled;
  o.submitted_at_us = 1'795'185'000'000'000;
  return o;
}

common::trade_executed trade(const std::string& id) {
  common::trade_executed t;
  t.header = header(2);
  t.execution_id = id;
  t.order_id = "o-1";
  t.symbol = "AAPL";
  t.side = "buy";
  t.qty = "4";
  t.price = "189.25";
  return t;
}

}  // namespace

TEST_CASE("each private event gets the next seq, history, snapshot and one publish", "[store]") {
  test::redis_server server;
  std::mutex mu;
  std::vector<std::string> published;
  common::redis_options so;
  so.port = server.port();
  so.subscriber = true;
  common::redis_client sub(so, [&](std::string_view ch, std::string_view payload) {
    if (ch != "ts:{u:u1}") return;
    std::lock_guard lock(mu);
    published.emplace_back(payload);
  });
  std::atomic<bool> active{false};
  sub.set_activation_handler([&](const common::channel_activation&) { active = true; });
  sub.start();
  sub.subscribe("ts:{u:u1}", 1);
  REQUIRE(wait_until([&] { return active.load(); }));

  common::redis_options po;
  po.port = server.port();
  common::redis_client redis(po);
  redis.start();
  ingest::private_store store(redis, 1000);
  std::mutex rmu;
  std::vector<std::int64_t> results;
  const auto put = [&](common::event ev) {
    store.store(std::move(ev), [&](common::result<std::int64_t> r) {
      std::lock_guard lock(rmu);
      results.push_back(r.ok() ? r.value() : -1);
    });
  };
  common::position_update pos;
  pos.header = header(3);
  pos.symbol = "AAPL";
  pos.quantity = "4";
  pos.entry_price = "189.25";
  pos.side = "long";
  common::account_update acct;
  acct.header = header(4);
  acct.equity = acct.portfolio_value = "100000.00";
  acct.buying_power = "200000.00";
  acct.cash = "99243.00";
  acct.day_pnl = "0.00";
  acct.day_pnl_percent = "0.00";

  put(order("new", "0"));
  put(trade("x-1"));
  put(trade("x-1"));  // duplicate delivery: dropped
  put(pos);
  put(order("filled", "10"));
  put(acct);
  REQUIRE(wait_until([&] {
    std::lock_guard lock(rmu);
    return results.size() == 6;
  }));
  CHECK(results == std::vector<std::int64_t>{1, 2, 0, 3, 4, 5});

  // History: stream ids are the sequence numbers.
  CHECK(server.cli({"XLEN", "ts:{u:u1}:hist"}) == "5\n");
  CHECK(server.cli({"XRANGE", "ts:{u:u1}:hist", "3-1", "3-1"})
            .find(R"("type":"position_update","userId":"u1","seq":3)") != std::string::npos);
  // Snapshot: the filled order is no longer open; position and account are there.
  CHECK(server.cli({"HLEN", "ts:{u:u1}:orders"}) == "0\n");
  CHECK(server.cli({"HGET", "ts:{u:u1}:pos", "AAPL"}).find(R"("quantity":"4")") != std::string::npos);
  CHECK(server.cli({"GET", "ts:{u:u1}:acct"}).find(R"("seq":5)") != std::string::npos);
  // Published once each, in order, with the seq in place, and each a valid event.
  REQUIRE(wait_until([&] {
    std::lock_guard lock(mu);
    return published.size() == 5;
  }));
  for (std::size_t i = 0; i < published.size(); ++i) {
    auto ev = common::decode_event(published[i]);
    REQUIRE(ev.ok());
    std::visit(
        [&](const auto& e) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(e)>, common::price_update>) {
            CHECK(e.header.seq == static_cast<std::int64_t>(i + 1));
          }
        },
        ev.value());
  }
}

TEST_CASE("sequence numbers stay gap-free per user with several workers storing at once", "[store]") {
  test::redis_server server;
  constexpr int workers = 3;
  constexpr int per_worker = 400;
  std::mutex mu;
  std::vector<std::int64_t> seqs;
  std::vector<std::unique_ptr<common::redis_client>> clients;
  std::vector<std::unique_ptr<ingest::private_store>> stores;
  for (int w = 0; w < workers; ++w) {
    common::redis_options o;
    o.port = server.port();
    clients.push_back(std::make_unique<common::redis_client>(o));
    clients.back()->start();
    stores.push_back(std::make_unique<ingest::private_store>(*clients.back(), 100'000));
  }
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < per_worker; ++i) {
        auto t = trade("w" + std::to_string(w) + "-" + std::to_string(i));
        stores[static_cast<std::size_t>(w)]->store(t, [&](common::result<std::int64_t> r) {
          std::lock_guard lock(mu);
          seqs.push_back(r.ok() ? r.value() : -1);
        });
      }
    });
  }
  for (auto& t : threads) t.join();
  REQUIRE(wait_until([&] {
    std::lock_guard lock(mu);
    return seqs.size() == workers * per_worker;
  }));
  std::sort(seqs.begin(), seqs.end());
  for (std::size_t i = 0; i < seqs.size(); ++i) REQUIRE(seqs[i] == static_cast<std::int64_t>(i + 1));
  CHECK(server.cli({"XLEN", "ts:{u:u1}:hist"}) == std::to_string(workers * per_worker) + "\n");
}

TEST_CASE("the average entry price follows fills exactly", "[store]") {
  test::redis_server server;
  common::redis_options o;
  o.port = server.port();
  common::redis_client redis(o);
  redis.start();
  ingest::private_store store(redis, 1000);
  // Each step: the fill (signed quantity, price) and the position after it.
  struct step {
    std::string fill_qty, price, position, expected_entry;
  };
  const std::vector<step> steps = {
      {"10", "100.10", "10", "100.1"},         // opened
      {"5", "100.25", "15", "100.15"},         // (1001.00 + 501.25) / 15
      {"3", "99.99", "18", "100.1233333333"},  // 1802.22 / 18, to 10 places
      {"-8", "101", "10", "100.1233333333"},   // reduced: the average stays
      {"-15", "100.5", "-5", "100.5"},         // flipped short: the fill price
      {"-7", "100.8", "-12", "100.675"},       // added to the short: (502.5 + 705.6) / 12
  };
  for (const auto& s : steps) {
    INFO(s.fill_qty << " @ " << s.price);
    common::position_update p;
    p.header = header(5);
    p.symbol = "AAPL";
    p.side = s.position.front() == '-' ? "short" : "long";
    p.quantity = s.position.front() == '-' ? s.position.substr(1) : s.position;
    p.entry_price = s.price;
    p.fill = common::position_update::fill_info{s.fill_qty, s.price, {}, {}};
    std::atomic<int> done{0};
    store.store(p, [&](common::result<std::int64_t> r) { done = r.ok() ? 1 : 2; });
    REQUIRE(wait_until([&] { return done.load() != 0; }));
    REQUIRE(done.load() == 1);
    const auto stored = server.cli({"HGET", "ts:{u:u1}:pos", "AAPL"});
    CHECK(stored.find(R"("entryPrice":")" + s.expected_entry + "\"") != std::string::npos);
  }
  // Closing the position removes it from the snapshot.
  common::position_update flat;
  flat.header = header(6);
  flat.symbol = "AAPL";
  flat.side = "long";
  flat.quantity = "0";
  flat.entry_price = "100.8";
  flat.fill = common::position_update::fill_info{"12", "100.8", {}, {}};
  std::atomic<int> done{0};
  store.store(flat, [&](common::result<std::int64_t> r) { done = r.ok() ? 1 : 2; });
  REQUIRE(wait_until([&] { return done.load() != 0; }));
  CHECK(server.cli({"HEXISTS", "ts:{u:u1}:pos", "AAPL"}) == "0\n");
}

namespace {

// A store on its own redis-server, storing one event at a time.
struct one_by_one {
  test::redis_server server;
  common::redis_client redis{[this] {
    common::redis_options o;
    o.port = server.port();
    return o;
  }()};
  ingest::private_store store{redis, 1000};
  one_by_one() { redis.start(); }
  // The seq stored, 0 for a duplicate; fails the test on an error.
  std::int64_t put(common::event ev) {
    std::atomic<int> state{0};
    std::int64_t seq = -1;
    std::string why;
    store.store(std::move(ev), [&](common::result<std::int64_t> r) {
      seq = r.ok() ? r.value() : -1;
      if (!r) why = r.err().code + ": " + r.err().message;
      state = 1;
    });
    REQUIRE(wait_until([&] { return state.load() == 1; }));
    INFO(why);
    REQUIRE(seq >= 0);
    return seq;
  }
  common::account_update account() {
    auto d = common::decode_event(server.cli({"GET", "ts:{u:u1}:acct"}));
    REQUIRE(d.ok());
    return std::get<common::account_update>(d.value());
  }
  common::position_update position(const std::string& symbol) {
    auto text = server.cli({"HGET", "ts:{u:u1}:pos", symbol});
    auto d = common::decode_event(text);
    REQUIRE(d.ok());
    return std::get<common::position_update>(d.value());
  }
};

common::account_update broker_account() {
  common::account_update a;
  a.header = header(1);
  a.header.source = "webhook";
  a.equity = a.portfolio_value = "100000.00";
  a.buying_power = "200000.00";
  a.cash = "100000.00";
  a.day_pnl = "0.00";
  a.day_pnl_percent = "0.00";
  a.last_equity = "100000.00";
  return a;
}

// A fill's position event as the trading normalizer makes it: the broker's position after it.
common::position_update fill_of(const std::string& signed_qty, const std::string& price, const std::string& position,
                                std::int64_t t) {
  common::position_update p;
  p.header = header(t);
  p.header.dedupe_id = "x:e" + std::to_string(t) + ":position";
  p.symbol = "AAPL";
  p.side = position.front() == '-' ? "short" : "long";
  p.quantity = position.front() == '-' ? position.substr(1) : position;
  p.entry_price = price;
  p.fill = common::position_update::fill_info{signed_qty, price, {}, {}};
  return p;
}

}  // namespace

TEST_CASE("a fill moves the stored account's cash, provisionally, and the position keeps its realized P&L", "[store]") {
  one_by_one s;
  REQUIRE(s.put(broker_account()) == 1);
  // Buy 10 @ 189.40: position seq 2, the account moved with it seq 3; cash 100000 − 1894 = 98106.00.
  CHECK(s.put(fill_of("10", "189.40", "10", 10)) == 2);
  auto a = s.account();
  CHECK(a.header.seq == 3);
  CHECK(a.cash == "98106.00");
  CHECK(a.provisional);
  CHECK(a.last_equity == "100000.00");  // kept from the broker's report
  CHECK(a.equity == "100000.00");       // valued by the edge at live prices, not here
  // Sell 4 @ 192: cash 98106 + 768 = 98874.00; realized (192 − 189.4) × 4 = 10.40.
  CHECK(s.put(fill_of("-4", "192", "6", 11)) == 4);
  CHECK(s.account().cash == "98874.00");
  auto p = s.position("AAPL");
  CHECK(p.quantity == "6");
  CHECK(p.entry_price == "189.4");
  CHECK(p.realized_pnl == "10.40");
  // Sell 10 @ 190: closes 6 for (190 − 189.4) × 6 = 3.60 (10.40 + 3.60 = 14.00 in all) and opens
  // a short of 4 @ 190 whose proceeds go to cash: 98874 + 1900 = 100774.00.
  CHECK(s.put(fill_of("-10", "190", "-4", 12)) == 6);
  p = s.position("AAPL");
  CHECK(p.side == "short");
  CHECK(p.quantity == "4");
  CHECK(p.entry_price == "190");
  CHECK(p.realized_pnl == "14.00");
  CHECK(s.account().cash == "100774.00");
  // The same fill delivered again changes nothing.
  CHECK(s.put(fill_of("-10", "190", "-4", 12)) == 0);
  CHECK(s.account().cash == "100774.00");
  CHECK(s.server.cli({"GET", "ts:{u:u1}:seq"}) == "7\n");
  // The broker's own report wins when it arrives: no longer provisional.
  auto report = broker_account();
  report.header = header(20);
  report.cash = "100773.50";  // less a fee we could not know
  CHECK(s.put(report) == 8);
  CHECK(s.account().cash == "100773.50");
  CHECK_FALSE(s.account().provisional);
}

TEST_CASE("the same broker message stored twice is stored once, whatever its type", "[store]") {
  one_by_one s;
  CHECK(s.put(broker_account()) == 1);
  CHECK(s.put(broker_account()) == 0);  // a webhook re-posted
  CHECK(s.put(order("new", "0")) == 2);
  CHECK(s.put(order("new", "0")) == 0);
  CHECK(s.put(order("partially_filled", "4")) == 3);  // a different transition of the same order
  CHECK(s.put(trade("x-9")) == 4);
  CHECK(s.put(trade("x-9")) == 0);
  common::position_update pos;
  pos.header = header(3);
  pos.symbol = "MSFT";
  pos.quantity = "2";
  pos.entry_price = "400";
  pos.side = "long";
  CHECK(s.put(pos) == 5);
  CHECK(s.put(pos) == 0);
  CHECK(s.server.cli({"XLEN", "ts:{u:u1}:hist"}) == "5\n");
}

TEST_CASE("a fill computed from state that changed meanwhile is refused by the script and read again", "[store]") {
  one_by_one s;
  REQUIRE(s.put(broker_account()) == 1);
  REQUIRE(s.put(fill_of("10", "100", "10", 10)) == 2);  // seq 2 position, seq 3 account
  // Two stores (two workers) on one pipeline: both read the position and account before either
  // writes, so the second write was computed from stale state; the script refuses it (the stored
  // seqs moved) and that store reads again. Without the check the first fill would be lost.
  ingest::private_store other(s.redis, 1000);
  std::atomic<int> done{0};
  std::vector<std::int64_t> seqs(2, -1);
  s.store.store(fill_of("5", "110", "15", 11), [&](common::result<std::int64_t> r) {
    seqs[0] = r.ok() ? r.value() : -1;
    ++done;
  });
  other.store(fill_of("5", "120", "20", 12), [&](common::result<std::int64_t> r) {
    seqs[1] = r.ok() ? r.value() : -1;
    ++done;
  });
  REQUIRE(wait_until([&] { return done.load() == 2; }));
  CHECK(seqs[0] > 0);
  CHECK(seqs[1] > 0);
  // Both fills moved the cash: 100000 − 1000 − 550 − 600 = 97850.00; average
  // (10 × 100 + 5 × 110 + 5 × 120) / 20 = 2150 / 20 = 107.5.
  CHECK(s.account().cash == "97850.00");
  CHECK(s.position("AAPL").entry_price == "107.5");
}

TEST_CASE("a user's events are stored in the order given, even behind a fill being applied", "[store]") {
  one_by_one s;
  // Given at once, without waiting: two fills, each with the order and trade events around it.
  std::atomic<int> done{0};
  const auto put = [&](common::event ev) {
    s.store.store(std::move(ev), [&](common::result<std::int64_t>) { ++done; });
  };
  put(broker_account());                // seq 1
  put(order("partially_filled", "4"));  // 2
  put(trade("x-1"));                    // 3
  put(fill_of("4", "100", "4", 10));    // 4 position, 5 account
  put(order("filled", "10"));           // 6
  put(trade("x-2"));                    // 7
  put(fill_of("6", "110", "10", 11));   // 8 position, 9 account
  REQUIRE(wait_until([&] { return done.load() == 7; }));
  std::vector<std::string> types;
  const auto hist = s.server.cli({"XRANGE", "ts:{u:u1}:hist", "-", "+"});
  // Each entry's envelope type (the order's own "type" is inside its data).
  for (auto at = hist.find("{\"type\":\""); at != std::string::npos; at = hist.find("{\"type\":\"", at + 1)) {
    const auto start = at + 9;
    types.push_back(hist.substr(start, hist.find('"', start) - start));
  }
  CHECK(types == std::vector<std::string>{"account_update", "order_update", "trade_executed", "position_update",
                                          "account_update", "order_update", "trade_executed", "position_update",
                                          "account_update"});
  // (4 × 100 + 6 × 110) / 10 = 1060 / 10 = 106; cash 100000 − 400 − 660 = 98940.00.
  CHECK(s.position("AAPL").entry_price == "106");
  CHECK(s.account().cash == "98940.00");
}

TEST_CASE("a fill a reconciliation already counted is recognised by its order's filled quantity", "[store]") {
  using fill = common::position_update::fill_info;
  // The broker's snapshot held order b-7 filled 6: its fills up to 6 are in it, the one to 10 not.
  CHECK(ingest::fill_already_reconciled(fill{"4", "189.25", "b-7", "4"}, "6"));
  CHECK(ingest::fill_already_reconciled(fill{"2", "189.50", "b-7", "6"}, "6.0"));
  CHECK_FALSE(ingest::fill_already_reconciled(fill{"4", "189.50", "b-7", "10"}, "6"));
  CHECK_FALSE(ingest::fill_already_reconciled(fill{"4", "189.50", "b-7", "10"}, std::nullopt));
  CHECK_FALSE(ingest::fill_already_reconciled(fill{"4", "189.50", "", ""}, "6"));  // an order unknown
}
