#include "edge/portfolio/portfolio.hpp"

#include "common/fixed_decimal.hpp"

namespace tickstream::edge {

using common::fixed_decimal;

namespace {

constexpr int money_places = 2;
constexpr int percent_places = 2;

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
  const auto value = price->times(*qty);
  const auto cost = entry->times(*qty);
  if (!value || !cost) return false;
  const auto pnl = value->minus(*cost);
  if (!pnl) return false;
  std::optional<std::string> percent;
  if (!cost->is_zero()) {
    // pnl / |cost| × 100: a short's cost is negative, its pnl sign already says gain or loss.
    const auto hundred = pnl->times(fixed_decimal::from_int(100));
    const auto pct = hundred ? hundred->divided_by(cost->is_negative() ? cost->negated() : *cost, percent_places)
                             : std::nullopt;
    if (!pct) return false;
    percent = pct->to_string(percent_places);
  }
  p.current_price = std::string(price_text);
  p.market_value = value->to_string(money_places);
  p.unrealized_pnl = pnl->to_string(money_places);
  p.unrealized_pnl_percent = percent.value_or("0.00");
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
  auto equity = fixed_decimal::parse(a.cash);
  for (const auto& [symbol, p] : positions_) {
    const auto* price = price_of(symbol);
    // Without a price for every position, the broker's own figure is the better one.
    if (!equity || price == nullptr) return a;
    const auto px = fixed_decimal::parse(*price);
    const auto qty = signed_quantity(p);
    const auto value = px && qty ? px->times(*qty) : std::nullopt;
    equity = value ? equity->plus(*value) : std::nullopt;
  }
  if (!equity) return a;  // a number that does not parse: the account as the broker sent it
  a.equity = equity->to_string(money_places);
  a.portfolio_value = a.equity;
  return a;
}

}  // namespace tickstream::edge
