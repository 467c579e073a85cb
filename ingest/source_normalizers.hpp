#pragma once
// The normalizer of each source by name, as raw captures and source adapters refer to them.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "ingest/alpaca_market_normalizer.hpp"
#include "ingest/alpaca_trading_normalizer.hpp"
#include "ingest/finnhub_normalizer.hpp"
#include "ingest/normalized.hpp"

namespace tickstream::ingest {

class source_normalizers {
 public:
  class entry {
   public:
    virtual ~entry() = default;
    virtual normalized normalize(std::string_view raw, std::int64_t recv_us) = 0;
  };

  // trading_user: the user the Alpaca trading stream's account maps to (empty: no such stream).
  explicit source_normalizers(std::string trading_user)
      : trading_user_(trading_user), alpaca_trading_(std::move(trading_user)) {}

  // nullptr for an unknown source name. Known: "finnhub", "alpaca" (market data v2),
  // "alpaca-trading" (trade_updates; only with a trading user).
  entry* find(std::string_view source);

 private:
  template <class N>
  class holder final : public entry {
   public:
    template <class... Args>
    explicit holder(Args&&... args) : n_(std::forward<Args>(args)...) {}
    normalized normalize(std::string_view raw, std::int64_t recv_us) override { return n_.normalize(raw, recv_us); }

   private:
    N n_;
  };
  std::string trading_user_;
  holder<finnhub_normalizer> finnhub_;
  holder<alpaca_market_normalizer> alpaca_;
  holder<alpaca_trading_normalizer> alpaca_trading_;
};

inline source_normalizers::entry* source_normalizers::find(std::string_view source) {
  if (source == "finnhub") return &finnhub_;
  if (source == "alpaca") return &alpaca_;
  if (source == "alpaca-trading" && !trading_user_.empty()) return &alpaca_trading_;
  return nullptr;
}

}  // namespace tickstream::ingest
