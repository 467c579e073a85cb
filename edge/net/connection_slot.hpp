#pragma once
// Taking a user's slot under the tier-wide connection limit for a connection about to be served
// (at the upgrade, or after in-band authentication), within --redis-timeout-ms: a Redis that
// does not answer must not hold the connection up, and the limit is then not enforced (logged)
// rather than refusing everyone.

#include <boost/asio/any_io_executor.hpp>

#include <functional>
#include <string>

#include "edge/net/services.hpp"

namespace tickstream::edge {

struct slot_outcome {
  enum class kind { granted, over_limit, unchecked } what = kind::unchecked;
  // The lease to refresh and release: granted, or (unchecked) one Redis does not have yet, which
  // the first refresh Redis answers adds, so the connection counts from then on.
  std::string lease;
};

// Runs then(outcome) on ex once Redis answered or the deadline passed. A lease granted after the
// deadline is released at once (the connection went ahead without it). Needs svc.leases.
void take_connection_slot(services& svc, const boost::asio::any_io_executor& ex, const std::string& user,
                          const std::function<void(slot_outcome)>& then);

}  // namespace tickstream::edge
