#include "edge/net/connection_slot.hpp"

#include "common/log.hpp"
#include "edge/net/deadline_call.hpp"

namespace tickstream::edge {

void take_connection_slot(services& svc, const boost::asio::any_io_executor& ex, const std::string& user,
                          const std::function<void(slot_outcome)>& then) {
  using answer = common::result<std::string>;
  // One lease id whatever happens: a connection accepted unchecked keeps the id its acquire asked
  // for, so when a stalled Redis runs that acquire late, the lease it adds is the connection's own
  // (counted at once, refreshed and released with it) rather than a stray one to take back.
  const auto id = svc.leases->next_lease_id();
  const auto unchecked = [then, id](const std::string& why) {
    common::log_warn("connection lease unavailable; accepting without the limit check", {{"reason", why}});
    then({slot_outcome::kind::unchecked, id});
  };
  call_with_deadline<answer>(
      ex, svc.redis_timeout,
      [&svc, user, id](std::function<void(answer)> deliver) { svc.leases->acquire(user, id, std::move(deliver)); },
      [then, unchecked](answer lease) {
        if (lease) return then({slot_outcome::kind::granted, std::move(lease).value()});
        if (lease.err().code == "max_connections") return then({slot_outcome::kind::over_limit, {}});
        unchecked(lease.err().message);
      },
      [unchecked] { unchecked("Redis did not answer within --redis-timeout-ms"); });
}

}  // namespace tickstream::edge
