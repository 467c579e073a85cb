#pragma once
// The tier-wide per-user connection limit. Each authenticated connection holds a lease in Redis,
// ts:{u:<id>}:conns, a sorted set of lease id -> expiry (Redis's own clock, so edges with skewed
// clocks agree). A Lua script checks and adds atomically (common/redis/scripts/lease_*.lua); the
// owning edge refreshes its leases while the connections live (adding back any Redis lost, and at
// once after each reconnect to Redis), and removes one the moment its connection closes. An edge
// that dies without cleaning up stops refreshing, and its leases lapse by themselves within the TTL.
//
// Threading: every member is thread-safe (it only queues Redis commands); callbacks run on the
// Redis thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "common/redis/keys.hpp"
#include "common/redis/redis_client.hpp"
#include "common/result.hpp"

namespace tickstream::edge {

class connection_leases {
 public:
  connection_leases(common::redis_client& redis, std::string node_id, std::int64_t limit,
                    std::chrono::milliseconds ttl);

  // done gets the lease id, or an error: "max_connections" (the user is at the limit) or
  // "unavailable" (Redis did not answer; the caller decides).
  void acquire(const std::string& user, std::function<void(common::result<std::string>)> done) {
    acquire(user, next_lease_id(), std::move(done));
  }
  // The same for a lease id chosen by the caller (from next_lease_id()).
  void acquire(const std::string& user, const std::string& lease,
               std::function<void(common::result<std::string>)> done);
  // A fresh lease id ("<node-id>:<n>"), for a connection accepted without asking Redis: refreshing
  // it adds it, so the connection counts against the limit once Redis answers again.
  std::string next_lease_id() { return node_id_ + ":" + std::to_string(next_.fetch_add(1)); }
  // Extends the lease, or adds it again if Redis no longer has it (restarted empty, failed over).
  void refresh(const std::string& user, const std::string& lease);
  void release(const std::string& user, const std::string& lease);
  // Gives back a lease taken for a connection that ended before it could use it; nothing when
  // lease is empty (none was granted).
  void release_unused(const std::string& user, const std::string& lease) {
    if (!lease.empty()) release(user, lease);
  }

  // Changes each time a connection to Redis is made again after being lost: a Redis that came back
  // may have come back empty, so every open connection refreshes its lease at its next sweep
  // instead of up to ttl/3 later.
  std::uint64_t epoch() const noexcept { return redis_.reconnects(); }

  std::int64_t limit() const noexcept { return limit_; }
  std::chrono::milliseconds ttl() const noexcept { return ttl_; }
  static std::string key_of(const std::string& user) { return common::user_key(user, common::user_data::conns); }

 private:
  common::redis_client& redis_;
  const std::string node_id_;
  const std::int64_t limit_;
  const std::chrono::milliseconds ttl_;
  std::atomic<std::uint64_t> next_{1};
};

}  // namespace tickstream::edge
