#include "edge/config.hpp"

#include <unistd.h>

#include <fstream>
#include <iterator>

namespace tickstream::edge {

std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    auto end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    if (end > start) out.push_back(list.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string default_node_id() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(host[0] != '\0' ? host : "edge") + "-" + std::to_string(::getpid());
}

void app_config::bind(common::config_parser& p) {
  if (node_id.empty()) node_id = default_node_id();  // shown as the default in --help and the log
  p.add_string("listen-host", "TS_EDGE_HOST", listen_host, "Address to listen on for clients.");
  p.add_int("port", "TS_EDGE_PORT", port, 0, 65535, "Port for WebSocket (/ws) and HTTP (/healthz, /metrics).");
  p.add_int("threads", "TS_EDGE_THREADS", threads, 0, 64, "Worker threads (0 = one per core).");
  p.add_string("ops-listen", "TS_OPS_LISTEN", ops_listen,
               "host:port of an internal port for /metrics, /healthz, /readyz and /api/admin/*; the client port "
               "then serves only /ws and the REST API (empty: one port serves everything).");
  p.add_redis(redis_host, redis_port, redis_password);
  p.add_redis_access(redis_host, redis_port, redis_password, redis_access);
  p.add_string("node-id", "TS_NODE_ID", node_id, "Name of this edge in Redis and logs (empty: host name and PID).");
  auto& l = limits;
  p.add_count<std::size_t>("max-message-bytes", "TS_MAX_MESSAGE_BYTES", l.max_message_bytes, 256, 16 * 1024 * 1024,
                           "Largest client message; larger ones close the connection with 1009.");
  p.add_count<std::size_t>("max-subscriptions", "TS_MAX_SUBSCRIPTIONS", l.max_subscriptions, 1, 1'000'000,
                           "Symbols one connection may subscribe to.");
  p.add_count<std::size_t>("max-anonymous-subscriptions", "TS_MAX_ANONYMOUS_SUBSCRIPTIONS",
                           l.max_anonymous_subscriptions, 1, 1'000'000,
                           "Symbols one unauthenticated connection may subscribe to (open edges).");
  p.add_count<std::size_t>(
      "max-subscriptions-per-address", "TS_MAX_SUBSCRIPTIONS_PER_ADDRESS", l.max_subscriptions_per_address, 0,
      100'000'000, "Symbols all connections from one client address may hold together on this edge (0: no limit).");
  p.add_int("max-channels", "TS_MAX_CHANNELS", max_channels, 0, 100'000'000,
            "Redis channels this edge may hold; past it, subscriptions needing a new one are refused (0: no limit).");
  p.add_count<std::size_t>(
      "soft-queued-frames", "TS_SOFT_QUEUED_FRAMES", l.queue.soft_frames, 1, 10'000'000,
      "Outbound frames queued per connection past which its ticks are conflated (latest per symbol).");
  p.add_count<std::size_t>("soft-queued-bytes", "TS_SOFT_QUEUED_BYTES", l.queue.soft_bytes, 1024, 1ULL << 32,
                           "Outbound bytes queued per connection past which its ticks are conflated.");
  p.add_count<std::size_t>(
      "max-queued-frames", "TS_MAX_QUEUED_FRAMES", l.queue.max_frames, 16, 10'000'000,
      "Outbound frames queued or held per connection before it is closed as a slow consumer (4008).");
  p.add_count<std::size_t>(
      "max-queued-bytes", "TS_MAX_QUEUED_BYTES", l.queue.max_bytes, 64 * 1024, 1ULL << 32,
      "Outbound bytes queued or held per connection before it is closed as a slow consumer (4008).");
  p.add_duration<std::int64_t>(
      "batch-window-ms", "TS_BATCH_WINDOW_MS", l.batch_window, 0, 60'000,
      "Batching window in ms (0 = off); clients may ask for a larger one, never a smaller one.");
  p.add_int("unsubscribe-linger-ms", "TS_UNSUBSCRIBE_LINGER_MS", unsubscribe_linger_ms, 0, 600'000,
            "How long a channel nobody here wants any more stays subscribed in Redis, so clients that "
            "reconnect or flip symbols cost no UNSUBSCRIBE/SUBSCRIBE round trip.");
  p.add_duration<std::int64_t>(
      "idle-timeout-ms", "TS_IDLE_TIMEOUT_MS", l.idle_timeout, 200, 3'600'000,
      "Milliseconds without client traffic or pong before closing; a ping goes out at half of it.");
  p.add_duration<std::int64_t>("handshake-timeout", "TS_HANDSHAKE_TIMEOUT", l.handshake_timeout, 1, 300,
                               "Seconds a client has to complete the HTTP request and WebSocket handshake.");
  p.add_int("shutdown-grace-ms", "TS_SHUTDOWN_GRACE_MS", shutdown_grace_ms, 0, 600'000,
            "Milliseconds clients get to finish the close handshake at shutdown.");
  p.add_log_level(log_level);
  p.add_string("jwt-algorithms", "TS_JWT_ALGORITHMS", jwt_algorithms,
               "JWT algorithms accepted, pinned: any of HS256, RS256, ES256, comma-separated (empty: no JWTs).");
  p.add_secret("jwt-hs-secret", "TS_JWT_HS_SECRET", jwt_hs_secret, "HS256 key (at least 32 bytes).");
  p.add_string("jwt-public-key-file", "TS_JWT_PUBLIC_KEY_FILE", jwt_public_key_file,
               "PEM public key that verifies RS256/ES256 tokens.");
  p.add_string("jwt-issuer", "TS_JWT_ISSUER", jwt_issuer, "Required token issuer, \"iss\" (empty: not checked).");
  p.add_string("jwt-audience", "TS_JWT_AUDIENCE", jwt_audience,
               "Required token audience, \"aud\" (empty: not checked).");
  p.add_int("jwt-leeway-s", "TS_JWT_LEEWAY_S", jwt_leeway_s, 0, 300, "Clock skew allowed on exp and nbf, in seconds.");
  p.add_bool("jwt-require-exp", "TS_JWT_REQUIRE_EXP", jwt_require_exp,
             "Refuse tokens without an \"exp\" claim (missing_expiry): a token must not be valid forever.");
  p.add_string("jwt-cookie", "TS_JWT_COOKIE", jwt_cookie, "Cookie that may carry the JWT (empty: none).");
  p.add_string("session-cookie", "TS_SESSION_COOKIE", session_cookie,
               "Cookie carrying an opaque session id looked up in Redis as ts:sess:<id> (empty: none).");
  p.add_bool("allow-query-token", "TS_ALLOW_QUERY_TOKEN", allow_query_token,
             "Also accept ?token=<JWT> in the URL (it lands in proxy logs: off unless needed).");
  p.add_bool("allow-in-band-auth", "TS_ALLOW_IN_BAND_AUTH", allow_in_band_auth,
             "Accept a connection without credentials that authenticates with its first message, "
             "{\"type\":\"auth\",\"token\":\"<JWT>\"} (for browsers, which cannot set headers on a WebSocket).");
  p.add_duration<std::int64_t>("auth-timeout-ms", "TS_AUTH_TIMEOUT_MS", l.auth_timeout, 100, 60'000,
                               "Milliseconds a connection has to authenticate in-band before it is closed with 4003.");
  p.add_string("default-entitlements", "TS_DEFAULT_ENTITLEMENTS", default_entitlements,
               "Symbols an authenticated connection may subscribe to when its token has no \"entitlements\" claim: "
               "comma-separated names, prefixes ending in * (US:*) or * for all; empty: none.");
  p.add_string("anonymous-entitlements", "TS_ANONYMOUS_ENTITLEMENTS", anonymous_entitlements,
               "Symbols an unauthenticated connection may subscribe to (the public set), as --default-entitlements.");
  p.add_bool("entitlement-records", "TS_ENTITLEMENT_RECORDS", entitlement_records,
             "Also entitle connections from the user's and the plan's records in Redis (server API "
             "POST /v1/entitlements), and apply their changes to open connections.");
  p.add_custom(
      "conflate", "TS_CONFLATE",
      [this](std::string_view v) -> std::optional<std::string> {
        // Repeatable: each use adds its rules (checked by app::make, which names the bad one).
        if (!conflate.empty() && !v.empty()) conflate += ',';
        conflate += v;
        return std::nullopt;
      },
      [this] { return conflate; },
      "App event type to conflate on connections that are behind or batching, by a field of its data: "
      "type=keyField (e.g. portfolio_update=portfolioId), or type alone for the latest of the type; "
      "repeatable, or comma-separated. Superseded events are announced to the client by their seqs "
      "(a conflated marker). Default: none.");
  p.add_bool("dev-login", "TS_DEV_LOGIN", dev_login,
             "DEVELOPMENT ONLY: POST /api/dev/login {\"user\":\"<id>\"} signs anyone in as any user "
             "(sets the session cookie). Never enable where real users connect.");
  p.add_int("dev-login-ttl-s", "TS_DEV_LOGIN_TTL_S", dev_login_ttl_s, 60, 7 * 24 * 3600,
            "Lifetime of a development sign-in's session, in seconds.");
  p.add_int("max-connections-per-user", "TS_MAX_CONNECTIONS_PER_USER", max_connections_per_user, 0, 100'000,
            "Connections one user may hold across the whole tier (0: no limit).");
  p.add_duration<std::int64_t>("token-expiry-warning-s", "TS_TOKEN_EXPIRY_WARNING_S", l.token_expiry_warning, 1, 3600,
                               "Seconds before a token or session expires that the client is sent token_expiring.");
  p.add_count<std::size_t>(
      "max-messages-per-second", "TS_MAX_MESSAGES_PER_SECOND", l.max_messages_per_second, 1, 100'000,
      "Client messages per second per connection (bursts of twice this); more are dropped with rate_limited.");
  p.add_bool("permessage-deflate", "TS_PERMESSAGE_DEFLATE", permessage_deflate,
             "Compress messages for clients that offer permessage-deflate (a message is compressed once for "
             "all the clients it goes to).");
  p.add_bool("deflate-context-takeover", "TS_DEFLATE_CONTEXT_TAKEOVER", deflate_context_takeover,
             "With --permessage-deflate: compress ticks and public topics against their channel's recent messages, "
             "in streams shared by the clients that take every message of the channel (about 0.16 of the size "
             "instead of 0.7); off: every message compressed alone (server_no_context_takeover).");
  p.add_int("deflate-threshold-bytes", "TS_DEFLATE_THRESHOLD_BYTES", deflate_threshold_bytes, 0, 1 << 20,
            "Messages smaller than this go uncompressed even to clients that negotiated compression.");
  p.add_bool("proxy-protocol", "TS_PROXY_PROTOCOL", proxy_protocol,
             "Every connection starts with a PROXY protocol header (v1 or v2, e.g. haproxy's send-proxy-v2) that "
             "names the client; connections without one are refused. Per-address limits and logs then see clients.");
  p.add_string("trusted-proxies", "TS_TRUSTED_PROXIES", trusted_proxies,
               "Comma-separated addresses or CIDR ranges of proxies whose X-Forwarded-For is believed (empty: none).");
  p.add_int("max-connects-per-ip", "TS_MAX_CONNECTS_PER_IP", max_connects_per_ip, 0, 1'000'000,
            "New connections per second from one address before 429 (0: no limit).");
  p.add_int("lease-ttl-ms", "TS_LEASE_TTL_MS", lease_ttl_ms, 1000, 600'000,
            "Lifetime of a connection lease without refresh: a dead edge's slots free up within this.");
  p.add_int("stale-after-ms", "TS_STALE_AFTER_MS", stale_after_ms, 100, 3'600'000,
            "A source without a good heartbeat on ts:sys for this long is stale: its clients get 'stale'.");
  p.add_int("drain-ms", "TS_DRAIN_MS", drain_ms, 0, 600'000,
            "On SIGTERM, clients get a reconnect hint and are closed (1001) at random moments within this "
            "window, so they do not all reconnect at once; the process exits once they are gone.");
  p.add_int("probe-interval-ms", "TS_PROBE_INTERVAL_MS", probe_interval_ms, 100, 60'000,
            "How often a probe is published on the edge's own channel; /readyz fails when none came back "
            "through the subscriber connection for three intervals.");
  p.add_int("redis-timeout-ms", "TS_REDIS_TIMEOUT_MS", redis_timeout_ms, 50, 60'000,
            "A request waiting on Redis (a session lookup, a connection lease, a REST read) is answered within "
            "this: 503 (or, for the lease, accepted without the limit check) when Redis does not answer.");
  p.add_string("allowed-origins", "TS_ALLOWED_ORIGINS", allowed_origins,
               "Comma-separated Origins allowed to connect with cookie credentials (required with cookies).");
}

common::result<auth_config> app_config::auth() const {
  auth_config a;
  a.session_cookie = session_cookie;
  a.allow_query_token = allow_query_token;
  a.allowed_origins = split_list(allowed_origins);
  if (!jwt_algorithms.empty()) {
    jwt_config j;
    for (const auto& name : split_list(jwt_algorithms)) {
      if (name == "HS256")
        j.accepted.push_back(jwt_alg::hs256);
      else if (name == "RS256")
        j.accepted.push_back(jwt_alg::rs256);
      else if (name == "ES256")
        j.accepted.push_back(jwt_alg::es256);
      else
        return common::error{"jwt-algorithms", "unknown algorithm '" + name + "' (HS256, RS256, ES256)"};
    }
    j.hs_secret = jwt_hs_secret;
    if (!jwt_public_key_file.empty()) {
      std::ifstream in(jwt_public_key_file);
      if (!in) return common::error{"jwt-public-key-file", "cannot read " + jwt_public_key_file};
      j.public_key_pem.assign(std::istreambuf_iterator<char>(in), {});
    }
    j.leeway = std::chrono::seconds(jwt_leeway_s);
    j.require_exp = jwt_require_exp;
    if (!jwt_issuer.empty()) j.issuer = jwt_issuer;
    if (!jwt_audience.empty()) j.audience = jwt_audience;
    auto v = jwt_verifier::make(std::move(j));
    if (!v) return common::error{"jwt-algorithms/--jwt-hs-secret/--jwt-public-key-file", v.err().message};
    a.jwt = v.value();
    a.jwt_cookie = jwt_cookie;
  } else if (!jwt_cookie.empty() || allow_query_token) {
    return common::error{"jwt-cookie/--allow-query-token", "they need --jwt-algorithms"};
  }
  if ((!a.jwt_cookie.empty() || !a.session_cookie.empty()) && a.allowed_origins.empty()) {
    return common::error{"allowed-origins", "it is required when cookies carry credentials"};
  }
  if (allow_in_band_auth && !a.jwt) return common::error{"allow-in-band-auth", "it needs --jwt-algorithms"};
  a.in_band = allow_in_band_auth;
  if (dev_login && a.session_cookie.empty()) {
    return common::error{"dev-login", "it needs --session-cookie (the sign-in sets that cookie)"};
  }
  return a;
}

}  // namespace tickstream::edge
