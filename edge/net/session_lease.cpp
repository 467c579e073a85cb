#include "edge/net/session_lease.hpp"

#include <utility>

namespace tickstream::edge {

session_lease::session_lease(connection_leases* leases, std::string lease)
    : leases_(leases), lease_(leases != nullptr ? std::move(lease) : std::string{}) {
  if (leases_ != nullptr) epoch_ = leases_->epoch();
}

bool session_lease::adopt(std::string lease) {
  if (leases_ == nullptr || lease.empty()) return false;
  lease_ = std::move(lease);
  epoch_ = leases_->epoch();
  return true;
}

void session_lease::refresh(const std::string& user, bool due) {
  if (lease_.empty()) return;
  const auto epoch = leases_->epoch();
  if (!due && epoch == epoch_) return;
  epoch_ = epoch;
  leases_->refresh(user, lease_);
}

void session_lease::release(const std::string& user) {
  if (lease_.empty()) return;
  leases_->release(user, lease_);
  lease_.clear();
}

}  // namespace tickstream::edge
