#include "edge/net/connection_slot.hpp"

#include "common/log.hpp"
#include "edge/net/deadline_call.hpp"

namespace tickstream::edge {

void take_connection_slot(services& svc, const boost::asio::any_io_executor& ex, const std::string& user,
                          const std::function<void(slot_outcome)>& then) {
  using answer = common::result<std::string>;
  const auto unchecked = [then, &svc](const std::string& why) {
    common::log_warn("connection lease unavailable; accepting without the limit check", {{"reason", why}});
    then({slot_outcome::kind::unchecked, svc.leases->next_lease_id()});
  };
  call_with_deadline<answer>(
      ex, svc.redis_timeout,
      [&svc, user](std::function<void(answer)> deliver) { svc.leases->acquire(user, std::move(deliver)); },
      [then, unchecked](answer lease) {
        if (lease) return then({slot_outcome::kind::granted, std::move(lease).value()});
        if (lease.err().code == "max_connections") return then({slot_outcome::kind::over_limit, {}});
        unchecked(lease.err().message);
      },
      [unchecked] { unchecked("Redis did not answer within --redis-timeout-ms"); },
      [&svc, user](answer late) {
        if (late) svc.leases->release(user, late.value());
      });
}

}  // namespace tickstream::edge
