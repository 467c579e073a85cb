// Sample messages in the providers' documented formats, kept as test vectors.
#include <catch2/catch.hpp>

#include <string>

#include "common/clock.hpp"
#include "common/event_codec.hpp"
#include "ingest/normalize/alpaca_market_normalizer.hpp"
#include "ingest/normalize/finnhub_normalizer.hpp"
#include "ingest/normalize/tick_merger.hpp"

using namespace tickstream;
using ingest::plain_decimal;

namespace {

const common::price_update& tick(const ingest::normalized& n, std::size_t i) {
  REQUIRE(i < n.events.size());
  return std::get<common::price_update>(n.events[i]);
}

}  // namespace

TEST_CASE("exponent notation becomes an exact plain decimal", "[normalize]") {
  CHECK(plain_decimal("129.575") == "129.575");
  CHECK(plain_decimal("1.5e-05") == "0.000015");
  CHECK(plain_decimal("2.3E+3") == "2300");
  CHECK(plain_decimal("12.50e1") == "125");
  CHECK(plain_decimal("-4.2e-1") == "-0.42");
  CHECK(plain_decimal("0e5") == "0");
  CHECK_FALSE(plain_decimal("abc"));
  CHECK_FALSE(plain_decimal("1e400"));
  CHECK_FALSE(plain_decimal("NaN"));
}

TEST_CASE("Finnhub trade batches become one price_update per trade, digits kept", "[normalize][finnhub]") {
  ingest::finnhub_normalizer n;
  // The documented shape, with the conditions list "c" and a price with three decimals.
  const auto out =
      n.normalize(R"({"data":[{"c":["1","8","24","12"],"p":122.1,"s":"TSLA","t":1672348887195,"v":1},)"
                  R"({"c":["1","24","12"],"p":129.575,"s":"AAPL","t":1672348887785,"v":100},)"
                  R"({"p":2.345e-05,"s":"BINANCE:SHIBUSDT","t":1672348887800,"v":1000000}],"type":"trade"})",
                  1'672'348'887'900'000);
  CHECK(out.problems.empty());
  REQUIRE(out.events.size() == 3);
  CHECK(tick(out, 0).symbol == "TSLA");
  CHECK(tick(out, 0).price == "122.1");
  CHECK(tick(out, 1).price == "129.575");
  CHECK(tick(out, 1).size == "100");
  CHECK(tick(out, 1).source_time_us == 1'672'348'887'785'000);
  CHECK(tick(out, 1).recv_time_us == 1'672'348'887'900'000);
  CHECK(tick(out, 1).source == "finnhub");
  CHECK(tick(out, 2).symbol == "BINANCE:SHIBUSDT");
  CHECK(tick(out, 2).price == "0.00002345");
  // The result encodes as a valid event.
  CHECK(common::decode_event(common::encode_event(tick(out, 1))).ok());
}

TEST_CASE("Finnhub pings, errors, unknown types and broken trades", "[normalize][finnhub]") {
  ingest::finnhub_normalizer n;
  CHECK(n.normalize(R"({"type":"ping"})", 1).notices == std::vector<std::string>{"ping"});
  const auto err = n.normalize(R"({"type":"error","msg":"Subscribing to too many symbols"})", 1);
  REQUIRE(err.problems.size() == 1);
  CHECK(err.problems[0].code == "upstream_error");
  CHECK(err.problems[0].message == "Subscribing to too many symbols");
  CHECK(n.normalize(R"({"type":"news"})", 1).problems.at(0).code == "unknown_type");
  CHECK(n.normalize(R"({"type":"trade"})", 1).problems.at(0).message == "field 'data': is required");
  CHECK(n.normalize("{not json", 1).problems.at(0).code == "invalid_json");
  // One bad trade in a batch does not lose the good ones around it.
  const auto mixed =
      n.normalize(R"({"type":"trade","data":[{"p":1.5,"s":"AAPL","t":1672348887195,"v":1},)"
                  R"({"p":-3,"s":"AAPL","t":1672348887196,"v":1},{"p":1.6,"s":"AAPL","t":1672348887197,"v":1}]})",
                  1);
  CHECK(mixed.events.size() == 2);
  REQUIRE(mixed.problems.size() == 1);
  CHECK(mixed.problems[0].code == "invalid_trade");
  CHECK(mixed.problems[0].message == "data[1]: field 'p': must be greater than zero");
}

TEST_CASE("Alpaca market data: control messages, trades and quotes merged per symbol", "[normalize][alpaca]") {
  ingest::alpaca_market_normalizer n;
  CHECK(n.normalize(R"([{"T":"success","msg":"connected"}])", 1).notices == std::vector<std::string>{"connected"});
  CHECK(n.normalize(R"([{"T":"success","msg":"authenticated"}])", 1).notices ==
        std::vector<std::string>{"authenticated"});
  CHECK(n.normalize(R"([{"T":"subscription","trades":["AAPL"],"quotes":["AAPL"],"bars":[]}])", 1).notices ==
        std::vector<std::string>{"subscribed"});
  // A quote before any trade has no price to report yet.
  const auto early = n.normalize(R"([{"T":"q","S":"AAPL","bx":"U","bp":150.20,"bs":1,"ax":"Q","ap":150.30,"as":4,)"
                                 R"("t":"2021-02-22T15:51:45.335689322Z","c":["R"],"z":"C"}])",
                                 10);
  CHECK(early.events.empty());
  CHECK(early.problems.empty());
  const auto trade = n.normalize(R"([{"T":"t","S":"AAPL","i":52983525029461,"x":"V","p":150.25,"s":100,)"
                                 R"("t":"2021-02-22T15:51:44.208Z","c":["@","I"],"z":"C"}])",
                                 20);
  REQUIRE(trade.events.size() == 1);
  CHECK(tick(trade, 0).price == "150.25");
  CHECK(tick(trade, 0).bid == "150.20");  // the earlier quote is merged in
  CHECK(tick(trade, 0).ask == "150.30");
  CHECK(tick(trade, 0).size == "100");
  CHECK(tick(trade, 0).source_time_us == *common::parse_iso8601("2021-02-22T15:51:44.208Z"));
  const auto quote = n.normalize(
      R"([{"T":"q","S":"AAPL","bp":150.22,"bs":3,"ap":150.28,"as":2,"t":"2021-02-22T15:51:46.000000001Z"}])", 30);
  REQUIRE(quote.events.size() == 1);
  CHECK(tick(quote, 0).price == "150.25");  // last trade
  CHECK(tick(quote, 0).bid == "150.22");
  CHECK(tick(quote, 0).recv_time_us == 30);
}

TEST_CASE("Alpaca market data: errors, bars and broken items", "[normalize][alpaca]") {
  ingest::alpaca_market_normalizer n;
  const auto err = n.normalize(R"([{"T":"error","code":402,"msg":"auth failed"}])", 1);
  REQUIRE(err.problems.size() == 1);
  CHECK(err.problems[0].message == "code 402: auth failed");
  const auto mixed =
      n.normalize(R"([{"T":"b","S":"AAPL","o":150,"h":151,"l":149,"c":150.5,"v":1000,"t":"2021-02-22T15:51:00Z"},)"
                  R"({"T":"t","S":"AAPL","p":"oops","s":1,"t":"2021-02-22T15:51:44Z"},)"
                  R"({"T":"zz"},)"
                  R"({"T":"t","S":"MSFT","p":240.01,"s":5,"t":"2021-02-22T15:51:44Z"}])",
                  1);
  CHECK(mixed.events.size() == 1);
  REQUIRE(mixed.problems.size() == 2);
  CHECK(mixed.problems[0].code == "invalid_trade");
  CHECK(mixed.problems[0].message == "[1]: field 'p': must be a number");
  CHECK(mixed.problems[1].code == "unknown_type");
  CHECK(n.normalize(R"({"T":"t"})", 1).problems.at(0).message == "Alpaca market data messages must be JSON arrays");
}

TEST_CASE("Alpaca market data: quotes and times an edge would refuse are refused here", "[normalize][alpaca]") {
  // Found by fuzzing: a one-sided quote (bid 0), a crossed one or a time past 2100 became ticks
  // every edge refuses, and a bad quote stayed in the merger, riding on the symbol's later trades.
  ingest::alpaca_market_normalizer n;
  REQUIRE(n.normalize(R"([{"T":"t","S":"AAPL","p":150.25,"s":100,"t":"2021-02-22T15:51:44.208Z"}])", 1).events.size() ==
          1);
  for (const char* bad :
       {R"([{"T":"q","S":"AAPL","bp":0,"bs":0,"ap":150.30,"as":4,"t":"2021-02-22T15:51:45Z"}])",
        R"([{"T":"q","S":"AAPL","bp":150.40,"bs":1,"ap":150.30,"as":4,"t":"2021-02-22T15:51:45Z"}])",
        R"([{"T":"q","S":"AAPL","bp":150.20,"bs":1,"ap":150.30,"as":4,"t":"2221-02-22T15:51:45Z"}])"}) {
    const auto out = n.normalize(bad, 2);
    CHECK(out.events.empty());
    REQUIRE(out.problems.size() == 1);
    CHECK(out.problems[0].code == "invalid_quote");
  }
  const auto late = n.normalize(R"([{"T":"t","S":"AAPL","p":150.26,"s":1,"t":"2221-02-22T15:51:44Z"}])", 3);
  CHECK(late.events.empty());
  CHECK(late.problems.at(0).code == "invalid_trade");
  const auto trade =
      n.normalize(R"([{"T":"t","S":"AAPL","p":150.27,"s":5,"t":"2021-02-22T15:51:47Z"}])", 1'700'000'000'000'000);
  REQUIRE(trade.events.size() == 1);
  CHECK_FALSE(tick(trade, 0).bid.has_value());  // none of the refused quotes
  CHECK(common::decode_event(common::encode_event(trade.events[0])).ok());
}
