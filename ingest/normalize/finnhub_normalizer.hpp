#pragma once
// Finnhub's trade WebSocket (wss://ws.finnhub.io): {"type":"trade","data":[{"s","p","t","v","c"}]}
// batches, {"type":"ping"}, and {"type":"error","msg":...}. Pure: text in, events out.

#include <cstdint>
#include <string_view>

#include "ingest/normalize/normalized.hpp"
#include "ingest/normalize/tick_merger.hpp"

namespace tickstream::ingest {

class finnhub_normalizer {
 public:
  finnhub_normalizer() : merger_("finnhub") {}
  normalized normalize(std::string_view raw, std::int64_t recv_us);

 private:
  tick_merger merger_;
};

}  // namespace tickstream::ingest
