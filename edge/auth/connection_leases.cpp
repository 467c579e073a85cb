#include "edge/auth/connection_leases.hpp"

namespace tickstream::edge {
namespace {

// KEYS: the user's lease set. ARGV: ttl ms, limit, lease id. Returns 1 if granted, 0 if full.
constexpr const char* acquire_script = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[3])
redis.call('PEXPIRE', KEYS[1], ttl * 2)
return 1
)lua";

// KEYS: the user's lease set. ARGV: ttl ms, lease id. Extends a lease that still exists.
constexpr const char* refresh_script = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
if redis.call('ZADD', KEYS[1], 'XX', 'CH', now + ttl, ARGV[2]) == 1 then redis.call('PEXPIRE', KEYS[1], ttl * 2) end
return 1
)lua";

}  // namespace

connection_leases::connection_leases(common::redis_client& redis, std::string node_id, std::int64_t limit,
                                     std::chrono::milliseconds ttl)
    : redis_(redis), node_id_(std::move(node_id)), limit_(limit), ttl_(ttl) {}

void connection_leases::acquire(const std::string& user, std::function<void(common::result<std::string>)> done) {
  auto lease = node_id_ + ":" + std::to_string(next_.fetch_add(1));
  redis_.command({"EVAL", acquire_script, "1", key_of(user), std::to_string(ttl_.count()), std::to_string(limit_), lease},
                 [done = std::move(done), lease](common::result<common::redis_reply> r) {
                   if (!r) return done(common::error{"unavailable", r.err().message});
                   if (r->integer == 0) {
                     return done(common::error{"max_connections", "Maximum connections exceeded"});
                   }
                   done(lease);
                 });
}

void connection_leases::refresh(const std::string& user, const std::string& lease) {
  redis_.command({"EVAL", refresh_script, "1", key_of(user), std::to_string(ttl_.count()), lease});
}

void connection_leases::release(const std::string& user, const std::string& lease) {
  redis_.command({"ZREM", key_of(user), lease});
}

}  // namespace tickstream::edge
