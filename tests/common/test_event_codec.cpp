#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/event_codec.hpp"

using namespace tickstream::common;

namespace {

// The fields of a full event, in schema order, as raw JSON values.
const std::vector<std::pair<std::string, std::string>> full_fields = {{"type", "\"price_update\""},
                                                                      {"symbol", "\"AAPL\""},
                                                                      {"price", "150.250"},
                                                                      {"bid", "150.20"},
                                                                      {"ask", "150.30"},
                                                                      {"bid_size", "1000"},
                                                                      {"ask_size", "1500"},
                                                                      {"size", "100"},
                                                                      {"volume", "5000000"},
                                                                      {"change", "-0.50"},
                                                                      {"change_percent", "-0.33"},
                                                                      {"timestamp", "\"2026-01-27T12:34:56.123000Z\""},
                                                                      {"recv_us", "1769517296130000"},
                                                                      {"source", "\"finnhub\""}};

// The full event with one field's raw value replaced, or the field removed when value is empty.
std::string with(const std::string& key, const std::string& value) {
  std::string out = "{";
  for (const auto& [k, v] : full_fields) {
    const std::string& use = k == key ? value : v;
    if (use.empty()) continue;
    if (out.size() > 1) out += ',';
    out += "\"" + k + "\":" + use;
  }
  return out + "}";
}

const std::string full = with("", "");

std::string error_of(const std::string& json) {
  auto r = decode_event(json);
  REQUIRE_FALSE(r.ok());
  return r.err().code + ": " + r.err().message;
}

}  // namespace

TEST_CASE("a full price_update decodes with exact decimals and re-encodes identically", "[codec]") {
  auto r = decode_event(full);
  REQUIRE(r.ok());
  const auto& t = std::get<price_update>(r.value());
  CHECK(t.symbol == "AAPL");
  CHECK(t.price == "150.250");  // digits kept as sent, trailing zero included
  CHECK(t.change == "-0.50");
  CHECK(t.volume == "5000000");
  CHECK(t.recv_time_us == 1769517296130000);
  CHECK(t.source == "finnhub");
  CHECK(encode_event(t) == full);
}

TEST_CASE("a minimal price_update needs only symbol, price, timestamp, recv_us and source", "[codec]") {
  const std::string minimal =
      R"({"type":"price_update","symbol":"msft","price":"410.5","timestamp":"2026-01-27T12:34:56Z",)"
      R"("recv_us":1769517296000001,"source":"replay"})";
  auto r = decode_event(minimal);
  REQUIRE(r.ok());
  const auto& t = std::get<price_update>(r.value());
  CHECK(t.symbol == "MSFT");
  CHECK(t.price == "410.5");
  CHECK_FALSE(t.bid.has_value());
  CHECK(encode_event(t) ==
        R"({"type":"price_update","symbol":"MSFT","price":410.5,"timestamp":"2026-01-27T12:34:56.000000Z",)"
        R"("recv_us":1769517296000001,"source":"replay"})");
  // Encoding is stable: decoding the encoding gives the same event.
  CHECK(std::get<price_update>(decode_event(encode_event(t)).value()) == t);
}

TEST_CASE("invalid events name the field and the reason", "[codec]") {
  CHECK(error_of(with("price", "")) == "invalid_event: field 'price': is required");
  CHECK(error_of(with("price", "-1")) == "invalid_event: field 'price': must be greater than zero");
  CHECK(error_of(with("price", "0")) == "invalid_event: field 'price': must be greater than zero");
  CHECK(error_of(with("price", "1e3")).find("field 'price': must be a plain decimal") != std::string::npos);
  CHECK(error_of(with("price", "\"abc\"")).find("field 'price': must be a plain decimal") != std::string::npos);
  CHECK(error_of(with("price", "true")) == "invalid_event: field 'price': must be a number");
  CHECK(error_of(with("bid_size", "-100")) == "invalid_event: field 'bid_size': must not be negative");
  CHECK(error_of(with("ask", "150.10")) == "invalid_event: field 'ask': must not be below bid");
  CHECK(error_of(with("symbol", "\"AA PL\"")).find("field 'symbol': symbol may only contain") != std::string::npos);
  CHECK(error_of(with("symbol", "[]")) == "invalid_event: field 'symbol': must be a string");
  CHECK(error_of(with("timestamp", "\"yesterday\"")).find("field 'timestamp': must be an ISO-8601") !=
        std::string::npos);
  CHECK(error_of(with("timestamp", "\"1970-01-01T00:00:00Z\"")).find("field 'timestamp': must be between") !=
        std::string::npos);
  CHECK(error_of(with("recv_us", "12.5")) == "invalid_event: field 'recv_us': must be an integer");
  CHECK(error_of(with("recv_us", "")) == "invalid_event: field 'recv_us': is required");
  CHECK(error_of(with("source", "\"\"")) == "invalid_event: field 'source': must not be empty");
}

TEST_CASE("non-events are rejected with invalid_json or unknown_type", "[codec]") {
  CHECK(error_of("").find("invalid_json: malformed JSON at offset 0") == 0);
  CHECK(error_of("{\"type\":\"price_update\",").find("invalid_json: malformed JSON") == 0);
  CHECK(error_of("[1,2,3]") == "invalid_json: an event must be a JSON object");
  CHECK(error_of("{}") == "invalid_event: field 'type': is required");
  CHECK(error_of(R"({"type":"horoscope"})") == "unknown_type: unknown event type 'horoscope'");
  CHECK(error_of(full + "garbage").find("invalid_json") == 0);
  CHECK(error_of("{\"type\":\"price_update\",\"symbol\":\"\xff\xfe\"}").find("invalid_json") == 0);
}

TEST_CASE("deeply nested input is rejected without exhausting the stack", "[codec]") {
  const std::string deep = std::string(200'000, '[') + std::string(200'000, ']');
  CHECK(error_of(deep) == "invalid_json: an event must be a JSON object");
  const std::string unbalanced = std::string(200'000, '[');
  CHECK(error_of(unbalanced).find("invalid_json") == 0);
}

TEST_CASE("private events round-trip exactly, decimals as strings", "[codec]") {
  const std::vector<std::string> samples = {
      R"({"type":"order_update","userId":"u-42","seq":17,"timestamp":"2026-11-20T14:30:01.000000Z","data":)"
      R"({"orderId":"o-1","brokerOrderId":"b-9","symbol":"AAPL","side":"buy","type":"limit","status":"partially_filled",)"
      R"("qty":"10","filledQty":"4","filledAvgPrice":"189.2500","submittedAt":"2026-11-20T14:30:00.500000Z"},)"
      R"("recv_us":1795185001000100,"source":"alpaca"})",
      R"({"type":"trade_executed","userId":"u-42","seq":18,"timestamp":"2026-11-20T14:30:01.000000Z","data":)"
      R"({"executionId":"x-7","orderId":"o-1","symbol":"AAPL","side":"buy","qty":"4","price":"189.25"},)"
      R"("recv_us":1795185001000100,"source":"alpaca"})",
      R"({"type":"position_update","userId":"u-42","timestamp":"2026-11-20T14:30:01.000000Z","data":)"
      R"({"symbol":"AAPL","quantity":"14","entryPrice":"188.1071428571","side":"long"},)"
      R"("recv_us":1795185001000100,"source":"alpaca"})",
      R"({"type":"account_update","userId":"u-42","seq":19,"timestamp":"2026-11-20T14:30:01.000000Z","data":)"
      R"({"equity":"100250.10","buyingPower":"190000.00","cash":"97000.00","portfolioValue":"100250.10",)"
      R"("dayPnl":"-120.55","dayPnlPercent":"-0.12"},"recv_us":1795185001000100,"source":"webhook"})",
      R"({"type":"account_update","userId":"u-42","seq":20,"timestamp":"2026-11-20T14:30:01.000000Z","data":)"
      R"({"equity":"100250.10","buyingPower":"190000.00","cash":"97000.00","portfolioValue":"100250.10",)"
      R"("dayPnl":"-120.55","dayPnlPercent":"-0.12","lastEquity":"100370.65","multiplier":"2","provisional":true},)"
      R"("recv_us":1795185001000100,"source":"alpaca-trading"})",
      R"({"type":"position_update","userId":"u-42","seq":21,"timestamp":"2026-11-20T14:30:01.000000Z","data":)"
      R"({"symbol":"AAPL","quantity":"0","entryPrice":"0","side":"long","realizedPnl":"-8.4"},)"
      R"("recv_us":1795185001000100,"source":"alpaca"})",
  };
  for (const auto& text : samples) {
    INFO(text);
    auto r = decode_event(text);
    REQUIRE(r.ok());
    CHECK(encode_event(r.value()) == text);
  }
  const auto decoded = decode_event(samples[0]);
  const auto& order = std::get<order_update>(decoded.value());
  CHECK(order.header.user_id == "u-42");
  CHECK(order.header.seq == 17);
  CHECK(order.filled_avg_price == "189.2500");
  CHECK_FALSE(order.filled_at_us.has_value());
  CHECK(std::get<position_update>(decode_event(samples[2]).value()).header.seq == 0);  // not yet assigned
}

TEST_CASE("invalid private events name the envelope or data field", "[codec]") {
  const std::string ok_envelope = R"("timestamp":"2026-11-20T14:30:01Z","recv_us":1795185001000100,"source":"alpaca")";
  CHECK(error_of(R"({"type":"trade_executed",)" + ok_envelope + "}") == "invalid_event: field 'userId': is required");
  CHECK(error_of(R"({"type":"trade_executed","userId":"a b",)" + ok_envelope + "}") ==
        "invalid_event: field 'userId': must be 1-64 characters from A-Z a-z 0-9 _ . : -");
  CHECK(error_of(R"({"type":"trade_executed","userId":"u1",)" + ok_envelope + "}") ==
        "invalid_event: field 'data': must be an object");
  CHECK(error_of(R"({"type":"trade_executed","userId":"u1",)" + ok_envelope +
                 R"(,"data":{"executionId":"x","orderId":"o","symbol":"AAPL","side":"hold","qty":"1","price":"2"}})") ==
        "invalid_event: field 'data.side': must be one of buy, sell");
  CHECK(error_of(R"({"type":"trade_executed","userId":"u1",)" + ok_envelope +
                 R"(,"data":{"executionId":"x","orderId":"o","symbol":"AAPL","side":"buy","qty":"0","price":"2"}})") ==
        "invalid_event: field 'data.qty': must be greater than zero");
  CHECK(error_of(R"({"type":"account_update","userId":"u1",)" + ok_envelope + R"(,"data":{"equity":"1e3"}})")
            .find("field 'data.equity': must be a plain decimal") != std::string::npos);
  // A misspelt or unknown account figure is refused, not dropped.
  const std::string figures =
      R"("equity":"1","buyingPower":"1","cash":"1","portfolioValue":"1","dayPnl":"0","dayPnlPercent":"0")";
  CHECK(error_of(R"({"type":"account_update","userId":"u1",)" + ok_envelope + R"(,"data":{)" + figures +
                 R"(,"lastEquty":"1"}})") == "invalid_event: field 'data.lastEquty': is not a known field");
  CHECK(error_of(R"({"type":"account_update","userId":"u1",)" + ok_envelope + R"(,"data":{)" + figures +
                 R"(,"provisional":"yes"}})") == "invalid_event: field 'data.provisional': must be true or false");
  CHECK(error_of(R"({"type":"position_update","userId":"u1","seq":-1,)" + ok_envelope + R"(,"data":{}})") ==
        "invalid_event: field 'seq': must be between 0 and 9223372036854775807");
}

TEST_CASE("an escape naming a lone surrogate is refused, so no event carries bytes that are not UTF-8", "[codec]") {
  // Found by fuzzing: RapidJSON 1.1.0 took "\udc00" as the three bytes of a surrogate, which the
  // encoder wrote back raw (an edge forwards events in text frames).
  const auto tick = [](const std::string& source) {
    return R"({"type":"price_update","symbol":"AAPL","price":1.5,"timestamp":"2026-01-27T12:34:56Z",)"
           R"("recv_us":1769517296000001,"source":")" +
           source + R"("})";
  };
  for (const char* bad : {R"(x\udc00)", R"(\uDFFFx)", R"(\ud83d\ud83d\udcc8)"}) {
    CHECK(error_of(tick(bad)).find("invalid_json") == 0);
  }
  // A pair is a character; an escaped backslash before "udc00" is no escape.
  const auto pair = decode_event(tick(R"(\ud83d\udcc8)"));
  REQUIRE(pair.ok());
  CHECK(std::get<price_update>(pair.value()).source == "\xf0\x9f\x93\x88");
  const auto text = decode_event(tick(R"(\\udc00)"));
  REQUIRE(text.ok());
  CHECK(std::get<price_update>(text.value()).source == "\\udc00");
}

TEST_CASE("source_status round-trips in ingest's wire format and is validated", "[codec]") {
  const std::string live =
      R"({"type":"source_status","source":"finnhub","connected":true,"silent":false,"last_message_us":1795185001000100,)"
      R"("age_ms":250,"ts_us":1795185001250100})";
  const std::string silent =
      R"({"type":"source_status","source":"alpaca-market","connected":false,"silent":false,"last_message_us":0,"age_ms":null,)"
      R"("ts_us":1795185001250100})";
  for (const auto& text : {live, silent}) {
    INFO(text);
    auto r = decode_source_status(text);
    REQUIRE(r.ok());
    CHECK(encode_source_status(r.value()) == text);
  }
  CHECK(decode_source_status(live)->age_ms == std::optional<std::int64_t>(250));
  CHECK_FALSE(decode_source_status(silent)->age_ms.has_value());
  CHECK(encode_source_status({"finnhub", true, 1795185001000100, 250, 1795185001250100}) == live);

  // What the edge needs is a source and whether it is connected; the rest may be absent.
  auto minimal = decode_source_status(R"({"source":"finnhub","connected":false})");
  REQUIRE(minimal.ok());
  CHECK(minimal->source == "finnhub");
  CHECK_FALSE(minimal->connected);
  CHECK_FALSE(minimal->silent);
  // Connected but quiet past its threshold.
  source_status quiet{"alpaca", true, 1795185001000100, 61'000, 1795185062000100};
  quiet.silent = true;
  auto back = decode_source_status(encode_source_status(quiet));
  REQUIRE(back.ok());
  CHECK(back.value() == quiet);
  CHECK(encode_source_status(quiet).find(R"("connected":true,"silent":true)") != std::string::npos);

  const auto error_of_status = [](const std::string& json) {
    auto r = decode_source_status(json);
    REQUIRE_FALSE(r.ok());
    return r.err().code + ": " + r.err().message;
  };
  CHECK(error_of_status("not json").starts_with("invalid_json"));
  CHECK(error_of_status("[]") == "invalid_json: a source_status must be a JSON object");
  CHECK(error_of_status(R"({"source":"finnhub","connected":true,"silent":1})") ==
        "invalid_event: field 'silent': must be true or false");
  CHECK(error_of_status(R"({"type":"source_status","source":"finnhub"})") ==
        "invalid_event: field 'connected': must be true or false");
  CHECK(error_of_status(R"({"source":"","connected":true})") == "invalid_event: field 'source': must not be empty");
  CHECK(error_of_status(R"({"source":")" + std::string(65, 'x') + R"(","connected":true})").find("field 'source'") !=
        std::string::npos);
  CHECK(error_of_status(R"({"source":"f","connected":"yes"})") ==
        "invalid_event: field 'connected': must be true or false");
  CHECK(error_of_status(R"({"type":"price_update","source":"f","connected":true})") ==
        "invalid_event: field 'type': must be source_status");
  CHECK(error_of_status(R"({"source":"f","connected":true,"age_ms":"soon"})") ==
        "invalid_event: field 'age_ms': must be an integer");
}
