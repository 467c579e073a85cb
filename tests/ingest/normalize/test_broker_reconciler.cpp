// Reconciliation with the broker's REST state: parsing Alpaca's documented response shapes and the
// events that bring the stored state to the broker's. Figures worked out by hand in the comments.
#include <catch2/catch.hpp>

#include "common/event_codec.hpp"
#include "ingest/normalize/broker_reconciler.hpp"

using namespace tickstream;
using namespace tickstream::ingest;

namespace {

constexpr std::int64_t now = 1'795'185'000'000'000;

// As Alpaca documents GET /v2/account (abridged: the fields we read, and some we do not).
const std::string account_body =
    R"({"id":"904837e3-3b76-47ec-b432-046db621571b","account_number":"PA2GP1NHP9Z6","status":"ACTIVE",)"
    R"("currency":"USD","cash":"98106.00","portfolio_value":"100019.7","equity":"100019.7",)"
    R"("last_equity":"100000","buying_power":"198125.4","multiplier":"2","long_market_value":"1913.7",)"
    R"("short_market_value":"0","initial_margin":"956.85","daytrade_count":0})";
// GET /v2/positions: AAPL long (predates the stream), TSLA short.
const std::string positions_body =
    R"([{"asset_id":"b0b6dd9d-8b9b-48a9-ba46-b9d54906e415","symbol":"AAPL","exchange":"NASDAQ","asset_class":"us_equity",)"
    R"("avg_entry_price":"189.4","qty":"10","side":"long","market_value":"1913.7","cost_basis":"1894",)"
    R"("unrealized_pl":"19.7","current_price":"191.37"},)"
    R"({"symbol":"TSLA","avg_entry_price":"250.5","qty":"-3","side":"short","market_value":"-745.5"}])";

common::account_update broker() {
  auto a = parse_broker_account(account_body, "u1", now);
  REQUIRE(a.ok());
  return std::move(a).value();
}
std::vector<common::position_update> broker_positions() {
  auto p = parse_broker_positions(positions_body, "u1", now);
  REQUIRE(p.ok());
  return std::move(p).value();
}
std::string stored_position(const std::string& symbol, const std::string& qty, const std::string& side,
                            const std::string& entry, std::int64_t seq) {
  common::position_update p;
  p.header = {"u1", seq, now - 1000, now - 1000, "alpaca-trading", {}};
  p.symbol = symbol;
  p.quantity = qty;
  p.side = side;
  p.entry_price = entry;
  p.realized_pnl = "12.50";
  return common::encode_event(p);
}

}  // namespace

TEST_CASE("the broker's account and positions are read from Alpaca's documented replies", "[reconcile]") {
  const auto a = broker();
  CHECK(a.header.source == "reconcile");
  CHECK(a.cash == "98106.00");
  CHECK(a.equity == "100019.7");
  CHECK(a.last_equity == "100000");
  CHECK(a.multiplier == "2");
  // dayPnl 100019.7 − 100000 = 19.70; 19.7 / 100000 × 100 = 0.0197 → 0.02.
  CHECK(a.day_pnl == "19.70");
  CHECK(a.day_pnl_percent == "0.02");
  const auto p = broker_positions();
  REQUIRE(p.size() == 2);
  CHECK(p[0].symbol == "AAPL");
  CHECK(p[0].quantity == "10");
  CHECK(p[0].side == "long");
  CHECK(p[0].entry_price == "189.4");
  CHECK(p[1].quantity == "3");
  CHECK(p[1].side == "short");
  CHECK(parse_broker_account(R"({"cash":"1"})", "u1", now).err().message == "field 'equity': is required");
  CHECK(parse_broker_positions(R"({"symbol":"AAPL"})", "u1", now).err().code == "invalid_broker_reply");
  CHECK(parse_broker_positions(R"([{"symbol":"AAPL","qty":"x","avg_entry_price":"1"}])", "u1", now).err().code ==
        "invalid_broker_reply");
}

TEST_CASE("reconciling: the broker's positions and account replace what differs, nothing else", "[reconcile]") {
  SECTION("nothing stored: every position (with the broker's average price) and the account") {
    const auto events = reconcile(std::nullopt, {}, broker(), broker_positions());
    REQUIRE(events.size() == 3);
    CHECK(std::get<common::position_update>(events[0]).entry_price == "189.4");
    CHECK(std::get<common::position_update>(events[1]).symbol == "TSLA");
    CHECK(std::holds_alternative<common::account_update>(events[2]));
  }
  SECTION("a missed fill: the stored quantity is short of the broker's") {
    // Stored 4 @ 189.25 (the second fill, 6 @ 189.50, never came); the broker has 10 @ 189.4.
    const auto stored_acct = common::encode_event(broker());
    const auto events = reconcile(
        stored_acct,
        {stored_position("AAPL", "4", "long", "189.25", 5), stored_position("TSLA", "3", "short", "250.50", 6)},
        broker(), broker_positions());
    REQUIRE(events.size() == 1);  // TSLA is the same (250.50 = 250.5), the account too
    const auto& p = std::get<common::position_update>(events[0]);
    CHECK(p.quantity == "10");
    CHECK(p.entry_price == "189.4");
    CHECK(p.realized_pnl == "12.50");  // kept: the broker does not report it per position
    CHECK(p.header.source == "reconcile");
  }
  SECTION("a position the broker no longer holds is closed, a provisional account replaced") {
    auto provisional = broker();
    provisional.provisional = true;
    const auto events =
        reconcile(common::encode_event(provisional),
                  {stored_position("AAPL", "10", "long", "189.4", 5), stored_position("TSLA", "3", "short", "250.5", 6),
                   stored_position("MSFT", "2", "long", "400", 7)},
                  broker(), broker_positions());
    REQUIRE(events.size() == 2);
    const auto& closed = std::get<common::position_update>(events[0]);
    CHECK(closed.symbol == "MSFT");
    CHECK(closed.quantity == "0");
    const auto& a = std::get<common::account_update>(events[1]);
    CHECK_FALSE(a.provisional);
    CHECK(a.cash == "98106.00");
  }
  SECTION("the same state twice: nothing to publish") {
    const auto events = reconcile(
        common::encode_event(broker()),
        {stored_position("AAPL", "10", "long", "189.40", 5), stored_position("TSLA", "3", "short", "250.5", 6)},
        broker(), broker_positions());
    CHECK(events.empty());
  }
  SECTION("a fee the broker charged: the cash differs, the account is replaced") {
    auto stored = broker();
    stored.cash = "98106.50";
    const auto events = reconcile(
        common::encode_event(stored),
        {stored_position("AAPL", "10", "long", "189.4", 5), stored_position("TSLA", "3", "short", "250.5", 6)},
        broker(), broker_positions());
    REQUIRE(events.size() == 1);
    CHECK(std::get<common::account_update>(events[0]).cash == "98106.00");
  }
}

namespace {

// GET /v2/orders as Alpaca documents an order (abridged).
std::string order_body(const std::string& id, const std::string& status, const std::string& filled) {
  return R"({"id":"b-)" + id + R"(","client_order_id":"o-)" + id +
         R"(","created_at":"2026-11-23T14:29:59Z","submitted_at":"2026-11-23T14:30:00Z","filled_at":null,)"
         R"("asset_class":"us_equity","symbol":"AAPL","notional":null,"qty":"10","filled_qty":")" +
         filled +
         R"(","filled_avg_price":null,"order_class":"","order_type":"limit","type":"limit","side":"buy",)"
         R"("time_in_force":"day","limit_price":"190","stop_price":null,"status":")" +
         status + R"("})";
}

std::vector<common::order_update> orders(const std::vector<std::string>& bodies) {
  std::string body = "[";
  for (const auto& b : bodies) body += (body.size() > 1 ? "," : "") + b;
  auto r = parse_broker_orders(body + "]", "u1", now);
  REQUIRE(r.ok());
  return std::move(r).value();
}

}  // namespace

TEST_CASE("the broker's orders parse as order updates from reconciliation", "[reconcile]") {
  const auto o = orders({order_body("7", "partially_filled", "4")});
  REQUIRE(o.size() == 1);
  CHECK(o[0].order_id == "o-7");
  CHECK(o[0].broker_order_id == "b-7");
  CHECK(o[0].status == "partially_filled");
  CHECK(o[0].filled_qty == "4");
  CHECK_FALSE(o[0].filled_avg_price);
  CHECK(o[0].header.source == "reconcile");
  CHECK_FALSE(parse_broker_orders("{}", "u1", now).ok());
  CHECK_FALSE(parse_broker_orders(R"([{"id":"b-1"}])", "u1", now).ok());
}

TEST_CASE("the orders read on either side of the snapshot say which fills it holds", "[reconcile]") {
  // Nothing moved between the reads: b-7 filled 4 of 10 (open), b-8 filled 10 (closed).
  auto r = compare_order_reads(orders({order_body("7", "partially_filled", "4"), order_body("8", "filled", "10")}),
                               orders({order_body("7", "partially_filled", "4")}));
  CHECK(r.consistent);
  CHECK(r.filled == std::map<std::string, std::string>{{"b-7", "4"}, {"b-8", "10"}});
  // b-7 filled further in between: the snapshot may hold 4 or 6 of it.
  CHECK_FALSE(compare_order_reads(orders({order_body("7", "partially_filled", "4")}),
                                  orders({order_body("7", "partially_filled", "6")}))
                  .consistent);
  // b-7 closed in between (filled or canceled: unknown).
  CHECK_FALSE(compare_order_reads(orders({order_body("7", "partially_filled", "4")}), orders({})).consistent);
  // A new order that already filled in between.
  CHECK_FALSE(compare_order_reads(orders({}), orders({order_body("9", "partially_filled", "1")})).consistent);
  CHECK(compare_order_reads(orders({}), orders({order_body("9", "new", "0")})).consistent);
}

TEST_CASE("stored open orders converge to the broker's open orders", "[reconcile]") {
  const auto stored_json = [](const common::order_update& o) { return common::encode_event(o); };
  const auto broker_open = orders({order_body("6", "new", "0"), order_body("7", "partially_filled", "4")});
  const auto recent =
      orders({order_body("5", "canceled", "0"), order_body("6", "new", "0"), order_body("7", "partially_filled", "4")});
  auto o5 = orders({order_body("5", "new", "0")})[0];
  auto o6 = orders({order_body("6", "new", "0")})[0];
  auto o7 = orders({order_body("7", "new", "0")})[0];
  auto o4 = orders({order_body("4", "new", "0")})[0];
  const auto diff =
      reconcile_orders({stored_json(o4), stored_json(o5), stored_json(o6), stored_json(o7)}, broker_open, recent);
  // o-6 is the same; o-7 moved (filled 4); o-5 is canceled at the broker; o-4 is in neither reply.
  REQUIRE(diff.events.size() == 2);
  CHECK(std::get<common::order_update>(diff.events[0]).order_id == "o-7");
  CHECK(std::get<common::order_update>(diff.events[0]).filled_qty == "4");
  CHECK(std::get<common::order_update>(diff.events[1]).order_id == "o-5");
  CHECK(std::get<common::order_update>(diff.events[1]).status == "canceled");
  CHECK(diff.unknown == std::vector<std::string>{"o-4"});
  // An open order the store never had is stored.
  CHECK(reconcile_orders({}, broker_open, recent).events.size() == 2);
}
