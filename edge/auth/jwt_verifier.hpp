#pragma once
// Verifies JSON Web Tokens (RFC 7519, compact JWS) with OpenSSL: HS256, RS256 and ES256.
//
// The accepted algorithms are pinned by configuration: a token's own "alg" only selects among
// them, never chooses one ("none" and anything unlisted are refused), so an RS256 deployment
// cannot be fooled by an HS256 token signed with its public key. Pure: no sockets, no clock of
// its own (the caller passes the time), so tests drive it directly.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "edge/auth/entitlements.hpp"

namespace tickstream::edge {

enum class jwt_alg { hs256, rs256, es256 };

struct jwt_config {
  std::vector<jwt_alg> accepted;    // at least one
  std::string hs_secret;            // HS256 key (at least 32 bytes)
  std::string public_key_pem;       // RS256 / ES256 public key (PEM)
  std::chrono::seconds leeway{30};  // clock skew allowed on exp and nbf
  // A token without "exp" would be valid forever: refused unless the operator says otherwise.
  bool require_exp = true;
  std::optional<std::string> issuer;    // "iss" must equal this when set
  std::optional<std::string> audience;  // "aud" (string or array) must contain this when set
  std::string roles_claim = "roles";    // a string array of roles, e.g. ["admin"]
};

struct jwt_identity {
  std::string user_id;             // "sub"
  std::vector<std::string> roles;  // from roles_claim
  // When the token stops being accepted: its "exp" plus the leeway, so a connection ends exactly
  // when a new upgrade with the same token would be refused.
  std::optional<std::int64_t> expires_at_s;
  std::string session_id;  // "sid", else "jti" ("" = neither): what a revocation names
  // The "entitlements" claim (an array of patterns, edge/auth/entitlements.hpp); null without one.
  std::shared_ptr<const entitlements> entitled;
};

class jwt_verifier {
 public:
  // Errors are configuration errors ("bad_config"), reported at start-up.
  static common::result<std::shared_ptr<const jwt_verifier>> make(jwt_config config);
  ~jwt_verifier();

  // The identity in a valid token, or an error whose code names the reason: "malformed_token",
  // "alg_not_allowed", "bad_signature", "expired", "missing_expiry", "not_yet_valid",
  // "wrong_issuer", "wrong_audience", "missing_subject".
  common::result<jwt_identity> verify(std::string_view token, std::int64_t now_s) const;

  struct key;

 private:
  explicit jwt_verifier(jwt_config config);
  jwt_config config_;
  std::unique_ptr<key> key_;
};

// base64url without padding (RFC 4648 §5), as JWS uses; nullopt on bad input.
std::optional<std::string> base64url_decode(std::string_view in);
std::string base64url_encode(std::string_view in);

}  // namespace tickstream::edge
