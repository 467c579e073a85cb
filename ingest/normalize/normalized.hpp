#pragma once
// What a source's normalizer makes of one upstream message.

#include <string>
#include <vector>

#include "common/event.hpp"
#include "common/result.hpp"

namespace tickstream::ingest {

struct normalized {
  std::vector<common::event> events;    // ready to publish, in message order
  std::vector<common::error> problems;  // parts that could not be used (counted, logged, dead-lettered)
  std::vector<std::string> notices;     // protocol messages understood: "connected", "authenticated",
                                        // "subscribed", "ping", ...
};

}  // namespace tickstream::ingest
