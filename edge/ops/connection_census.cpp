#include "edge/ops/connection_census.hpp"

#include <algorithm>

namespace tickstream::edge {

namespace {
// Bounds the disconnect log: a mass disconnect is still counted, up to this many a minute.
constexpr std::size_t max_logged_disconnects = 1'000'000;
}  // namespace

void connection_census::connected(const std::string& user) {
  if (user.empty()) return;
  std::lock_guard lock(mu_);
  ++users_[user];
}

void connection_census::disconnected(const std::string& user) {
  const auto now = clock::now();
  std::lock_guard lock(mu_);
  expire(now);
  if (ended_.size() < max_logged_disconnects) ended_.push_back(now);
  if (user.empty()) return;
  const auto it = users_.find(user);
  if (it != users_.end() && --it->second == 0) users_.erase(it);
}

std::vector<std::pair<std::string, std::size_t>> connection_census::top_users(std::size_t n) const {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::string, std::size_t>> all(users_.begin(), users_.end());
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (all.size() > n) all.resize(n);
  return all;
}

std::size_t connection_census::disconnects_last_minute() const {
  std::lock_guard lock(mu_);
  expire(clock::now());
  return ended_.size();
}

void connection_census::expire(clock::time_point now) const {
  while (!ended_.empty() && now - ended_.front() > std::chrono::minutes(1)) ended_.pop_front();
}

}  // namespace tickstream::edge
