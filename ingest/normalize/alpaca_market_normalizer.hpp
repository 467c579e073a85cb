#pragma once
// Alpaca's market data v2 WebSocket (wss://stream.data.alpaca.markets/v2/{iex,sip}): every message
// is an array of objects tagged by "T": "t" trades, "q" quotes, "success" (connected,
// authenticated), "subscription" acknowledgements, "error" ({"code","msg"}); bars and the other
// kinds are read and ignored. Pure: text in, events out.

#include <cstdint>
#include <string_view>

#include "ingest/normalize/normalized.hpp"
#include "ingest/normalize/tick_merger.hpp"

namespace tickstream::ingest {

class alpaca_market_normalizer {
 public:
  alpaca_market_normalizer() : merger_("alpaca") {}
  normalized normalize(std::string_view raw, std::int64_t recv_us);

 private:
  tick_merger merger_;
};

}  // namespace tickstream::ingest
