#pragma once
// Who may call the server API: a request carries either the API key (Authorization: Bearer <key>)
// or the webhook's HMAC signature over timestamp.body (webhook_signature.hpp). Pure (OpenSSL
// only); the key is compared in constant time.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace tickstream::ingest {

struct api_credentials {
  std::string api_key;      // "" = API keys not accepted
  std::string hmac_secret;  // "" = signatures not accepted
};

// ok, or an error: "missing_credentials" (neither form), "bad_api_key", or the signature's codes
// ("bad_timestamp", "bad_signature"). A request with a Bearer header is judged by its key alone.
common::result<bool> authorize_api(const api_credentials& creds, std::string_view authorization,
                                   std::string_view timestamp, std::string_view signature, std::string_view body,
                                   std::int64_t now_s);

}  // namespace tickstream::ingest
