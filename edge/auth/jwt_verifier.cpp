#include "edge/auth/jwt_verifier.hpp"

#include "common/tier_command.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <rapidjson/document.h>

#include <algorithm>

#include "common/event_codec.hpp"

namespace tickstream::edge {

struct jwt_verifier::key {
  EVP_PKEY* pkey = nullptr;
  ~key() { EVP_PKEY_free(pkey); }
};

namespace {

constexpr std::string_view alg_name(jwt_alg a) {
  switch (a) {
    case jwt_alg::hs256: return "HS256";
    case jwt_alg::rs256: return "RS256";
    case jwt_alg::es256: return "ES256";
  }
  return "";
}

common::error fail(const char* code, std::string message) { return common::error{code, std::move(message)}; }

bool verify_digest_signature(EVP_PKEY* pkey, std::string_view signing_input, const std::string& der_signature) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return false;
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, pkey) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(der_signature.data()), der_signature.size(),
                             reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

// JWS ES256 signatures are R || S (32 bytes each); OpenSSL verifies DER.
std::optional<std::string> es256_to_der(const std::string& raw) {
  if (raw.size() != 64) return std::nullopt;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  if (sig == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
    ECDSA_SIG_free(sig);
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (len <= 0) return std::nullopt;
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

}  // namespace

std::optional<std::string> base64url_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size() * 3 / 4);
  unsigned buffer = 0;
  int bits = 0;
  for (const char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '-')
      v = 62;
    else if (c == '_')
      v = 63;
    else
      return std::nullopt;
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  if (bits >= 6) return std::nullopt;  // a dangling 6-bit group is not valid base64
  return out;
}

std::string base64url_encode(std::string_view in) {
  static constexpr char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (const char c : in) {
    buffer = (buffer << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(table[(buffer >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(table[(buffer << (6 - bits)) & 0x3f]);
  return out;
}

jwt_verifier::jwt_verifier(jwt_config config) : config_(std::move(config)), key_(std::make_unique<key>()) {}
jwt_verifier::~jwt_verifier() = default;

common::result<std::shared_ptr<const jwt_verifier>> jwt_verifier::make(jwt_config config) {
  if (config.accepted.empty()) return fail("bad_config", "no JWT algorithm is accepted");
  std::shared_ptr<jwt_verifier> v(new jwt_verifier(std::move(config)));
  const auto& c = v->config_;
  const bool hs = std::find(c.accepted.begin(), c.accepted.end(), jwt_alg::hs256) != c.accepted.end();
  const bool asym = std::any_of(c.accepted.begin(), c.accepted.end(), [](jwt_alg a) { return a != jwt_alg::hs256; });
  if (hs && c.hs_secret.size() < 32) return fail("bad_config", "an HS256 secret must be at least 32 bytes");
  if (asym) {
    BIO* bio = BIO_new_mem_buf(c.public_key_pem.data(), static_cast<int>(c.public_key_pem.size()));
    v->key_->pkey = bio != nullptr ? PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr) : nullptr;
    BIO_free(bio);
    if (v->key_->pkey == nullptr) return fail("bad_config", "the public key is not a PEM public key");
    const int type = EVP_PKEY_base_id(v->key_->pkey);
    for (const auto a : c.accepted) {
      if ((a == jwt_alg::rs256 && type != EVP_PKEY_RSA) || (a == jwt_alg::es256 && type != EVP_PKEY_EC)) {
        return fail("bad_config", std::string("the public key does not fit ") + std::string(alg_name(a)));
      }
    }
  }
  return std::shared_ptr<const jwt_verifier>(std::move(v));
}

common::result<jwt_identity> jwt_verifier::verify(std::string_view token, std::int64_t now_s) const {
  if (token.size() > 8192) return fail("malformed_token", "token is longer than 8192 bytes");
  const auto dot1 = token.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return fail("malformed_token", "a JWT has three dot-separated parts");
  }
  const auto header_text = base64url_decode(token.substr(0, dot1));
  const auto payload_text = base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  const auto signature = base64url_decode(token.substr(dot2 + 1));
  if (!header_text || !payload_text || !signature) return fail("malformed_token", "a part is not base64url");

  rapidjson::Document header;
  header.Parse<rapidjson::kParseIterativeFlag>(header_text->data(), header_text->size());
  if (header.HasParseError() || !header.IsObject() || !header.HasMember("alg") || !header["alg"].IsString()) {
    return fail("malformed_token", "the header is not a JSON object with an \"alg\"");
  }
  const std::string_view alg(header["alg"].GetString(), header["alg"].GetStringLength());
  const auto pinned =
      std::find_if(config_.accepted.begin(), config_.accepted.end(), [&](jwt_alg a) { return alg_name(a) == alg; });
  if (pinned == config_.accepted.end()) {
    return fail("alg_not_allowed", "algorithm '" + std::string(alg) + "' is not accepted here");
  }

  const auto signing_input = token.substr(0, dot2);
  bool valid = false;
  if (*pinned == jwt_alg::hs256) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), config_.hs_secret.data(), static_cast<int>(config_.hs_secret.size()),
         reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac, &len);
    valid = signature->size() == len && CRYPTO_memcmp(signature->data(), mac, len) == 0;
  } else if (*pinned == jwt_alg::rs256) {
    valid = verify_digest_signature(key_->pkey, signing_input, *signature);
  } else if (const auto der = es256_to_der(*signature)) {
    valid = verify_digest_signature(key_->pkey, signing_input, *der);
  }
  if (!valid) return fail("bad_signature", "the signature does not verify");

  rapidjson::Document claims;
  claims.Parse<rapidjson::kParseIterativeFlag>(payload_text->data(), payload_text->size());
  if (claims.HasParseError() || !claims.IsObject()) return fail("malformed_token", "the claims are not a JSON object");
  jwt_identity id;
  // A NumericDate (RFC 7519 §2): seconds, possibly fractional, within a sane range; anything
  // else in exp/nbf makes the token malformed rather than silently never expiring.
  bool bad_date = false;
  const auto date = [&](const char* name) -> std::optional<std::int64_t> {
    const auto it = claims.FindMember(name);
    if (it == claims.MemberEnd()) return std::nullopt;
    constexpr double max_date = 253'402'300'799.0;  // 9999-12-31T23:59:59Z
    if (!it->value.IsNumber() || !(it->value.GetDouble() >= 0 && it->value.GetDouble() <= max_date)) {
      bad_date = true;
      return std::nullopt;
    }
    return it->value.IsInt64() ? it->value.GetInt64() : static_cast<std::int64_t>(it->value.GetDouble());
  };
  const auto leeway = config_.leeway.count();
  const auto exp = date("exp");
  const auto nbf = date("nbf");
  if (bad_date) return fail("malformed_token", "\"exp\" and \"nbf\" must be numbers of seconds since the epoch");
  if (exp) {
    if (now_s >= *exp + leeway) return fail("expired", "the token expired");
    id.expires_at_s = *exp + leeway;
  } else if (config_.require_exp) {
    return fail("missing_expiry", "the token has no \"exp\" (tokens must expire)");
  }
  if (nbf && now_s + leeway < *nbf) return fail("not_yet_valid", "the token is not valid yet");
  if (config_.issuer) {
    const auto it = claims.FindMember("iss");
    if (it == claims.MemberEnd() || !it->value.IsString() || *config_.issuer != it->value.GetString()) {
      return fail("wrong_issuer", "the token's issuer is not accepted");
    }
  }
  if (config_.audience) {
    const auto it = claims.FindMember("aud");
    bool found = false;
    if (it != claims.MemberEnd() && it->value.IsString()) found = *config_.audience == it->value.GetString();
    if (it != claims.MemberEnd() && it->value.IsArray()) {
      for (const auto& a : it->value.GetArray()) found |= a.IsString() && *config_.audience == a.GetString();
    }
    if (!found) return fail("wrong_audience", "the token is not meant for this service");
  }
  const auto sub = claims.FindMember("sub");
  if (sub == claims.MemberEnd() || !sub->value.IsString() ||
      !common::is_valid_user_id(std::string_view(sub->value.GetString(), sub->value.GetStringLength()))) {
    return fail("missing_subject", "the token has no usable \"sub\" (1-64 characters from A-Z a-z 0-9 _ . : -)");
  }
  id.user_id = sub->value.GetString();
  for (const char* claim : {"sid", "jti"}) {
    const auto it = claims.FindMember(claim);
    if (it == claims.MemberEnd() || !it->value.IsString()) continue;
    const std::string_view v(it->value.GetString(), it->value.GetStringLength());
    if (!common::is_valid_session_id(v))
      return fail("malformed_token", std::string("the token's \"") + claim + "\" is not usable");
    id.session_id = std::string(v);
    break;
  }
  if (const auto ent = claims.FindMember("entitlements"); ent != claims.MemberEnd()) {
    if (!ent->value.IsArray())
      return fail("malformed_token", "the token's \"entitlements\" is not an array of patterns");
    std::vector<std::string> patterns;
    for (const auto& p : ent->value.GetArray()) {
      if (!p.IsString() || !entitlements::is_valid_pattern(std::string_view(p.GetString(), p.GetStringLength()))) {
        return fail("malformed_token", "the token's \"entitlements\" holds an entry that is not a pattern");
      }
      patterns.emplace_back(p.GetString(), p.GetStringLength());
    }
    id.entitled = std::make_shared<const entitlements>(patterns);
  }
  if (const auto roles = claims.FindMember(config_.roles_claim.c_str());
      roles != claims.MemberEnd() && roles->value.IsArray()) {
    for (const auto& r : roles->value.GetArray()) {
      if (r.IsString()) id.roles.emplace_back(r.GetString());
    }
  }
  return id;
}

}  // namespace tickstream::edge
