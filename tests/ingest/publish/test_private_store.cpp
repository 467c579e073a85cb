// The private-event store against a real redis-server.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>
#include <mutex>
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
  CHECK(server.cli({"XRANGE", "ts:{u:u1}:hist", "3-1", "3-1"}).find(R"("type":"position_update","userId":"u1","seq":3)") !=
        std::string::npos);
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
      {"10", "100.10", "10", "100.1"},             // opened
      {"5", "100.25", "15", "100.15"},             // (1001.00 + 501.25) / 15
      {"3", "99.99", "18", "100.1233333333"},      // 1802.22 / 18, to 10 places
      {"-8", "101", "10", "100.1233333333"},       // reduced: the average stays
      {"-15", "100.5", "-5", "100.5"},             // flipped short: the fill price
      {"-7", "100.8", "-12", "100.675"},           // added to the short: (502.5 + 705.6) / 12
  };
  for (const auto& s : steps) {
    INFO(s.fill_qty << " @ " << s.price);
    common::position_update p;
    p.header = header(5);
    p.symbol = "AAPL";
    p.side = s.position.front() == '-' ? "short" : "long";
    p.quantity = s.position.front() == '-' ? s.position.substr(1) : s.position;
    p.entry_price = s.price;
    p.fill = common::position_update::fill_info{s.fill_qty, s.price};
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
  flat.fill = common::position_update::fill_info{"12", "100.8"};
  std::atomic<int> done{0};
  store.store(flat, [&](common::result<std::int64_t> r) { done = r.ok() ? 1 : 2; });
  REQUIRE(wait_until([&] { return done.load() != 0; }));
  CHECK(server.cli({"HEXISTS", "ts:{u:u1}:pos", "AAPL"}) == "0\n");
}
