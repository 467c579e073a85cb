#pragma once
// Subscriptions held per client address across the whole edge, so that one address cannot make
// the edge (and Redis) hold an unbounded number of channels by opening many connections.
//
// Threading: shared by every worker; touched once per subscribe or unsubscribe of a symbol and
// per connection close (never per message), so one mutex suffices.

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace tickstream::edge {

class address_quota {
 public:
  // limit 0: no limit.
  explicit address_quota(std::size_t limit) : limit_(limit) {}

  // How many more address may take (SIZE_MAX without a limit). Checked, then taken: concurrent
  // subscribes from one address on two workers may overshoot by what they took at once.
  std::size_t room(const std::string& address) const {
    if (limit_ == 0) return static_cast<std::size_t>(-1);
    std::lock_guard lock(mu_);
    const auto it = held_.find(address);
    const auto held = it == held_.end() ? 0 : it->second;
    return limit_ > held ? limit_ - held : 0;
  }
  void take(const std::string& address, std::size_t n) {
    if (n == 0) return;
    std::lock_guard lock(mu_);
    held_[address] += n;
  }
  void give_back(const std::string& address, std::size_t n) {
    if (n == 0) return;
    std::lock_guard lock(mu_);
    const auto it = held_.find(address);
    if (it == held_.end()) return;
    it->second -= std::min(n, it->second);
    if (it->second == 0) held_.erase(it);  // memory follows live interest
  }
  std::size_t addresses() const {
    std::lock_guard lock(mu_);
    return held_.size();
  }
  std::size_t limit() const noexcept { return limit_; }

 private:
  const std::size_t limit_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::size_t> held_;
};

}  // namespace tickstream::edge
