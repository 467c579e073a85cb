#pragma once
// The webhook's request signature: X-Tickstream-Timestamp carries the Unix time in seconds and
// X-Tickstream-Signature carries "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)).
// Signing the timestamp with the body and refusing old timestamps stops replays of captured
// requests. Pure (OpenSSL only), so tests sign and verify directly.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace tickstream::ingest {

// The header value for a body signed at unix time ts.
std::string sign_webhook(std::string_view secret, std::int64_t ts, std::string_view body);

// ok, or an error: "missing_signature", "bad_timestamp" (absent, malformed or more than
// tolerance_s from now_s), "bad_signature".
common::result<bool> verify_webhook(std::string_view secret, std::string_view timestamp_header,
                                    std::string_view signature_header, std::string_view body, std::int64_t now_s,
                                    std::int64_t tolerance_s = 300);

}  // namespace tickstream::ingest
