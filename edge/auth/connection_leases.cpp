#include "edge/auth/connection_leases.hpp"

#include "common/redis/lua_scripts.hpp"

namespace tickstream::edge {

connection_leases::connection_leases(common::redis_client& redis, std::string node_id, std::int64_t limit,
                                     std::chrono::milliseconds ttl)
    : redis_(redis), node_id_(std::move(node_id)), limit_(limit), ttl_(ttl) {}

void connection_leases::acquire(const std::string& user, const std::string& lease,
                                std::function<void(common::result<std::string>)> done) {
  redis_.eval(common::lua_scripts::lease_acquire(), {key_of(user)},
              {std::to_string(ttl_.count()), std::to_string(limit_), lease},
              [done = std::move(done), lease](common::result<common::redis_reply> r) {
                if (!r) return done(common::error{"unavailable", r.err().message});
                if (r->integer == 0) return done(common::error{"max_connections", "Maximum connections exceeded"});
                done(lease);
              });
}

void connection_leases::refresh(const std::string& user, const std::string& lease) {
  redis_.eval(common::lua_scripts::lease_refresh(), {key_of(user)}, {std::to_string(ttl_.count()), lease});
}

void connection_leases::release(const std::string& user, const std::string& lease) {
  redis_.command({"ZREM", key_of(user), lease});
}

}  // namespace tickstream::edge
