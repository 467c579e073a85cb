#include <catch2/catch.hpp>

#include "edge/portfolio/portfolio.hpp"

using namespace tickstream;

namespace {
common::position_update position(const char* symbol, const char* qty, const char* entry, const char* side) {
  common::position_update p;
  p.header.user_id = "u";
  p.header.seq = 3;
  p.symbol = symbol;
  p.quantity = qty;
  p.entry_price = entry;
  p.side = side;
  return p;
}
}  // namespace

TEST_CASE("a position is marked to market exactly, long and short", "[portfolio]") {
  auto p = position("AAPL", "10", "189.4", "long");
  REQUIRE(edge::mark_position(p, "191.37"));
  CHECK(*p.current_price == "191.37");
  CHECK(*p.market_value == "1913.70");
  CHECK(*p.unrealized_pnl == "19.70");
  CHECK(*p.unrealized_pnl_percent == "1.04");

  auto s = position("TSLA", "3", "250.10", "short");
  REQUIRE(edge::mark_position(s, "240.005"));
  CHECK(*s.market_value == "-720.02");  // -720.015 rounds away from zero
  CHECK(*s.unrealized_pnl == "30.29");  // (250.10 - 240.005) x 3 = 30.285
  CHECK(*s.unrealized_pnl_percent == "4.04");

  auto bad = position("X", "1", "not-a-number", "long");
  CHECK_FALSE(edge::mark_position(bad, "1"));
  CHECK_FALSE(bad.current_price);
}

TEST_CASE("the portfolio follows stored events and prices, and equity needs every price", "[portfolio]") {
  edge::portfolio book;
  common::account_update a;
  a.header.user_id = "u";
  a.cash = "1000.00";
  a.equity = "5000.00";
  a.portfolio_value = "5000.00";
  book.reset({position("AAPL", "10", "189.4", "long"), position("TSLA", "3", "250.10", "short")}, a);
  CHECK(book.symbols() == std::vector<std::string>{"AAPL", "TSLA"});
  CHECK(book.marked_account()->equity == "5000.00");  // TSLA has no price yet: the broker's figure
  CHECK(book.set_price("AAPL", "190"));
  CHECK_FALSE(book.set_price("AAPL", "190"));  // unchanged
  CHECK_FALSE(book.set_price("MSFT", "400"));  // not held
  CHECK(book.set_price("TSLA", "240"));
  CHECK(book.marked_account()->equity == "2180.00");     // 1000 + 1900 - 720
  CHECK(book.marked_position("AAPL")->header.seq == 3);  // a stored position keeps its seq

  book.apply(position("TSLA", "0", "0", "long"));  // closed
  CHECK_FALSE(book.holds("TSLA"));
  CHECK(book.marked_account()->equity == "2900.00");
}
