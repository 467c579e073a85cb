#pragma once
// The arithmetic a trader sees, as the broker (Alpaca) does it: a fill moves cash and the
// position, the position keeps its average entry price and realized P&L, and the account is
// valued from cash and the market value of every position. Pure and exact (fixed_decimal): no
// clock, no I/O. Ingest applies fills with it; the edge marks positions and the account with it.
//
// Signs: a quantity is signed (+ long, − short); a short's market value is negative, and
// equity = cash + long market value + short market value (Alpaca's definition), so the proceeds
// of a short sale sit in cash and its liability in the short market value.

#include <optional>
#include <vector>

#include "common/fixed_decimal.hpp"

namespace tickstream::common::account {

// Digits kept for an average entry price that does not divide exactly (then rounded half away
// from zero); money is shown to the cent only when written (money_places).
inline constexpr int price_places = 10;
inline constexpr int money_places = 2;
inline constexpr int percent_places = 2;

struct position {
  fixed_decimal quantity;     // signed: + long, − short, 0 flat
  fixed_decimal entry_price;  // average entry price of the open quantity (0 when flat)
  fixed_decimal realized;     // realized P&L of the closed quantity so far
};

// One execution: signed quantity (+ buy, − sell) at price.
struct fill {
  fixed_decimal quantity;
  fixed_decimal price;
};

struct fill_effect {
  position after;
  fixed_decimal cash_change;      // − quantity × price: a buy pays, a sell (or short sale) receives
  fixed_decimal realized_change;  // P&L realized by the quantity this fill closed
};

// The position after f. Adding to a position (or opening one) averages the entry price by
// quantity; reducing or closing it keeps the average and realizes (price − entry) × closed
// quantity (the sign reversed for a short); a fill larger than the position closes it and opens
// the rest on the other side at the fill's price. nullopt on overflow or a zero quantity.
std::optional<fill_effect> apply_fill(const position& before, const fill& f);

// A position valued at a price.
struct mark {
  fixed_decimal market_value;    // quantity × price (negative when short)
  fixed_decimal unrealized;      // (price − entry) × quantity
  fixed_decimal unrealized_pct;  // unrealized / |entry × quantity| × 100, percent_places; 0 when flat
};
std::optional<mark> mark_position(const position& p, const fixed_decimal& price);

// One held position for valuing the account: signed quantity and the price it is marked at.
struct holding {
  fixed_decimal quantity;
  fixed_decimal price;
};

struct valuation {
  fixed_decimal long_market_value;               // >= 0
  fixed_decimal short_market_value;              // <= 0
  fixed_decimal equity;                          // cash + long + short market value
  std::optional<fixed_decimal> day_pnl;          // equity − last_equity (none without last_equity)
  std::optional<fixed_decimal> day_pnl_percent;  // day_pnl / last_equity × 100 (0 when last_equity is 0)
  fixed_decimal buying_power;
};

// Values an account. Buying power, as the broker's margin rules give it between two of its
// reports: with a multiplier above 1 (a margin account), multiplier × (equity − initial margin),
// the initial margin being half the gross market value (Reg T); with multiplier 1 (a cash
// account), cash less twice any short market value, i.e. equity − gross market value. Never
// below 0. nullopt on overflow.
std::optional<valuation> value_account(const fixed_decimal& cash, const std::vector<holding>& holdings,
                                       const std::optional<fixed_decimal>& last_equity,
                                       const fixed_decimal& multiplier);

}  // namespace tickstream::common::account
