#pragma once
// Redis Sentinel, as data: what the sentinels answer about a master, which sentinel to ask next,
// and what a node says it is. The connection layer asks a sentinel for the master's address
// before each connect (SENTINEL get-master-addr-by-name), checks with ROLE that the node it
// reached is the master, and follows `+switch-master` messages from a sentinel's pub/sub.
//
// Threading: none.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/redis/resp.hpp"
#include "common/redis_access.hpp"
#include "common/result.hpp"

namespace tickstream::common {

// The channel on which sentinels announce a failover's outcome.
inline constexpr std::string_view sentinel_switch_channel = "+switch-master";

// The reply to SENTINEL get-master-addr-by-name: [host, port]. nullopt (nil) when that sentinel
// does not monitor a master by that name; an error ("bad_sentinel_reply") when it is neither.
result<std::optional<redis_endpoint>> parse_master_address(const redis_reply& reply);

// The reply to ROLE: its first element ("master", "slave", "sentinel"), or "bad_role_reply".
result<std::string> parse_role(const redis_reply& reply);

// A +switch-master message, "<master> <old host> <old port> <new host> <new port>": the new
// address when it is about master (nullopt for another master or a message that is not one).
std::optional<redis_endpoint> parse_switch_master(std::string_view payload, std::string_view master);

// Which sentinel to ask: one round tries each once, starting with the one that answered last (it
// was up then), then in the order given. A sentinel that does not know the master, cannot be
// reached or answers nonsense is passed over for the next.
class sentinel_rotation {
 public:
  explicit sentinel_rotation(std::size_t count) : count_(count) {}

  // Starts a round: the sentinel to ask first.
  std::size_t begin_round() noexcept {
    tried_ = 1;
    current_ = preferred_;
    return current_;
  }
  // The current sentinel failed: the next to ask in this round, or nullopt when all were tried.
  std::optional<std::size_t> next() noexcept {
    if (tried_ >= count_) return std::nullopt;
    ++tried_;
    current_ = (current_ + 1) % count_;
    return current_;
  }
  // The current sentinel answered: it is asked first from now on.
  void answered() noexcept { preferred_ = current_; }
  std::size_t current() const noexcept { return current_; }

 private:
  std::size_t count_;
  std::size_t preferred_ = 0;
  std::size_t current_ = 0;
  std::size_t tried_ = 0;
};

}  // namespace tickstream::common
