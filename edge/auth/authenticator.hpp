#pragma once
// Who is connecting: credentials are taken from the upgrade request and checked before any
// WebSocket is accepted (docs/OPERATIONS.md, "Security").
//
//   - Authorization: Bearer <JWT>, or a JWT in a configured cookie: verified by jwt_verifier;
//   - a session cookie: an opaque id looked up in Redis (ts:sess:<id> hash: user, roles, expires);
//   - ?token=<JWT> only when explicitly enabled (it ends up in proxy logs; never in ours).
// When a cookie carries the credential, the Origin header must be in the allow-list (cross-site
// WebSocket hijacking). With no method configured the edge is open (development): anonymous
// clients get public data only.
//
// Pure apart from the session lookup, which the caller performs with the returned key.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "edge/auth/entitlements.hpp"
#include "edge/auth/jwt_verifier.hpp"

namespace tickstream::edge {

struct identity {
  std::string user_id;  // empty when anonymous
  std::vector<std::string> roles;
  std::optional<std::int64_t> expires_at_s;  // token or session expiry
  // The session cookie's id, or the token's "sid" claim (else its "jti"): what the server API's
  // disconnect can name and revoke ("" = none).
  std::string session_id;
  // The symbols it may subscribe to, from the token's "entitlements" claim (null: the edge's
  // configured default for authenticated or anonymous connections).
  std::shared_ptr<const entitlements> entitled;
  bool anonymous() const noexcept { return user_id.empty(); }
  bool has_role(std::string_view role) const noexcept;
};

struct auth_config {
  std::shared_ptr<const jwt_verifier> jwt;   // null: JWTs not accepted
  std::string jwt_cookie;                    // cookie carrying a JWT ("" = none)
  std::string session_cookie;                // cookie carrying a session id ("" = none)
  bool allow_query_token = false;            // ?token=<JWT>
  std::vector<std::string> allowed_origins;  // for cookie credentials (and CORS on REST)
  // A connection opened without credentials may authenticate with its first message,
  // {"type":"auth","token":"<JWT>"} (browsers cannot set headers on a WebSocket).
  bool in_band = false;

  bool required() const noexcept { return jwt != nullptr || !session_cookie.empty(); }
};

// The parts of the upgrade request authentication looks at.
struct auth_request {
  std::string_view authorization;
  std::string_view cookie;
  std::string_view origin;
  std::string_view target;  // path and query
  // The browser's own statement of where a request comes from; "same-origin" stands in for an
  // Origin header, which browsers leave out of same-origin GET requests.
  std::string_view sec_fetch_site = {};
};

// Whether a request from origin (and Sec-Fetch-Site) may use cookie credentials.
bool origin_allowed(const auth_config& config, std::string_view origin, std::string_view sec_fetch_site) noexcept;

// The outcome of the synchronous step: an identity, or a session id to look up in Redis.
struct auth_step {
  std::optional<identity> who;
  std::string session_id;  // set when the session must be looked up
};

// Errors carry the HTTP status in their code's meaning: "forbidden_origin" is a 403, every other
// code ("missing_credentials", "malformed_token", "expired", "bad_signature", ...) a 401.
common::result<auth_step> authenticate(const auth_config& config, const auth_request& req, std::int64_t now_s);

// The identity in a session record (HMGET ts:sess:<id> user roles expires), or why not.
common::result<identity> identity_from_session(const std::optional<std::string>& user,
                                               const std::optional<std::string>& roles,
                                               const std::optional<std::string>& expires, std::int64_t now_s);

// The value of cookie `name` in a Cookie header, if present.
std::optional<std::string_view> cookie_value(std::string_view header, std::string_view name) noexcept;

}  // namespace tickstream::edge
