#include "common/account/account_math.hpp"

namespace tickstream::common::account {
namespace {

fixed_decimal abs_of(const fixed_decimal& d) { return d.is_negative() ? d.negated() : d; }
// -1, 0 or 1.
int sign_of(const fixed_decimal& d) { return d.is_zero() ? 0 : d.is_negative() ? -1 : 1; }

// Chains optional arithmetic: each step yields nullopt once one has overflowed.
std::optional<fixed_decimal> add(const std::optional<fixed_decimal>& a, const std::optional<fixed_decimal>& b) {
  return a && b ? a->plus(*b) : std::nullopt;
}
std::optional<fixed_decimal> sub(const std::optional<fixed_decimal>& a, const std::optional<fixed_decimal>& b) {
  return a && b ? a->minus(*b) : std::nullopt;
}
std::optional<fixed_decimal> mul(const std::optional<fixed_decimal>& a, const std::optional<fixed_decimal>& b) {
  return a && b ? a->times(*b) : std::nullopt;
}

}  // namespace

std::optional<fill_effect> apply_fill(const position& before, const fill& f) {
  if (f.quantity.is_zero()) return std::nullopt;
  const auto cash_change = mul(f.quantity, f.price);
  const auto q1 = add(before.quantity, f.quantity);
  if (!cash_change || !q1) return std::nullopt;
  fill_effect out{before, cash_change->negated(), fixed_decimal{}};
  out.after.quantity = *q1;
  const int s0 = sign_of(before.quantity);
  if (s0 == 0 || s0 == sign_of(f.quantity)) {
    // Opening or adding: (|q0| × avg0 + |fill| × price) / |q1|.
    const auto cost = add(mul(abs_of(before.quantity), before.entry_price), mul(abs_of(f.quantity), f.price));
    const auto avg = cost ? cost->divided_by(abs_of(*q1), price_places) : std::nullopt;
    if (!avg) return std::nullopt;
    out.after.entry_price = *avg;
    return out;
  }
  // Reducing, closing or flipping: the closed quantity realizes against the average entry.
  const bool flips = sign_of(*q1) == -s0;
  const fixed_decimal closed = flips ? abs_of(before.quantity) : abs_of(f.quantity);
  auto realized = mul(sub(f.price, before.entry_price), closed);
  if (realized && s0 < 0) realized = realized->negated();
  const auto total = add(before.realized, realized);
  if (!total) return std::nullopt;
  out.realized_change = *realized;
  out.after.realized = *total;
  if (flips) {
    out.after.entry_price = f.price;  // the rest opens on the other side at the fill's price
  } else if (q1->is_zero()) {
    out.after.entry_price = fixed_decimal{};
  }
  return out;
}

std::optional<mark> mark_position(const position& p, const fixed_decimal& price) {
  const auto value = price.times(p.quantity);
  const auto cost = p.entry_price.times(p.quantity);
  const auto pnl = sub(value, cost);
  if (!pnl) return std::nullopt;
  mark m{*value, *pnl, fixed_decimal{}};
  if (!cost->is_zero()) {
    const auto pct = mul(pnl, fixed_decimal::from_int(100));
    const auto r = pct ? pct->divided_by(abs_of(*cost), percent_places) : std::nullopt;
    if (!r) return std::nullopt;
    m.unrealized_pct = *r;
  }
  return m;
}

std::optional<valuation> value_account(const fixed_decimal& cash, const std::vector<holding>& holdings,
                                       const std::optional<fixed_decimal>& last_equity,
                                       const fixed_decimal& multiplier) {
  valuation v;
  for (const auto& h : holdings) {
    const auto mv = h.quantity.times(h.price);
    if (!mv) return std::nullopt;
    auto& side = mv->is_negative() ? v.short_market_value : v.long_market_value;
    const auto sum = side.plus(*mv);
    if (!sum) return std::nullopt;
    side = *sum;
  }
  const auto equity = add(add(cash, v.long_market_value), v.short_market_value);
  const auto gross = sub(v.long_market_value, v.short_market_value);
  if (!equity || !gross) return std::nullopt;
  v.equity = *equity;
  if (last_equity) {
    v.day_pnl = equity->minus(*last_equity);
    if (!v.day_pnl) return std::nullopt;
    if (last_equity->is_zero()) {
      v.day_pnl_percent = fixed_decimal{};
    } else {
      const auto pct = mul(v.day_pnl, fixed_decimal::from_int(100));
      v.day_pnl_percent = pct ? pct->divided_by(abs_of(*last_equity), percent_places) : std::nullopt;
      if (!v.day_pnl_percent) return std::nullopt;
    }
  }
  const auto above_one = multiplier.minus(fixed_decimal::from_int(1));
  const bool margin = above_one && !above_one->is_negative() && !above_one->is_zero();
  std::optional<fixed_decimal> bp;
  if (margin) {
    const auto half = fixed_decimal::parse("0.5");
    bp = mul(multiplier, sub(equity, mul(gross, half)));
  } else {
    bp = sub(equity, gross);
  }
  if (!bp) return std::nullopt;
  v.buying_power = bp->is_negative() ? fixed_decimal{} : *bp;
  return v;
}

}  // namespace tickstream::common::account
