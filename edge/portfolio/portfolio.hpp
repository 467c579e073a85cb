#pragma once
// One user's positions and account as a connection has received them, marked to market with the
// latest tick of each held symbol (live P&L at the edge). Pure: no sockets, no Redis, no clocks.
//
// Arithmetic is exact (common::fixed_decimal): marketValue and unrealizedPnl are rounded half away
// from zero to the cent, unrealizedPnlPercent to two places, only when written.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/event.hpp"

namespace tickstream::edge {

// Fills position's currentPrice, marketValue, unrealizedPnl and unrealizedPnlPercent from price:
// marketValue = ±quantity × price (negative when short), unrealizedPnl = ±(price − entryPrice) ×
// quantity, unrealizedPnlPercent = unrealizedPnl / (entryPrice × quantity) × 100. Returns false
// (and leaves position unchanged) when a number does not parse or overflows.
bool mark_position(common::position_update& position, std::string_view price);

class portfolio {
 public:
  // Replaces everything (a snapshot); prices of symbols still held are kept.
  void reset(std::vector<common::position_update> positions, std::optional<common::account_update> account);
  // A stored private event: a position_update replaces (or, at quantity 0, removes) its symbol's
  // position, an account_update the account; other kinds change nothing.
  void apply(const common::event& ev);
  // The latest price of symbol; false when symbol is not held or the price is unchanged.
  bool set_price(std::string_view symbol, std::string_view price);
  void forget_price(std::string_view symbol) { prices_.erase(std::string(symbol)); }

  bool holds(std::string_view symbol) const { return positions_.find(symbol) != positions_.end(); }
  bool has_account() const noexcept { return account_.has_value(); }
  const std::optional<common::account_update>& account() const noexcept { return account_; }
  std::vector<std::string> symbols() const;
  const std::string* price_of(std::string_view symbol) const;

  // The stored position with its price-dependent fields filled from the latest price (as stored
  // when no price is known yet).
  std::optional<common::position_update> marked_position(std::string_view symbol) const;
  // The account valued at the latest prices (common/account/account_math.hpp): equity and
  // portfolioValue = cash + long and short market value, dayPnl(Percent) from lastEquity when the
  // broker sent one, buyingPower when it sent its multiplier; as stored while a position has no
  // price yet, or if a number does not parse.
  std::optional<common::account_update> marked_account() const;

 private:
  std::map<std::string, common::position_update, std::less<>> positions_;
  std::map<std::string, std::string, std::less<>> prices_;  // held symbols only
  std::optional<common::account_update> account_;
};

}  // namespace tickstream::edge
