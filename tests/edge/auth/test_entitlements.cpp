// Entitlement patterns: exact names, prefixes, everything, nothing.
#include <catch2/catch.hpp>

#include "edge/auth/entitlement_records.hpp"
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

TEST_CASE("entitlement records parse, and refuse what is not one", "[entitlements]") {
  using namespace tickstream::edge;
  entitlement_records r;
  REQUIRE(parse_user_record(R"({"plan":"basic","patterns":["crypto:*"]})", r).ok());
  CHECK(r.plan == "basic");
  CHECK(r.user == std::vector<std::string>{"crypto:*"});
  REQUIRE(parse_plan_record(R"({"patterns":["US:*","news"]})", r).ok());
  CHECK(r.plan_patterns == std::vector<std::string>{"US:*", "news"});
  entitlement_records bad;
  CHECK(parse_user_record("[", bad).err().code == "bad_record");
  CHECK(parse_user_record(R"({"patterns":"US:*"})", bad).err().code == "bad_record");
  CHECK(parse_user_record(R"({"patterns":["A*B"]})", bad).err().code == "bad_record");
  CHECK(parse_user_record(R"({"plan":"no spaces","patterns":[]})", bad).err().code == "bad_record");
  CHECK(parse_plan_record(R"({"patterns":[7]})", bad).err().code == "bad_record");
  CHECK_FALSE(bad.any());
}

TEST_CASE("entitlements merge the claim with the records, the default only without records", "[entitlements]") {
  using namespace tickstream::edge;
  const auto claim = std::make_shared<const entitlements>(std::vector<std::string>{"AAPL"});
  const auto fallback = std::make_shared<const entitlements>(std::vector<std::string>{"SPY"});
  const entitlement_records none;
  CHECK(merge_entitlements(claim, none, fallback) == claim);
  CHECK(merge_entitlements(nullptr, none, fallback) == fallback);
  CHECK(merge_entitlements(nullptr, none, nullptr) == nullptr);  // everything, as configured
  entitlement_records user_and_plan;
  user_and_plan.user = std::vector<std::string>{"crypto:*"};
  user_and_plan.plan = "basic";
  user_and_plan.plan_patterns = std::vector<std::string>{"US:*", "news"};
  const auto merged = merge_entitlements(claim, user_and_plan, fallback);
  CHECK(merged->allows("AAPL"));
  CHECK(merged->allows("CRYPTO:BTC"));
  CHECK(merged->allows("US:MSFT"));
  CHECK(merged->allows("news"));
  CHECK_FALSE(merged->allows("SPY"));  // a record present: the default no longer applies
  entitlement_records empty_user;
  empty_user.user = std::vector<std::string>{};
  CHECK_FALSE(merge_entitlements(nullptr, empty_user, fallback)->allows("SPY"));
}
