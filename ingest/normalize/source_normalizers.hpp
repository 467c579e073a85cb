#pragma once
// The sources by name, for replaying raw captures: each name maps to the same source_protocol a
// live connection uses, so a replayed message is read exactly as it was when it arrived.

#include <memory>
#include <string>
#include <string_view>

#include "ingest/normalize/source_protocol.hpp"

namespace tickstream::ingest {

class source_normalizers {
 public:
  // trading_user: the user the Alpaca trading stream's account maps to (empty: no such stream).
  explicit source_normalizers(std::string trading_user)
      : finnhub_(make_finnhub_protocol({})),
        alpaca_(make_alpaca_market_protocol({}, {}, {})),
        alpaca_trading_(trading_user.empty() ? nullptr
                                             : make_alpaca_trading_protocol({}, {}, std::move(trading_user))) {}

  // nullptr for an unknown source name. Known: "finnhub", "alpaca" (market data v2),
  // "alpaca-trading" (trade_updates; only with a trading user).
  source_protocol* find(std::string_view source) {
    if (source == finnhub_->name()) return finnhub_.get();
    if (source == alpaca_->name()) return alpaca_.get();
    if (alpaca_trading_ && source == alpaca_trading_->name()) return alpaca_trading_.get();
    return nullptr;
  }

 private:
  std::unique_ptr<source_protocol> finnhub_;
  std::unique_ptr<source_protocol> alpaca_;
  std::unique_ptr<source_protocol> alpaca_trading_;
};

}  // namespace tickstream::ingest
