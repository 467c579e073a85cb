#pragma once
// The normalizer of each source by name, as raw captures and source adapters refer to them.

#include <cstdint>
#include <string>
#include <string_view>

#include "ingest/alpaca_market_normalizer.hpp"
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

  // nullptr for an unknown source name. Known: "finnhub", "alpaca" (market data v2).
  entry* find(std::string_view source);

 private:
  template <class N>
  class holder final : public entry {
   public:
    normalized normalize(std::string_view raw, std::int64_t recv_us) override { return n_.normalize(raw, recv_us); }

   private:
    N n_;
  };
  holder<finnhub_normalizer> finnhub_;
  holder<alpaca_market_normalizer> alpaca_;
};

inline source_normalizers::entry* source_normalizers::find(std::string_view source) {
  if (source == "finnhub") return &finnhub_;
  if (source == "alpaca") return &alpaca_;
  return nullptr;
}

}  // namespace tickstream::ingest
