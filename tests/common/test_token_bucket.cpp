#include <catch2/catch.hpp>

#include "common/token_bucket.hpp"

using tickstream::common::token_bucket;

TEST_CASE("token bucket: a full burst, then one token per refill interval", "[limits]") {
  token_bucket b(10, 5, 0);  // bursts of 10, 5 a second: one token per 200 ms
  int taken = 0;
  for (int i = 0; i < 15; ++i) taken += b.take(0) ? 1 : 0;
  CHECK(taken == 10);
  CHECK_FALSE(b.take(199'000));
  CHECK(b.take(200'000));
  CHECK_FALSE(b.take(200'000));
  CHECK_FALSE(b.full(200'000));
  CHECK(b.full(2'200'000));  // 2 s refill 10 tokens: full (and capped there)
  taken = 0;
  for (int i = 0; i < 15; ++i) taken += b.take(10'000'000) ? 1 : 0;
  CHECK(taken == 10);
}

TEST_CASE("token bucket: a clock that steps back earns nothing, then or later", "[limits]") {
  token_bucket b(2, 1, 5'000'000);
  CHECK(b.take(5'000'000));
  CHECK(b.take(5'000'000));
  CHECK_FALSE(b.take(1'000'000));  // earlier than the last use
  CHECK_FALSE(b.take(5'500'000));  // half a token since the latest time seen
  CHECK(b.take(6'000'000));
}
