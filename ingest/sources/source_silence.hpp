#pragma once
// When a live source that stays connected but sends nothing counts as stale: after its silence
// threshold, except a market feed outside its trading hours (a closed market is quiet, not
// broken). A pure function of the times it is given; ingest reports the verdict in the source's
// heartbeat ("silent": true), and edges treat such a heartbeat as they treat a disconnected one.

#include <cstdint>

namespace tickstream::ingest {

struct silence_rule {
  std::int64_t after_ms = 0;        // silent for this long: stale (0: never by silence)
  bool trading_hours_only = false;  // a market feed: only silence while the market is open counts
};

// The US equities regular session: Monday to Friday, 09:30 to 16:00 New York time (daylight
// saving by the US rules in force since 2007). Exchange holidays and half days are not known: on a
// holiday a market feed with a silence threshold shows stale during the session.
bool us_equities_open(std::int64_t unix_us) noexcept;

// Whether a source whose last sign of life (its last message, or the moment it connected if
// later) was at since_us is silent at now_us under rule. With trading_hours_only, the silence must
// lie within one open session: the market open now and open `after_ms` ago, so a feed is not called
// silent at the opening bell for the night's quiet.
bool is_silent(const silence_rule& rule, std::int64_t since_us, std::int64_t now_us) noexcept;

}  // namespace tickstream::ingest
