#pragma once
// The edge's configuration: every flag and environment variable (docs/OPERATIONS.md), each
// default written once with its reason (per-connection limits in net/session_limits.hpp).

#include <cstdint>
#include <string>
#include <vector>

#include "common/config_parser.hpp"
#include "common/result.hpp"
#include "edge/auth/authenticator.hpp"
#include "edge/net/session_limits.hpp"

namespace tickstream::edge {

// "a,b,,c" -> {"a","b","c"}.
std::vector<std::string> split_list(const std::string& list);

// The default --node-id: host name and PID.
std::string default_node_id();

struct app_config {
  std::string listen_host = "0.0.0.0";  // address for WebSocket and HTTP clients
  std::int64_t port = 8080;             // 0 picks a free port (tests)
  // host:port for /metrics, /healthz, /readyz and /api/admin/* (empty: they share the client port).
  // Internal: not behind the load balancer, no PROXY header, reached by probes and scrapers.
  std::string ops_listen;
  std::int64_t threads = 0;  // worker threads; 0 = one per core (a connection lives on one)
  std::string redis_host = "127.0.0.1";
  std::int64_t redis_port = 6379;
  std::string redis_password;         // never logged
  common::redis_access redis_access;  // ACL user, TLS (--redis-user, --redis-tls*, --redis-url)
  std::string node_id;                // names this edge in Redis and logs; default: host name and PID
  session_limits limits;              // per connection
  // Redis channels one edge may hold (0: no limit): a bound on what clients can make it (and Redis)
  // keep. A busy edge holds thousands; 100,000 leaves room while keeping memory in check.
  std::int64_t max_channels = 100'000;
  // A channel nobody here wants any more stays subscribed this long, so clients that reconnect or
  // flip symbols cost no UNSUBSCRIBE/SUBSCRIBE round trip; 5 s covers a reconnect with backoff.
  std::int64_t unsubscribe_linger_ms = 5000;
  std::int64_t shutdown_grace_ms = 5000;  // how long closing clients get at shutdown
  std::string log_level = "info";
  // Authentication (all off: an open edge serving public data to anyone, for development).
  std::string jwt_algorithms;       // pinned, e.g. "RS256" or "HS256,ES256"
  std::string jwt_hs_secret;        // HS256 key; never logged
  std::string jwt_public_key_file;  // PEM public key for RS256/ES256
  std::string jwt_issuer;           // required "iss" (empty: not checked)
  std::string jwt_audience;         // required "aud" (empty: not checked)
  std::int64_t jwt_leeway_s = 30;   // clock skew between the token issuer and us
  bool jwt_require_exp = true;      // a token without "exp" would be valid forever
  std::string jwt_cookie;           // cookie carrying a JWT
  std::string session_cookie;       // cookie carrying a session id (ts:sess:<id>)
  bool allow_query_token = false;   // accept ?token=<JWT> (it lands in proxy logs)
  bool allow_in_band_auth = false;  // accept {"type":"auth"} first on a connection without credentials
  // POST /api/dev/login signs anyone in as any user: development tiers only, never by default.
  // Symbols a connection may subscribe to when its token has no "entitlements" claim, as
  // patterns (edge/auth/entitlements.hpp): "*" keeps every symbol open, as before.
  std::string default_entitlements = "*";
  std::string anonymous_entitlements = "*";  // for unauthenticated connections (open edges)
  // Also read each user's entitlement record (and its plan's) from Redis, kept by the server API
  // (POST /v1/entitlements), and follow its changes on open connections. Off: one Redis read less
  // per connection for tiers that entitle through tokens alone.
  bool entitlement_records = false;
  // App event types conflated where a connection is behind or batching: "type=keyField" rules,
  // comma-separated (--conflate is repeatable). None by default: every app event reaches every
  // client unless the operator says which types are state that only the latest of matters.
  std::string conflate;
  bool dev_login = false;
  std::int64_t dev_login_ttl_s = 8 * 3600;    // a working day
  std::string allowed_origins;                // comma-separated; required with cookie credentials
  std::int64_t max_connections_per_user = 5;  // tier-wide, as the seed systems allowed; 0 = no limit
  std::int64_t lease_ttl_ms = 30'000;         // a dead edge's leases lapse within this
  std::int64_t max_connects_per_ip = 100;     // new connections per second from one address; 0 = off
  // Behind a load balancer: a PROXY protocol header (v1 or v2) on every connection carries the
  // client's address; or X-Forwarded-For is believed from these proxies (addresses, CIDR ranges).
  bool proxy_protocol = false;
  // permessage-deflate for clients that offer it: trading JSON compresses 3x or more, which metered
  // mobile links feel; off by default because it costs CPU per compressed message.
  bool permessage_deflate = false;
  std::int64_t deflate_threshold_bytes = 256;
  // Broadcast channels (ticks, public topics) are compressed in shared streams with context
  // takeover (a tick against the channel's recent ticks); off: every message alone.
  bool deflate_context_takeover = true;
  std::string trusted_proxies;
  std::int64_t stale_after_ms = 30'000;    // a source silent this long is stale (the seeds' 30 s)
  std::int64_t drain_ms = 20'000;          // SIGTERM: clients are closed spread over this window
  std::int64_t probe_interval_ms = 2'000;  // readiness probe through the own pub/sub channel
  // A request waiting on Redis (session lookup, lease, REST read) is answered by then: a second is
  // far above a healthy round trip and short enough for a client's own timeout.
  std::int64_t redis_timeout_ms = 1'000;

  void bind(common::config_parser& parser);
  // The authentication settings, built and checked. The error's code names the flag at fault.
  common::result<auth_config> auth() const;
};

}  // namespace tickstream::edge
