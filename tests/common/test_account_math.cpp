// The account arithmetic, checked against figures worked out by hand in the comments.

#include <catch2/catch.hpp>

#include "common/account/account_math.hpp"

using namespace tickstream::common;
using namespace tickstream::common::account;

namespace {

fixed_decimal d(const char* text) {
  auto v = fixed_decimal::parse(text);
  REQUIRE(v);
  return *v;
}
std::string s(const fixed_decimal& v) { return v.to_string(); }
position pos(const char* qty, const char* entry, const char* realized = "0") { return {d(qty), d(entry), d(realized)}; }
fill_effect filled(const position& before, const char* qty, const char* price) {
  auto e = apply_fill(before, {d(qty), d(price)});
  REQUIRE(e);
  return *e;
}

}  // namespace

TEST_CASE("fills open and add to a position: cash pays quantity x price, the entry price is the average", "[account]") {
  // Buy 4 @ 189.25 from flat: cash −757.00, 4 @ 189.25.
  auto a = filled(pos("0", "0"), "4", "189.25");
  CHECK(s(a.cash_change) == "-757");
  CHECK(s(a.after.quantity) == "4");
  CHECK(s(a.after.entry_price) == "189.25");
  CHECK(s(a.realized_change) == "0");
  // Then 6 @ 189.50: cash −1137.00; average (4 × 189.25 + 6 × 189.50) / 10 = (757 + 1137) / 10 = 189.4.
  auto b = filled(a.after, "6", "189.50");
  CHECK(s(b.cash_change) == "-1137");
  CHECK(s(b.after.quantity) == "10");
  CHECK(s(b.after.entry_price) == "189.4");
  // 1 @ 10 then 2 @ 11: (10 + 22) / 3 = 10.666…, kept to ten places rounded half up: 10.6666666667.
  auto c = filled(filled(pos("0", "0"), "1", "10").after, "2", "11");
  CHECK(s(c.after.entry_price) == "10.6666666667");
  // Fractional shares: 0.5 @ 100 then 0.25 @ 112: (50 + 28) / 0.75 = 104.
  auto f = filled(filled(pos("0", "0"), "0.5", "100").after, "0.25", "112");
  CHECK(s(f.after.entry_price) == "104");
  CHECK(s(f.cash_change) == "-28");
}

TEST_CASE("reducing and closing realize P&L against the average entry price, which stays", "[account]") {
  // Long 10 @ 189.4, sell 4 @ 192: realized (192 − 189.4) × 4 = 2.6 × 4 = 10.4; cash +768.
  auto a = filled(pos("10", "189.4"), "-4", "192");
  CHECK(s(a.cash_change) == "768");
  CHECK(s(a.realized_change) == "10.4");
  CHECK(s(a.after.quantity) == "6");
  CHECK(s(a.after.entry_price) == "189.4");
  CHECK(s(a.after.realized) == "10.4");
  // Sell the other 6 @ 188: realized (188 − 189.4) × 6 = −8.4; in all 10.4 − 8.4 = 2; flat.
  auto b = filled(a.after, "-6", "188");
  CHECK(s(b.cash_change) == "1128");
  CHECK(s(b.realized_change) == "-8.4");
  CHECK(s(b.after.realized) == "2");
  CHECK(b.after.quantity.is_zero());
  CHECK(b.after.entry_price.is_zero());
}

TEST_CASE("shorts: a sale from flat opens a short whose proceeds go to cash, a cover realizes", "[account]") {
  // Sell 5 @ 50 from flat: −5 @ 50, cash +250.
  auto a = filled(pos("0", "0"), "-5", "50");
  CHECK(s(a.after.quantity) == "-5");
  CHECK(s(a.after.entry_price) == "50");
  CHECK(s(a.cash_change) == "250");
  // Sell 5 more @ 52: −10 @ (250 + 260) / 10 = 51.
  auto more = filled(a.after, "-5", "52");
  CHECK(s(more.after.entry_price) == "51");
  // From −5 @ 50, buy 2 @ 45 to cover: realized −(45 − 50) × 2 = +10; −3 @ 50; cash −90.
  auto b = filled(a.after, "2", "45");
  CHECK(s(b.realized_change) == "10");
  CHECK(s(b.after.quantity) == "-3");
  CHECK(s(b.after.entry_price) == "50");
  CHECK(s(b.cash_change) == "-90");
}

TEST_CASE("a fill larger than the position flips it: the rest opens on the other side at the fill price", "[account]") {
  // Long 3 @ 20, sell 5 @ 25: closes 3 for (25 − 20) × 3 = 15, opens −2 @ 25; cash +125.
  auto a = filled(pos("3", "20"), "-5", "25");
  CHECK(s(a.realized_change) == "15");
  CHECK(s(a.after.quantity) == "-2");
  CHECK(s(a.after.entry_price) == "25");
  CHECK(s(a.cash_change) == "125");
  // Short −2 @ 25, buy 5 @ 24: closes 2 for −(24 − 25) × 2 = 2, opens 3 @ 24; realized 15 + 2 = 17;
  // cash −120.
  auto b = filled(a.after, "5", "24");
  CHECK(s(b.realized_change) == "2");
  CHECK(s(b.after.realized) == "17");
  CHECK(s(b.after.quantity) == "3");
  CHECK(s(b.after.entry_price) == "24");
  CHECK(s(b.cash_change) == "-120");
}

TEST_CASE("a fill of no quantity or one that overflows is refused", "[account]") {
  CHECK_FALSE(apply_fill(pos("1", "1"), {d("0"), d("5")}));
  const auto huge = d("99999999999999999999999999999999999999");
  CHECK_FALSE(apply_fill(pos("0", "0"), {huge, huge}));
}

TEST_CASE("a position is marked: market value, unrealized P&L and its percent of the cost", "[account]") {
  // 10 @ 189.4 at 191.37: value 1913.70, P&L (191.37 − 189.4) × 10 = 19.70,
  // 19.70 / 1894 × 100 = 1.0401… → 1.04.
  auto m = mark_position(pos("10", "189.4"), d("191.37"));
  REQUIRE(m);
  CHECK(m->market_value.to_string(2) == "1913.70");
  CHECK(m->unrealized.to_string(2) == "19.70");
  CHECK(m->unrealized_pct.to_string(2) == "1.04");
  // −5 @ 50 at 52: value −260, P&L (52 − 50) × −5 = −10, −10 / 250 × 100 = −4.
  auto sh = mark_position(pos("-5", "50"), d("52"));
  REQUIRE(sh);
  CHECK(sh->market_value.to_string(2) == "-260.00");
  CHECK(sh->unrealized.to_string(2) == "-10.00");
  CHECK(sh->unrealized_pct.to_string(2) == "-4.00");
}

TEST_CASE("the account: equity is cash plus long and short market value, day P&L from the last equity", "[account]") {
  SECTION("after buying 10 AAPL at an average 189.40, marked at 191.37 (a margin account)") {
    // cash 100000 − 1894 = 98106; long 10 × 191.37 = 1913.70; equity 100019.70;
    // day P&L 100019.70 − 100000 = 19.70, 19.70 / 100000 × 100 = 0.0197 → 0.02;
    // buying power 2 × (100019.70 − 1913.70 / 2) = 2 × 99062.85 = 198125.70.
    auto v = value_account(d("98106.00"), {{d("10"), d("191.37")}}, d("100000.00"), d("2"));
    REQUIRE(v);
    CHECK(v->long_market_value.to_string(2) == "1913.70");
    CHECK(v->short_market_value.to_string(2) == "0.00");
    CHECK(v->equity.to_string(2) == "100019.70");
    REQUIRE(v->day_pnl);
    CHECK(v->day_pnl->to_string(2) == "19.70");
    CHECK(v->day_pnl_percent->to_string(2) == "0.02");
    CHECK(v->buying_power.to_string(2) == "198125.70");
  }
  SECTION("a short: proceeds in cash, the liability in the short market value (a cash account)") {
    // Sold 5 @ 50 short: cash 100000 + 250 = 100250; marked at 52: short value −260;
    // equity 100250 − 260 = 99990; day P&L −10, −10 / 100000 × 100 = −0.01;
    // buying power 99990 − 260 (gross) = 99730 (= cash − 2 × 260).
    auto v = value_account(d("100250"), {{d("-5"), d("52")}}, d("100000"), d("1"));
    REQUIRE(v);
    CHECK(v->short_market_value.to_string(2) == "-260.00");
    CHECK(v->equity.to_string(2) == "99990.00");
    CHECK(v->day_pnl->to_string(2) == "-10.00");
    CHECK(v->day_pnl_percent->to_string(2) == "-0.01");
    CHECK(v->buying_power.to_string(2) == "99730.00");
  }
  SECTION("long and short together") {
    // cash 1000; long 2 × 30 = 60; short −3 × 10 = −30; equity 1000 + 60 − 30 = 1030.
    auto v = value_account(d("1000"), {{d("2"), d("30")}, {d("-3"), d("10")}}, std::nullopt, d("1"));
    REQUIRE(v);
    CHECK(v->long_market_value.to_string(2) == "60.00");
    CHECK(v->short_market_value.to_string(2) == "-30.00");
    CHECK(v->equity.to_string(2) == "1030.00");
    CHECK_FALSE(v->day_pnl);  // no previous close known
  }
  SECTION("buying power never goes below zero, and a zero last equity gives 0 percent") {
    // cash 100, short −100 × 1: equity 0, gross 100: 0 − 100 < 0 → 0.
    auto v = value_account(d("100"), {{d("-100"), d("1")}}, d("0"), d("1"));
    REQUIRE(v);
    CHECK(v->buying_power.is_zero());
    CHECK(v->day_pnl->to_string(2) == "0.00");
    CHECK(v->day_pnl_percent->to_string(2) == "0.00");
  }
}
