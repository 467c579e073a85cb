// The JWT verifier against tokens signed here with OpenSSL (keys generated per run).
#include <catch2/catch.hpp>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <memory>
#include <string>

#include "edge/auth/jwt_verifier.hpp"
#include "tests/edge/support/jwt_test_tokens.hpp"

using namespace tickstream::edge;
using namespace tickstream::test;

namespace {

constexpr std::int64_t now = 1'795'185'000;
const std::string hs_secret = "0123456789abcdef0123456789abcdef-test";

std::string claims(std::int64_t exp, const std::string& extra = "") {
  return R"({"sub":"user-42","exp":)" + std::to_string(exp) + R"(,"roles":["admin","trader"])" + extra + "}";
}

struct keys {
  pkey_ptr rsa{EVP_RSA_gen(2048)};
  pkey_ptr ec{EVP_EC_gen("P-256")};
};

const keys& test_keys() {
  static const keys k;
  return k;
}

std::shared_ptr<const jwt_verifier> verifier(std::vector<jwt_alg> algs, std::string pem = {},
                                             std::optional<std::string> aud = {}, std::optional<std::string> iss = {}) {
  jwt_config c;
  c.accepted = std::move(algs);
  c.hs_secret = hs_secret;
  c.public_key_pem = std::move(pem);
  c.audience = std::move(aud);
  c.issuer = std::move(iss);
  auto v = jwt_verifier::make(std::move(c));
  REQUIRE(v.ok());
  return v.value();
}

std::string code_of(const jwt_verifier& v, const std::string& t) {
  const auto r = v.verify(t, now);
  return r.ok() ? std::string("ok") : r.err().code;
}

}  // namespace

TEST_CASE("base64url round-trips and refuses other alphabets", "[jwt]") {
  for (const std::string& s :
       std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\xff\xfe\x00", 3)}) {
    CHECK(base64url_decode(base64url_encode(s)) == s);
  }
  CHECK(base64url_encode("\xfb\xff") == "-_8");
  CHECK_FALSE(base64url_decode("ab+/"));
  CHECK_FALSE(base64url_decode("a"));
}

TEST_CASE("valid HS256, RS256 and ES256 tokens give the subject and roles", "[jwt]") {
  const auto& k = test_keys();
  const auto hs = verifier({jwt_alg::hs256});
  const auto t1 = token("HS256", claims(now + 60), [](std::string_view in) { return hmac(hs_secret, in); });
  const auto id = hs->verify(t1, now);
  REQUIRE(id.ok());
  CHECK(id->user_id == "user-42");
  CHECK(id->roles == std::vector<std::string>{"admin", "trader"});
  CHECK(id->expires_at_s == now + 60 + 30);  // exp plus the leeway: when a new upgrade would be refused

  const auto rs = verifier({jwt_alg::rs256}, public_pem(k.rsa.get()));
  CHECK(code_of(*rs, token("RS256", claims(now + 60),
                           [&](std::string_view in) { return sign_with(k.rsa.get(), in); })) == "ok");
  const auto es = verifier({jwt_alg::es256}, public_pem(k.ec.get()));
  CHECK(code_of(*es, token("ES256", claims(now + 60),
                           [&](std::string_view in) { return der_to_raw_es256(sign_with(k.ec.get(), in)); })) == "ok");
}

TEST_CASE("every bad credential is refused with its reason", "[jwt]") {
  const auto& k = test_keys();
  const auto rs_pem = public_pem(k.rsa.get());
  const auto rs = verifier({jwt_alg::rs256}, rs_pem);
  const auto rs_sign = [&](std::string_view in) { return sign_with(k.rsa.get(), in); };
  // Wrong signature: another key.
  pkey_ptr other(EVP_RSA_gen(2048));
  CHECK(code_of(*rs, token("RS256", claims(now + 60),
                           [&](std::string_view in) { return sign_with(other.get(), in); })) == "bad_signature");
  // alg:none, with or without a signature.
  CHECK(code_of(*rs, token("none", claims(now + 60), [](std::string_view) { return std::string(); })) ==
        "alg_not_allowed");
  // HS/RS confusion: an HS256 token keyed with the RSA public key is not even considered.
  CHECK(code_of(*rs, token("HS256", claims(now + 60), [&](std::string_view in) { return hmac(rs_pem, in); })) ==
        "alg_not_allowed");
  // Expired (past the leeway) and not yet valid; within the leeway both pass.
  CHECK(code_of(*rs, token("RS256", claims(now - 31), rs_sign)) == "expired");
  CHECK(code_of(*rs, token("RS256", claims(now - 29), rs_sign)) == "ok");
  CHECK(code_of(*rs, token("RS256", claims(now - 30), rs_sign)) == "expired");  // exactly at exp + leeway
  // exp and nbf must be dates: a string, a boolean or a date out of range is malformed, not eternal.
  for (const auto* bad : {R"("tomorrow")", "true", "-5", "1e300"}) {
    CHECK(code_of(*rs, token("RS256", std::string(R"({"sub":"u","exp":)") + bad + "}", rs_sign)) == "malformed_token");
    CHECK(code_of(*rs, token("RS256", claims(now + 60, std::string(R"(,"nbf":)") + bad), rs_sign)) ==
          "malformed_token");
  }
  // A fractional NumericDate is a date.
  CHECK(code_of(*rs, token("RS256", R"({"sub":"u","exp":)" + std::to_string(now + 60) + ".5}", rs_sign)) == "ok");
  // No exp at all: refused unless the operator allows tokens that never expire.
  CHECK(code_of(*rs, token("RS256", R"({"sub":"u"})", rs_sign)) == "missing_expiry");
  jwt_config lax;
  lax.accepted = {jwt_alg::hs256};
  lax.hs_secret = hs_secret;
  lax.require_exp = false;
  const auto forever = jwt_verifier::make(lax);
  REQUIRE(forever.ok());
  const auto eternal = forever.value()->verify(
      token("HS256", R"({"sub":"u"})", [](std::string_view in) { return hmac(hs_secret, in); }), now);
  REQUIRE(eternal.ok());
  CHECK_FALSE(eternal->expires_at_s);
  CHECK(code_of(*rs, token("RS256", claims(now + 600, R"(,"nbf":)" + std::to_string(now + 31)), rs_sign)) ==
        "not_yet_valid");
  // Audience and issuer, when configured.
  const auto scoped =
      verifier({jwt_alg::rs256}, rs_pem, std::string("tickstream"), std::string("https://auth.example"));
  CHECK(code_of(*scoped, token("RS256", claims(now + 60, R"(,"aud":"other","iss":"https://auth.example")"), rs_sign)) ==
        "wrong_audience");
  CHECK(code_of(*scoped, token("RS256", claims(now + 60, R"(,"aud":["x","tickstream"],"iss":"https://evil")"),
                               rs_sign)) == "wrong_issuer");
  CHECK(code_of(*scoped, token("RS256", claims(now + 60, R"(,"aud":["x","tickstream"],"iss":"https://auth.example")"),
                               rs_sign)) == "ok");
  // Malformed tokens and claims without a usable subject.
  CHECK(code_of(*rs, "not.a.jwt!") == "malformed_token");
  CHECK(code_of(*rs, "onlyonepart") == "malformed_token");
  CHECK(code_of(*rs, token("RS256", R"({"exp":)" + std::to_string(now + 60) + "}", rs_sign)) == "missing_subject");
  CHECK(code_of(*rs, token("RS256", R"({"sub":"a b","exp":)" + std::to_string(now + 60) + "}", rs_sign)) ==
        "missing_subject");
  // A tampered payload no longer matches its signature.
  auto t = token("RS256", claims(now + 60), rs_sign);
  const auto first_dot = t.find('.');
  t.replace(first_dot + 1, t.find('.', first_dot + 1) - first_dot - 1,
            base64url_encode(R"({"sub":"someone-else","exp":)" + std::to_string(now + 60) + "}"));
  CHECK(code_of(*rs, t) == "bad_signature");
}

TEST_CASE("configuration errors are caught at start-up", "[jwt]") {
  jwt_config none;
  CHECK(jwt_verifier::make(none).err().code == "bad_config");
  jwt_config short_secret;
  short_secret.accepted = {jwt_alg::hs256};
  short_secret.hs_secret = "short";
  CHECK(jwt_verifier::make(short_secret).err().code == "bad_config");
  jwt_config wrong_key;
  wrong_key.accepted = {jwt_alg::es256};
  wrong_key.public_key_pem = public_pem(test_keys().rsa.get());
  CHECK(jwt_verifier::make(wrong_key).err().message == "the public key does not fit ES256");
}
