// Entitlement patterns: exact names, prefixes, everything, nothing.
#include <catch2/catch.hpp>

#include "edge/auth/entitlements.hpp"

using tickstream::edge::entitlements;

TEST_CASE("entitlement patterns grant exact names, prefixes or everything", "[entitlements]") {
  const entitlements all;
  CHECK(all.allows("AAPL"));
  CHECK(all.allows("CRYPTO:BTC"));
  const entitlements some({"US:*", "crypto:*", "MSFT"});
  CHECK(some.allows("US:AAPL"));
  CHECK(some.allows("CRYPTO:BTC-USD"));
  CHECK(some.allows("MSFT"));
  CHECK_FALSE(some.allows("MSFTX"));
  CHECK_FALSE(some.allows("AAPL"));
  CHECK_FALSE(some.allows("US"));  // the prefix itself is not a name under it
  CHECK(some.allows("US:"));       // an empty rest matches (symbols never end in ':' in practice)
  const entitlements none(std::vector<std::string>{});
  CHECK_FALSE(none.allows("AAPL"));
}

TEST_CASE("entitlement lists parse from configuration and refuse bad entries", "[entitlements]") {
  auto e = entitlements::parse(" US:* , AAPL ,");
  REQUIRE(e.ok());
  CHECK(e->patterns() == std::vector<std::string>{"US:*", "AAPL"});
  CHECK(entitlements::parse("").value().patterns().empty());
  CHECK(entitlements::parse("*").value().allows("ANYTHING"));
  CHECK(entitlements::parse("A*B").err().code == "bad_pattern");
  CHECK(entitlements::parse("**").err().code == "bad_pattern");
  CHECK(entitlements::parse("has space").err().code == "bad_pattern");
  CHECK(entitlements::parse(std::string(65, 'A')).err().code == "bad_pattern");
  CHECK(entitlements::is_valid_pattern("BRK.B"));
  CHECK(entitlements::is_valid_pattern("BTC/USD"));
}
