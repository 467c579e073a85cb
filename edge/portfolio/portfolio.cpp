#include "edge/portfolio/portfolio.hpp"

#include "common/account/account_math.hpp"
#include "common/fixed_decimal.hpp"

namespace tickstream::edge {

using common::fixed_decimal;

namespace {

using common::account::money_places;
using common::account::percent_places;

bool is_flat(std::string_view quantity) { return quantity.find_first_not_of("0.") == std::string_view::npos; }

// ±quantity (negative when short).
std::optional<fixed_decimal> signed_quantity(const common::position_update& p) {
  auto q = fixed_decimal::parse(p.quantity);
  if (!q) return std::nullopt;
  return p.side == "short" ? q->negated() : *q;
}

}  // namespace

bool mark_position(common::position_update& p, std::string_view price_text) {
  const auto qty = signed_quantity(p);
  const auto entry = fixed_decimal::parse(p.entry_price);
  const auto price = fixed_decimal::parse(price_text);
  if (!qty || !entry || !price) return false;
  const auto m = common::account::mark_position({*qty, *entry, fixed_decimal{}}, *price);
  if (!m) return false;
  p.current_price = std::string(price_text);
  p.market_value = m->market_value.to_string(money_places);
  p.unrealized_pnl = m->unrealized.to_string(money_places);
  p.unrealized_pnl_percent = m->unrealized_pct.to_string(percent_places);
  return true;
}

void portfolio::reset(std::vector<common::position_update> positions, std::optional<common::account_update> account) {
  positions_.clear();
  for (auto& p : positions) {
    if (!is_flat(p.quantity)) positions_.insert_or_assign(p.symbol, std::move(p));
  }
  std::erase_if(prices_, [this](const auto& kv) { return !holds(kv.first); });
  account_ = std::move(account);
}

void portfolio::apply(const common::event& ev) {
  if (const auto* p = std::get_if<common::position_update>(&ev)) {
    if (is_flat(p->quantity)) {
      positions_.erase(p->symbol);
      prices_.erase(p->symbol);
    } else {
      positions_.insert_or_assign(p->symbol, *p);
    }
  } else if (const auto* a = std::get_if<common::account_update>(&ev)) {
    account_ = *a;
  }
}

bool portfolio::set_price(std::string_view symbol, std::string_view price) {
  if (!holds(symbol)) return false;
  const auto it = prices_.find(symbol);
  if (it == prices_.end()) {
    prices_.emplace(std::string(symbol), std::string(price));
    return true;
  }
  if (it->second == price) return false;
  it->second.assign(price);
  return true;
}

std::vector<std::string> portfolio::symbols() const {
  std::vector<std::string> out;
  out.reserve(positions_.size());
  for (const auto& [symbol, p] : positions_) out.push_back(symbol);
  return out;
}

const std::string* portfolio::price_of(std::string_view symbol) const {
  const auto it = prices_.find(symbol);
  return it == prices_.end() ? nullptr : &it->second;
}

std::optional<common::position_update> portfolio::marked_position(std::string_view symbol) const {
  const auto it = positions_.find(symbol);
  if (it == positions_.end()) return std::nullopt;
  auto p = it->second;
  if (const auto* price = price_of(symbol)) mark_position(p, *price);
  return p;
}

std::optional<common::account_update> portfolio::marked_account() const {
  if (!account_) return std::nullopt;
  auto a = *account_;
  const auto cash = fixed_decimal::parse(a.cash);
  if (!cash) return a;
  std::vector<common::account::holding> holdings;
  for (const auto& [symbol, p] : positions_) {
    const auto* price = price_of(symbol);
    // Without a price for every position, the broker's own figures are the better ones.
    if (price == nullptr) return a;
    const auto px = fixed_decimal::parse(*price);
    const auto qty = signed_quantity(p);
    if (!px || !qty) return a;  // a number that does not parse: the account as the broker sent it
    holdings.push_back({*qty, *px});
  }
  const auto last_equity = a.last_equity ? fixed_decimal::parse(*a.last_equity) : std::nullopt;
  const auto multiplier = a.multiplier ? fixed_decimal::parse(*a.multiplier) : std::nullopt;
  const auto v =
      common::account::value_account(*cash, holdings, last_equity, multiplier.value_or(fixed_decimal::from_int(1)));
  if (!v) return a;
  a.equity = v->equity.to_string(money_places);
  a.portfolio_value = a.equity;
  if (v->day_pnl) {
    a.day_pnl = v->day_pnl->to_string(money_places);
    a.day_pnl_percent = v->day_pnl_percent->to_string(percent_places);
  }
  // The broker's margin rules need its multiplier; without it, its buying power stands.
  if (multiplier) a.buying_power = v->buying_power.to_string(money_places);
  return a;
}

}  // namespace tickstream::edge
