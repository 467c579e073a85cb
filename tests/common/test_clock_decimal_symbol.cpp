#include <catch2/catch.hpp>

#include "common/clock.hpp"
#include "common/decimal.hpp"
#include "common/symbol.hpp"

using namespace tickstream::common;

TEST_CASE("ISO-8601 times format and parse back exactly", "[clock]") {
  const std::int64_t t = 1'795'185'000'036'704LL;  // 2026-11-20T14:30:00.036704Z
  CHECK(format_iso8601(t) == "2026-11-20T14:30:00.036704Z");
  CHECK(parse_iso8601(format_iso8601(t)) == t);
  CHECK(format_iso8601(0) == "1970-01-01T00:00:00.000000Z");
  CHECK(parse_iso8601("2024-02-29T23:59:59Z") == 1'709'251'199'000'000LL);
}

TEST_CASE("ISO-8601 parsing handles fractions and offsets", "[clock]") {
  CHECK(parse_iso8601("2026-11-20T14:30:00.1Z") == parse_iso8601("2026-11-20T14:30:00.100000Z"));
  // Nanoseconds (as Alpaca sends) are truncated to microseconds.
  CHECK(parse_iso8601("2026-11-20T14:30:00.123456789Z") == parse_iso8601("2026-11-20T14:30:00.123456Z"));
  CHECK(parse_iso8601("2026-11-20T09:30:00-05:00") == parse_iso8601("2026-11-20T14:30:00Z"));
  CHECK(parse_iso8601("2026-11-20T16:00:00+01:30") == parse_iso8601("2026-11-20T14:30:00Z"));
}

TEST_CASE("ISO-8601 parsing rejects malformed and out-of-range text", "[clock]") {
  for (const char* bad :
       {"", "2026-11-20", "2026-11-20T14:30:00", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "2026-11-20T24:00:00Z",
        "2026-11-20T14:30:00.Z", "2026-11-20T14:30:00Zjunk", "2026/11/20T14:30:00Z", "2026-11-20T14:30:00+5:00"}) {
    INFO(bad);
    CHECK_FALSE(parse_iso8601(bad).has_value());
  }
}

TEST_CASE("plain decimals are validated by the JSON number grammar without exponents", "[decimal]") {
  for (const char* ok : {"0", "1", "150.25", "-0.5", "0.0001", "123456789012345678901234567890"}) {
    INFO(ok);
    CHECK(is_plain_decimal(ok));
  }
  for (const char* bad : {"", "-", "01", "1.", ".5", "1e5", "+1", "1.2.3", "NaN", "1 ", "0x10",
                          "12345678901234567890123456789012345678901"}) {
    INFO(bad);
    CHECK_FALSE(is_plain_decimal(bad));
  }
}

TEST_CASE("decimals compare by value", "[decimal]") {
  CHECK(compare_decimal("1.50", "1.5") == 0);
  CHECK(compare_decimal("9.99", "10") < 0);
  CHECK(compare_decimal("100.01", "100.009") > 0);
  CHECK(compare_decimal("0", "0.000") == 0);
}

TEST_CASE("topic names are lower-case words with _ . - : and at most 64 characters", "[symbol]") {
  CHECK(validate_topic("news").value() == "news");
  CHECK(validate_topic("signals:momentum").value() == "signals:momentum");
  CHECK(validate_topic("alerts.eu-1_x").value() == "alerts.eu-1_x");
  CHECK(validate_topic(std::string(64, 'a')).ok());
  CHECK(validate_topic(std::string(65, 'a')).err().code == "invalid_topic");
  CHECK(validate_topic("").err().code == "invalid_topic");
  CHECK(validate_topic("News").err().code == "invalid_topic");
  CHECK(validate_topic(":news").err().code == "invalid_topic");
  CHECK(validate_topic("news feed").err().code == "invalid_topic");
  CHECK(validate_topic("a{b}").err().code == "invalid_topic");
}

TEST_CASE("symbols are upper-cased and validated", "[symbol]") {
  CHECK(normalize_symbol("aapl").value() == "AAPL");
  CHECK(normalize_symbol("BRK.B").value() == "BRK.B");
  CHECK(normalize_symbol("BINANCE:BTCUSDT").value() == "BINANCE:BTCUSDT");
  CHECK(normalize_symbol("btc/usd").value() == "BTC/USD");
  for (const char* bad : {"", "A B", "AAPL!", ".AAPL", "{md:X}", "ÄPPLE", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456"}) {
    INFO(bad);
    const auto r = normalize_symbol(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == "invalid_symbol");
  }
}
