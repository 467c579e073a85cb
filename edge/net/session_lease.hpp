#pragma once
// One connection's lease under the tier-wide connection limit (connection_leases): held from the
// upgrade or from in-band authentication, refreshed at the heartbeat sweep when due or when Redis
// was reached again (it may have come back empty), released the moment the connection ends.
//
// Threading: owned by one session, used on its worker thread only.

#include <string>

#include "edge/auth/connection_leases.hpp"

namespace tickstream::edge {

class session_lease {
 public:
  // leases: null when the tier-wide limit is off. lease: the one taken at the upgrade (or empty).
  session_lease(connection_leases* leases, std::string lease);
  ~session_lease() = default;
  session_lease(const session_lease&) = delete;
  session_lease& operator=(const session_lease&) = delete;

  bool held() const noexcept { return !lease_.empty(); }
  // Takes over a lease granted later (after in-band authentication). False if lease is empty.
  bool adopt(std::string lease);
  // Refreshes the lease if due, or if Redis was reached again since the last refresh: the lease is
  // put back before anyone can take this connection's slot.
  void refresh(const std::string& user, bool due);
  // Gives the slot back (at most once).
  void release(const std::string& user);

 private:
  connection_leases* leases_;
  std::string lease_;        // emptied once released
  std::uint64_t epoch_ = 0;  // connection_leases::epoch() at the last refresh
};

}  // namespace tickstream::edge
