#include "ingest/sources/webhook_signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>

namespace tickstream::ingest {
namespace {

std::string hmac_hex(std::string_view secret, std::string_view ts, std::string_view body) {
  std::string message;
  message.reserve(ts.size() + 1 + body.size());
  message.append(ts).append(".").append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "sha256=";
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[mac[i] >> 4];
    out += hex[mac[i] & 0xf];
  }
  return out;
}

}  // namespace

std::string sign_webhook(std::string_view secret, std::int64_t ts, std::string_view body) {
  return hmac_hex(secret, std::to_string(ts), body);
}

common::result<bool> verify_webhook(std::string_view secret, std::string_view timestamp_header,
                                    std::string_view signature_header, std::string_view body, std::int64_t now_s,
                                    std::int64_t tolerance_s) {
  if (signature_header.empty()) return common::error{"missing_signature", "X-Tickstream-Signature is required"};
  std::int64_t ts = 0;
  const auto [end, ec] =
      std::from_chars(timestamp_header.data(), timestamp_header.data() + timestamp_header.size(), ts);
  if (timestamp_header.empty() || ec != std::errc{} || end != timestamp_header.data() + timestamp_header.size()) {
    return common::error{"bad_timestamp", "X-Tickstream-Timestamp must be the Unix time in seconds"};
  }
  if (ts < now_s - tolerance_s || ts > now_s + tolerance_s) {
    return common::error{"bad_timestamp", "X-Tickstream-Timestamp is more than " + std::to_string(tolerance_s) +
                                              " s away from the server's clock"};
  }
  const auto expected = hmac_hex(secret, timestamp_header, body);
  if (signature_header.size() != expected.size() ||
      CRYPTO_memcmp(signature_header.data(), expected.data(), expected.size()) != 0) {
    return common::error{"bad_signature", "the signature does not match the body"};
  }
  return true;
}

}  // namespace tickstream::ingest
