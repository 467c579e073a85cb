#pragma once
// Who is connected to this edge and how often connections end, for the admin stats. Touched once
// per connect and disconnect (never per message), from any worker thread: one mutex suffices.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace tickstream::edge {

class connection_census {
 public:
  void connected(const std::string& user);
  void disconnected(const std::string& user);
  // The n users with the most connections here, most first.
  std::vector<std::pair<std::string, std::size_t>> top_users(std::size_t n) const;
  // Connections that ended during the last minute.
  std::size_t disconnects_last_minute() const;

 private:
  using clock = std::chrono::steady_clock;
  void expire(clock::time_point now) const;

  mutable std::mutex mu_;
  std::map<std::string, std::size_t> users_;     // authenticated users only
  mutable std::deque<clock::time_point> ended_;  // the last minute's disconnects
};

}  // namespace tickstream::edge
