#pragma once
// What every session of an edge shares: limits, metrics and the Redis client. Owned by the app,
// which outlives all sessions; read-only after start except for the thread-safe members.

#include <string>

#include "common/redis_client.hpp"
#include "edge/authenticator.hpp"
#include "edge/connection_leases.hpp"
#include "edge/edge_metrics.hpp"
#include "edge/session_limits.hpp"

namespace tickstream::edge {

struct services {
  std::string node_id;  // sent to clients as X-Tickstream-Node
  session_limits limits;
  auth_config auth;
  edge_metrics& metrics;
  common::redis_client& redis;
  connection_leases* leases = nullptr;  // null: no per-user limit
};

}  // namespace tickstream::edge
