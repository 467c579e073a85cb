#include "ingest/api/api_auth.hpp"

#include <openssl/crypto.h>

#include "ingest/sources/webhook_signature.hpp"

namespace tickstream::ingest {

common::result<bool> authorize_api(const api_credentials& creds, std::string_view authorization,
                                   std::string_view timestamp, std::string_view signature, std::string_view body,
                                   std::int64_t now_s) {
  constexpr std::string_view bearer = "Bearer ";
  if (authorization.starts_with(bearer)) {
    const auto key = authorization.substr(bearer.size());
    if (creds.api_key.empty() || key.size() != creds.api_key.size() ||
        CRYPTO_memcmp(key.data(), creds.api_key.data(), key.size()) != 0) {
      return common::error{"bad_api_key", "the API key is not valid"};
    }
    return true;
  }
  if (!signature.empty() && !creds.hmac_secret.empty()) {
    return verify_webhook(creds.hmac_secret, timestamp, signature, body, now_s);
  }
  return common::error{"missing_credentials",
                       "give Authorization: Bearer <API key>, or X-Tickstream-Timestamp and X-Tickstream-Signature"};
}

}  // namespace tickstream::ingest
