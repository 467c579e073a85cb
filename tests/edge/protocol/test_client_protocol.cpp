#include <catch2/catch.hpp>

#include "edge/protocol/client_protocol.hpp"

using namespace tickstream::edge;

namespace {

std::string error_of(std::string_view text) {
  auto r = parse_client_message(text);
  REQUIRE_FALSE(r.ok());
  return r.err().code + ": " + r.err().message;
}

}  // namespace

TEST_CASE("subscribe and unsubscribe carry symbols and channels", "[protocol]") {
  auto r = parse_client_message(R"({"type":"subscribe","symbols":["AAPL","msft"]})");
  REQUIRE(r.ok());
  const auto& sub = std::get<subscription_request>(r.value());
  CHECK(sub.subscribe);
  CHECK(sub.symbols == std::vector<std::string>{"AAPL", "msft"});

  auto u = parse_client_message(R"({"type":"unsubscribe","symbols":["AAPL"],"channels":["positions"]})");
  REQUIRE(u.ok());
  CHECK_FALSE(std::get<subscription_request>(u.value()).subscribe);
  CHECK(std::get<subscription_request>(u.value()).channels == std::vector<std::string>{"positions"});
}

TEST_CASE("subscribe may ask for a batching window", "[protocol]") {
  auto r = parse_client_message(R"({"type":"subscribe","symbols":["AAPL"],"batch_ms":1000})");
  REQUIRE(r.ok());
  CHECK(std::get<subscription_request>(r.value()).batch_ms == 1000);
  CHECK(error_of(R"({"type":"subscribe","symbols":["AAPL"],"batch_ms":-1})") ==
        "invalid_message: field 'batch_ms': must be an integer from 0 to 60000");
  CHECK(error_of(R"({"type":"subscribe","symbols":["AAPL"],"batch_ms":"fast"})") ==
        "invalid_message: field 'batch_ms': must be an integer from 0 to 60000");
}

TEST_CASE("ping echoes a string or numeric id", "[protocol]") {
  auto p = parse_client_message(R"({"type":"ping","id":42})");
  REQUIRE(p.ok());
  CHECK(std::get<ping_request>(p.value()).id_json == "42");
  auto q = parse_client_message(R"({"type":"ping","id":"a\"b"})");
  CHECK(std::get<ping_request>(q.value()).id_json == R"("a\"b")");
  CHECK_FALSE(std::get<ping_request>(parse_client_message(R"({"type":"ping"})").value()).id_json);
  CHECK(render_pong(std::string("42"), 1'795'185'000'000'000, "edge-1") ==
        R"({"type":"pong","id":42,"server_time":"2026-11-20T14:30:00.000000Z","server_time_us":1795185000000000,)"
        R"("node":"edge-1"})");
}

TEST_CASE("in-band auth carries a token, and its answer names the user, the expiry and the node", "[protocol]") {
  auto a = parse_client_message(R"({"type":"auth","token":"abc.def.ghi"})");
  REQUIRE(a.ok());
  CHECK(std::get<auth_message>(a.value()).token == "abc.def.ghi");
  CHECK(error_of(R"({"type":"auth"})") == "invalid_message: field 'token': is required");
  CHECK(render_authenticated("u-1", 1'795'188'600, "edge-2") ==
        R"({"type":"authenticated","user_id":"u-1","expires_at_s":1795188600,"node":"edge-2"})");
  CHECK(render_authenticated("u-1", std::nullopt, "edge-2") ==
        R"({"type":"authenticated","user_id":"u-1","expires_at_s":null,"node":"edge-2"})");
}

TEST_CASE("malformed and unknown client messages get precise errors", "[protocol]") {
  CHECK(error_of("hello").find("invalid_json: malformed JSON at offset 0") == 0);
  CHECK(error_of("[]") == "invalid_message: a message must be a JSON object");
  CHECK(error_of("{}") == "invalid_message: field 'type': is required");
  CHECK(error_of(R"({"type":7})") == "invalid_message: field 'type': must be a string");
  CHECK(error_of(R"({"type":"dance"})") ==
        "unknown_type: unknown message type 'dance' (expected subscribe, unsubscribe, ping, refresh or auth)");
  CHECK(error_of(R"({"type":"subscribe"})") ==
        "invalid_message: field 'symbols': give at least one symbol (or channel, or topic)");
  CHECK(error_of(R"({"type":"subscribe","topics":[7]})") ==
        "invalid_message: field 'topics': must be an array of strings (each at most 256 characters)");
  CHECK(error_of(R"({"type":"subscribe","symbols":"AAPL"})") == "invalid_message: field 'symbols': must be an array");
  CHECK(error_of(R"({"type":"subscribe","symbols":[1]})") ==
        "invalid_message: field 'symbols': must be an array of strings (each at most 256 characters)");
  CHECK(error_of(R"({"type":"ping","id":{}})") == "invalid_message: field 'id': must be a string or a number");
  std::string many = R"({"type":"subscribe","symbols":[)";
  for (int i = 0; i <= 1000; ++i) many += (i ? ",\"S" : "\"S") + std::to_string(i) + "\"";
  CHECK(error_of(many + "]}") == "invalid_message: field 'symbols': has more than 1000 entries");
}

TEST_CASE("server replies render as documented", "[protocol]") {
  CHECK(render_subscribed({"AAPL"}, {"orders"}, {{"x y", "invalid_symbol", "bad"}}, 250) ==
        R"({"type":"subscribed","symbols":["AAPL"],"channels":["orders"],)"
        R"("rejected":[{"name":"x y","code":"invalid_symbol","reason":"bad"}],"batch_ms":250})");
  CHECK(render_unsubscribed({"AAPL", "MSFT"}, {}) ==
        R"({"type":"unsubscribed","symbols":["AAPL","MSFT"],"channels":[]})");
  const std::vector<std::string> topics{"news"};
  CHECK(render_subscribed({}, {}, {}, 0, &topics) ==
        R"({"type":"subscribed","symbols":[],"channels":[],"topics":["news"],"rejected":[],"batch_ms":0})");
  CHECK(render_unsubscribed({"BTC"}, {}, &topics, "not_entitled") ==
        R"({"type":"unsubscribed","symbols":["BTC"],"channels":[],"topics":["news"],"reason":"not_entitled"})");
  CHECK(render_error("invalid_json", "say \"why\"") ==
        R"({"type":"error","code":"invalid_json","message":"say \"why\""})");
}

TEST_CASE("subscribe and unsubscribe take topics", "[protocol]") {
  auto r = parse_client_message(R"({"type":"subscribe","topics":["news","signals:momentum"]})");
  REQUIRE(r);
  CHECK(std::get<subscription_request>(r.value()).topics == std::vector<std::string>{"news", "signals:momentum"});
  auto u = parse_client_message(R"({"type":"unsubscribe","topics":["news"]})");
  REQUIRE(u);
  CHECK_FALSE(std::get<subscription_request>(u.value()).subscribe);
  CHECK(std::get<subscription_request>(u.value()).topics == std::vector<std::string>{"news"});
}

TEST_CASE("subscribe takes since and snapshot, and refuses bad values naming the field", "[protocol]") {
  auto r = parse_client_message(R"({"type":"subscribe","channels":["orders"],"since":41,"snapshot":false})");
  REQUIRE(r);
  const auto& sub = std::get<subscription_request>(r.value());
  CHECK(sub.since == 41);
  CHECK_FALSE(sub.snapshot);
  CHECK(error_of(R"({"type":"subscribe","channels":["orders"],"since":-1})") ==
        "invalid_message: field 'since': must be a non-negative integer (the last seq applied)");
  CHECK(error_of(R"({"type":"subscribe","channels":["orders"],"since":"41"})") ==
        "invalid_message: field 'since': must be a non-negative integer (the last seq applied)");
  CHECK(error_of(R"({"type":"subscribe","symbols":["A"],"snapshot":1})") ==
        "invalid_message: field 'snapshot': must be true or false");
}

TEST_CASE("a lone surrogate escape is invalid JSON, so no reply echoes bytes that are not UTF-8", "[protocol]") {
  // Found by fuzzing: "\udc00" in a symbol came back raw in the "rejected" list of "subscribed".
  CHECK(error_of(R"({"type":"subscribe","symbols":["AAP\udc00L"]})").find("invalid_json") == 0);
  CHECK(error_of(R"({"type":"\udfff"})").find("invalid_json") == 0);
  CHECK(parse_client_message(R"({"type":"ping","id":"\ud83d\udcc8"})").ok());
}
