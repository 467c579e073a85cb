#pragma once
// What every session of an edge shares: limits, metrics and the Redis client. Owned by the app,
// which outlives all sessions; read-only after start except for the thread-safe members.

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "common/redis/redis_client.hpp"
#include "edge/auth/authenticator.hpp"
#include "edge/auth/connect_rate_limiter.hpp"
#include "edge/auth/connection_leases.hpp"
#include "edge/net/address_quota.hpp"
#include "edge/net/session_limits.hpp"
#include "edge/ops/connection_census.hpp"
#include "edge/ops/edge_metrics.hpp"
#include "edge/protocol/broadcast_deflater.hpp"

namespace tickstream::edge {

// What a listening port serves. Without --ops-listen the one port serves everything; with it, the
// public port serves clients only (/ws and the REST API) and the ops port the rest (/metrics,
// /healthz, /readyz, /api/admin/*), so that a load balancer or a scraper never mixes them up.
enum class port_role { all, clients, ops };

struct services {
  std::string node_id;  // sent to clients as X-Tickstream-Node
  session_limits limits;
  auth_config auth;
  edge_metrics& metrics;
  common::redis_client& redis;
  connection_leases* leases = nullptr;              // null: no per-user limit
  connection_census* census = nullptr;              // null: not kept (tests that build sessions directly)
  address_quota* quota = nullptr;                   // subscriptions per client address (null: no limit)
  connect_rate_limiter* connect_limiter = nullptr;  // new connections per client address (null: none)
  // Where the client's address comes from behind a load balancer: a PROXY protocol header on
  // every connection, and/or X-Forwarded-For from these proxies (addresses or CIDR ranges).
  bool proxy_protocol = false;
  std::vector<std::string> trusted_proxies{};
  // Redis channels the edge holds now, and the most it may hold (0: no limit).
  std::function<std::size_t()> channels_held{};
  std::size_t max_channels = 0;
  // Set when the edge starts draining: /readyz answers 503 and new WebSocket upgrades are refused.
  std::atomic<bool>* draining = nullptr;
  // Readiness beyond draining (Redis provably live), evaluated per /readyz request.
  std::function<bool(std::string& why)> ready{};
  // The admin stats document (GET /api/admin/websocket-stats).
  std::function<std::string()> admin_stats{};
  // Every Redis call on a request path (a session lookup, a lease, a REST read) is answered within
  // this, with 503 or the documented degraded behaviour when Redis is not (a stall must not freeze
  // every upgrade and REST call).
  std::chrono::milliseconds redis_timeout{1000};
  // permessage-deflate (off unless configured): offered to clients that ask, for messages of at
  // least deflate_threshold bytes (smaller ones gain little and cost a compression each).
  bool deflate = false;
  std::size_t deflate_threshold = 256;
  // With context takeover (the default when deflate is on): the broadcast channels' shared
  // compression streams, which count the connections that can take them. Null: every message is
  // compressed alone (server_no_context_takeover).
  broadcast_deflater* broadcast_deflate = nullptr;
  // The symbols connections may subscribe to when their token names none: authenticated ones,
  // and anonymous ones (null: all).
  std::shared_ptr<const entitlements> default_entitled{};
  std::shared_ptr<const entitlements> anonymous_entitled{};
  // Entitlement records in Redis (edge/auth/entitlement_records.hpp) are read and followed.
  bool entitlement_records = false;
  // POST /api/dev/login (development only): sessions it creates last this long.
  bool dev_login = false;
  std::chrono::seconds dev_login_ttl{8 * 3600};
};

}  // namespace tickstream::edge
