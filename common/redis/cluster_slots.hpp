#pragma once
// Redis Cluster's key space, as data: the slot of a key (CRC16 of its hash tag, modulo 16384),
// the owner of each slot from a CLUSTER SLOTS reply, and the redirects (MOVED, ASK) a node
// answers with when a slot is elsewhere. Pure: the connection layer asks it where a command or a
// shard channel goes. Every key and channel of the tier carries a hash tag (keys.hpp), so a
// symbol's keys and channel, or a user's, share one slot.
//
// Threading: none.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/redis/resp.hpp"
#include "common/result.hpp"

namespace tickstream::common {

inline constexpr std::size_t cluster_slot_count = 16384;

// The slot of key: CRC16 (XMODEM) of the text between the first '{' and the next '}' when that is
// not empty, else of the whole key.
std::uint16_t key_slot(std::string_view key) noexcept;

struct cluster_node {
  std::string host;
  int port = 0;
  bool operator==(const cluster_node&) const = default;
};

// MOVED: the slot lives on node now (refresh the map). ASK: for this one command, ask node after
// sending ASKING (the slot is being migrated).
struct cluster_redirect {
  bool ask = false;
  std::uint16_t slot = 0;
  cluster_node node;
};

// "MOVED 3999 127.0.0.1:6381" or "ASK 3999 10.0.0.2:6379" (an error reply's text); nullopt for any
// other error.
std::optional<cluster_redirect> parse_cluster_redirect(std::string_view error_text);

// The key a command is routed by in a cluster: its first key (for EVAL, EVALSHA and FCALL the
// first of its KEYS; for PUBLISH and SPUBLISH the channel), or nullopt for a command any node
// answers (PING, TIME, CLUSTER, SCRIPT..., or a script without keys).
std::optional<std::string_view> routing_key(std::span<const std::string> args) noexcept;

// A script's text for a cluster, where the tier's channels are shard channels: every
// redis.call('PUBLISH', ...) (or pcall, either quote) becomes SPUBLISH. Scripts touch one slot,
// the one of their keys, and their channel shares it (keys.hpp), as SPUBLISH requires.
std::string sharded_script_text(std::string_view source);

class cluster_slot_map;

// Where an idle channel held in the table of the master `here` goes after the slot map changed
// or a redirect came: nullopt to leave it (here owns its slot and will subscribe it once its
// subscriber connection is up again), else the master to subscribe it on (here itself when here
// owns it and is connected: a subscription bounced by a stale redirect is simply tried again).
// A master that no longer serves slots (`here_retired`) keeps nothing.
std::optional<cluster_node> channel_destination(const cluster_slot_map& map, std::string_view channel,
                                                const cluster_node& here, bool here_retired, bool here_connected);

class cluster_slot_map {
 public:
  // From a CLUSTER SLOTS reply: [[start, end, [host, port, id...], replicas...], ...]. An error
  // ("bad_topology") if it is not one, or leaves a slot without a master.
  static result<cluster_slot_map> from_cluster_slots(const redis_reply& reply);

  // The masters, each once, in the order first seen.
  const std::vector<cluster_node>& masters() const noexcept { return masters_; }
  // The master serving slot (an index into masters()).
  std::size_t owner_index(std::uint16_t slot) const noexcept { return owner_[slot % cluster_slot_count]; }
  const cluster_node& owner(std::uint16_t slot) const noexcept { return masters_[owner_index(slot)]; }
  // A MOVED redirect: slot now lives on node (added as a master if new).
  void move(std::uint16_t slot, const cluster_node& node);

 private:
  std::vector<cluster_node> masters_;
  std::array<std::uint16_t, cluster_slot_count> owner_{};
};

}  // namespace tickstream::common
