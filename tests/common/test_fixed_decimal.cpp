#include <catch2/catch.hpp>

#include "common/fixed_decimal.hpp"

using tickstream::common::fixed_decimal;

namespace {
fixed_decimal d(const char* text) {
  auto v = fixed_decimal::parse(text);
  REQUIRE(v);
  return *v;
}
}  // namespace

TEST_CASE("fixed decimals parse plain decimals only and print them back exactly", "[decimal]") {
  CHECK(d("189.4").to_string() == "189.4");
  CHECK(d("-0.50").to_string() == "-0.5");
  CHECK(d("100").to_string(2) == "100.00");
  CHECK(d("0.000000000000000001").to_string() == "0.000000000000000001");
  CHECK_FALSE(fixed_decimal::parse("1e5"));
  CHECK_FALSE(fixed_decimal::parse("+1"));
  CHECK_FALSE(fixed_decimal::parse("01"));
  CHECK_FALSE(fixed_decimal::parse("1.0000000000000000000000001"));               // more places than max_scale
  CHECK_FALSE(fixed_decimal::parse("1234567890123456789012345678901234567890"));  // too long
}

TEST_CASE("fixed decimal arithmetic is exact, rounding half away from zero only when printed", "[decimal]") {
  CHECK(d("0.1").plus(d("0.2"))->to_string() == "0.3");  // not 0.30000000000000004
  CHECK(d("191.37").minus(d("189.4"))->times(d("10"))->to_string(2) == "19.70");
  CHECK(d("2.005").to_string(2) == "2.01");
  CHECK(d("-2.005").to_string(2) == "-2.01");
  CHECK(d("-2.004").to_string(2) == "-2.00");
  CHECK(d("19.7").times(d("100"))->divided_by(d("1894"), 2)->to_string(2) == "1.04");
  CHECK(d("1").divided_by(d("3"), 10)->to_string() == "0.3333333333");
  CHECK(d("2").divided_by(d("3"), 2)->to_string() == "0.67");
  CHECK(d("-2").divided_by(d("3"), 2)->to_string() == "-0.67");
  CHECK_FALSE(d("1").divided_by(d("0"), 2));
  // Overflow is reported, never wrapped.
  const auto big = d("99999999999999999999");  // 10^20 - 1: its square is past 2^127, about 1.7 x 10^38
  CHECK_FALSE(big.times(big));
  const auto mid = d("9999999999999");  // 10^13 - 1: the square fits, the cube does not
  REQUIRE(mid.times(mid));
  CHECK(mid.times(mid)->to_string() == "99999999999980000000000001");
  CHECK_FALSE(mid.times(mid)->times(mid));
}
