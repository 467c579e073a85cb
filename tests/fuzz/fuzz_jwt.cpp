// The JWT verifier (edge::jwt_verifier::verify, HS256 with a fixed secret) on arbitrary bytes.
//
// Byte 0 chooses how the rest is used:
//   even: the rest is a token as a client sends it (the signature rarely verifies: the seeds
//         hold tokens signed with this secret, so mutations reach the parts' decoding);
//   odd:  the rest is a claims text (after an optional header text and '\n'), which the harness
//         encodes and signs with the secret, so the claims path is reached past the signature.
// Two verifiers: the defaults (exp required), and one with an issuer, an audience, exp optional
// and a custom roles claim. Checked:
//   - an accepted token names a valid user id, expires after now (or only when exp is optional
//     has no expiry), and has the required issuer and audience;
//   - a refused one has one of the documented codes;
//   - changing any byte of a verified token's signature gets it refused;
//   - base64url_decode(base64url_encode(x)) == x.
#include <openssl/hmac.h>

#include <rapidjson/document.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/event_codec.hpp"
#include "edge/auth/jwt_verifier.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace tickstream;
using edge::jwt_verifier;

namespace {

constexpr std::string_view secret = "fuzzing-secret-at-least-32-bytes-long!!";
constexpr std::int64_t now_s = 1'700'000'000;

std::shared_ptr<const jwt_verifier> make(bool strict) {
  edge::jwt_config c;
  c.accepted = {edge::jwt_alg::hs256};
  c.hs_secret = std::string(secret);
  if (strict) {
    c.issuer = "https://issuer.example";
    c.audience = "tickstream";
    c.require_exp = false;
    c.roles_claim = "https://tickstream/roles";
  }
  auto v = jwt_verifier::make(c);
  FUZZ_CHECK(v.ok());
  return std::move(v).value();
}

std::string sign(std::string_view input) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return {reinterpret_cast<const char*>(mac), len};
}

void check(const jwt_verifier& v, bool strict, std::string_view token) {
  const auto id = v.verify(token, now_s);
  if (!id) {
    static const std::array<std::string_view, 9> codes = {"malformed_token", "alg_not_allowed", "bad_signature",
                                                          "expired",         "missing_expiry",  "not_yet_valid",
                                                          "wrong_issuer",    "wrong_audience",  "missing_subject"};
    FUZZ_CHECK(std::find(codes.begin(), codes.end(), id.err().code) != codes.end());
    return;
  }
  FUZZ_CHECK(common::is_valid_user_id(id->user_id));
  if (id->expires_at_s) {
    FUZZ_CHECK(*id->expires_at_s > now_s);
  } else {
    FUZZ_CHECK(strict);  // without exp only where the operator allows it
  }
  const auto dot1 = token.find('.');
  const auto dot2 = token.rfind('.');
  FUZZ_CHECK(dot1 != std::string_view::npos && dot2 != dot1);
  if (strict) {
    // The claims say what the verifier required.
    const auto claims = edge::base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
    FUZZ_CHECK(claims.has_value());
    rapidjson::Document d;
    d.Parse(claims->data(), claims->size());
    FUZZ_CHECK(!d.HasParseError() && d.IsObject());
    FUZZ_CHECK(d.HasMember("iss") && d["iss"].IsString() &&
               std::string_view(d["iss"].GetString()) == "https://issuer.example");
    FUZZ_CHECK(d.HasMember("aud"));
  }
  // Any change to the signature is refused.
  std::string tampered(token);
  for (std::size_t i = dot2 + 1; i < tampered.size(); i += 7) {
    const char was = tampered[i];
    tampered[i] = was == 'A' ? 'B' : 'A';
    const auto again = v.verify(tampered, now_s);
    // (A change in the last character may touch only padding bits of base64url; then the bytes
    // and so the signature are the same.)
    if (again.ok())
      FUZZ_CHECK(edge::base64url_decode(tampered.substr(dot2 + 1)) == edge::base64url_decode(token.substr(dot2 + 1)));
    tampered[i] = was;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto lenient = make(false);
  static const auto strict = make(true);
  if (size < 1) return 0;
  const auto rest = fuzz::as_view(data + 1, size - 1);
  FUZZ_CHECK(edge::base64url_decode(edge::base64url_encode(rest)) == std::string(rest));
  if ((data[0] & 1) == 0) {
    check(*lenient, false, rest);
    check(*strict, true, rest);
    return 0;
  }
  // A token made here: header (default: HS256) and the fuzzed claims, signed with the secret.
  std::string_view header = R"({"alg":"HS256","typ":"JWT"})";
  std::string_view claims = rest;
  if (const auto nl = rest.find('\n'); nl != std::string_view::npos && (data[0] & 2) != 0) {
    header = rest.substr(0, nl);
    claims = rest.substr(nl + 1);
  }
  const auto input = edge::base64url_encode(header) + "." + edge::base64url_encode(claims);
  const auto token = input + "." + edge::base64url_encode(sign(input));
  check(*lenient, false, token);
  check(*strict, true, token);
  return 0;
}
