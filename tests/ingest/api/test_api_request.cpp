// The server API's request validator and authentication: pure, driven directly.
#include <catch2/catch.hpp>

#include "common/tier_command.hpp"
#include "ingest/api/api_auth.hpp"
#include "ingest/api/api_request.hpp"
#include "ingest/sources/webhook_signature.hpp"

using namespace tickstream;
using ingest::parse_publish_request;

TEST_CASE("app event types follow the documented pattern and avoid the tier's own names", "[api]") {
  CHECK(ingest::is_valid_app_type("portfolio_update"));
  CHECK(ingest::is_valid_app_type("decision_made"));
  CHECK(ingest::is_valid_app_type("alert2"));
  CHECK_FALSE(ingest::is_valid_app_type(""));
  CHECK_FALSE(ingest::is_valid_app_type("2fa"));
  CHECK_FALSE(ingest::is_valid_app_type("Decision"));
  CHECK_FALSE(ingest::is_valid_app_type("has space"));
  CHECK_FALSE(ingest::is_valid_app_type("signals:momentum"));
  CHECK_FALSE(ingest::is_valid_app_type(std::string(65, 'a')));
  CHECK(ingest::is_valid_app_type(std::string(64, 'a')));
  for (const auto* reserved :
       {"price_update", "order_update", "trade_executed", "position_update", "account_update", "snapshot", "batch",
        "error", "subscribed", "resync", "broadcast", "topic_message", "conflated"}) {
    CHECK_FALSE(ingest::is_valid_app_type(reserved));
  }
}

TEST_CASE("one event and the batch form parse into the same requests", "[api]") {
  auto one = parse_publish_request(
      R"({"user":"u-42","type":"decision_made","data":{"symbol":"AAPL","n":12,"ok":true},"idempotency_key":"d-1"})");
  REQUIRE(one.ok());
  REQUIRE(one->size() == 1);
  CHECK(one->at(0).user == "u-42");
  CHECK(one->at(0).type == "decision_made");
  CHECK(one->at(0).data == R"({"symbol":"AAPL","n":12,"ok":true})");
  CHECK(one->at(0).idempotency_key == "d-1");

  auto batch = parse_publish_request(
      R"({"events":[{"user":"u-1","type":"alert","data":{}},{"user":"u-2","type":"alert","data":{"a":[1,2]}}]})");
  REQUIRE(batch.ok());
  REQUIRE(batch->size() == 2);
  CHECK(batch->at(1).user == "u-2");
  CHECK(batch->at(1).data == R"({"a":[1,2]})");
  CHECK(batch->at(0).idempotency_key.empty());
}

TEST_CASE("a bad request is refused whole, naming the event and the field", "[api]") {
  const auto code = [](std::string_view body) {
    auto r = parse_publish_request(body);
    return r.ok() ? std::string("ok") : r.err().code;
  };
  CHECK(code("{") == "invalid_json");
  CHECK(code("[]") == "invalid_request");
  CHECK(code(R"({"user":"u-1","type":"alert","data":{},"extra":1})") == "invalid_request");
  CHECK(code(R"({"type":"alert","data":{}})") == "invalid_request");
  CHECK(code(R"({"user":"","type":"alert","data":{}})") == "invalid_request");
  CHECK(code(R"({"user":"u-1","type":"Bad Type","data":{}})") == "invalid_type");
  CHECK(code(R"({"user":"u-1","type":"order_update","data":{}})") == "invalid_type");
  CHECK(code(R"({"user":"u-1","type":"alert","data":[1]})") == "invalid_request");
  CHECK(code(R"({"user":"u-1","type":"alert"})") == "invalid_request");
  CHECK(code(R"({"user":"u-1","type":"alert","data":{},"idempotency_key":"has space"})") == "invalid_idempotency_key");
  CHECK(code(R"({"user":"u-1","type":"alert","data":{},"idempotency_key":7})") == "invalid_idempotency_key");
  CHECK(code(R"({"events":[]})") == "empty_batch");
  CHECK(code(R"({"events":{}})") == "invalid_request");
  CHECK(code(R"({"events":[],"user":"u-1"})") == "invalid_request");

  auto one_bad = parse_publish_request(
      R"({"events":[{"user":"u-1","type":"alert","data":{}},{"user":"u-1","type":"alert","data":{},"x":0}]})");
  REQUIRE_FALSE(one_bad.ok());
  CHECK(one_bad.err().message.find("event 1: unknown field 'x'") == 0);

  ingest::publish_limits small;
  small.max_data_bytes = 16;
  small.max_events = 2;
  auto big = parse_publish_request(R"({"user":"u-1","type":"alert","data":{"text":"0123456789"}})", small);
  REQUIRE_FALSE(big.ok());
  CHECK(big.err().code == "too_large");
  CHECK(parse_publish_request(R"({"user":"u-1","type":"alert","data":{"t":"0123456"}})", small).ok());  // 16 bytes
  auto many = parse_publish_request(
      R"({"events":[{"user":"u","type":"a","data":{}},{"user":"u","type":"a","data":{}},{"user":"u","type":"a","data":{}}]})",
      small);
  REQUIRE_FALSE(many.ok());
  CHECK(many.err().code == "too_many_events");
}

TEST_CASE("an app event is stored in the private event format with the seq inserted between the halves", "[api]") {
  ingest::app_event_request ev{"u-42", "decision_made", R"({"action":"buy"})", ""};
  const auto json = ingest::encode_app_event(ev, 1'795'185'000'123'456);
  CHECK(json.before == R"({"type":"decision_made","userId":"u-42")");
  CHECK(
      json.after ==
      R"(,"timestamp":"2026-11-20T14:30:00.123456Z","data":{"action":"buy"},"recv_us":1795185000123456,"source":"api"})");
}

TEST_CASE("the server API takes the API key or the webhook signature", "[api]") {
  const ingest::api_credentials both{"an-api-key-of-some-length", "a-long-shared-secret"};
  const std::int64_t now = 1'795'185'000;
  CHECK(ingest::authorize_api(both, "Bearer an-api-key-of-some-length", "", "", "{}", now).ok());
  CHECK(ingest::authorize_api(both, "Bearer an-api-key-of-some-lengtX", "", "", "{}", now).err().code == "bad_api_key");
  CHECK(ingest::authorize_api(both, "Bearer short", "", "", "{}", now).err().code == "bad_api_key");
  CHECK(ingest::authorize_api(both, "", "", "", "{}", now).err().code == "missing_credentials");
  const auto sig = ingest::sign_webhook("a-long-shared-secret", now, "{}");
  CHECK(ingest::authorize_api(both, "", std::to_string(now), sig, "{}", now).ok());
  CHECK(ingest::authorize_api(both, "", std::to_string(now), sig, "{} ", now).err().code == "bad_signature");
  CHECK(ingest::authorize_api(both, "", std::to_string(now - 400),
                              ingest::sign_webhook("a-long-shared-secret", now - 400, "{}"), "{}", now)
            .err()
            .code == "bad_timestamp");
  const ingest::api_credentials key_only{"an-api-key-of-some-length", ""};
  CHECK(ingest::authorize_api(key_only, "", std::to_string(now), sig, "{}", now).err().code == "missing_credentials");
  const ingest::api_credentials sig_only{"", "a-long-shared-secret"};
  CHECK(ingest::authorize_api(sig_only, "Bearer anything-at-all-here", "", "", "{}", now).err().code == "bad_api_key");
}

TEST_CASE("a disconnect names a user and optionally one session to revoke", "[api]") {
  auto all = ingest::parse_disconnect_request(R"({"user":"u-42"})");
  REQUIRE(all.ok());
  CHECK(all->user == "u-42");
  CHECK(all->session.empty());
  auto one =
      ingest::parse_disconnect_request(R"({"user":"u-42","session":"s-1","reason":"logged out","revoke_for_s":600})");
  REQUIRE(one.ok());
  CHECK(one->session == "s-1");
  CHECK(one->reason == "logged out");
  CHECK(one->revoke_for_s == 600);
  CHECK(ingest::parse_disconnect_request(R"({"user":"u-42","session":"s-1"})")->revoke_for_s == 86'400);
  const auto code = [](std::string_view body) {
    auto r = ingest::parse_disconnect_request(body);
    return r.ok() ? std::string("ok") : r.err().message;
  };
  CHECK(code(R"({})").find("field 'user'") != std::string::npos);
  CHECK(code(R"({"user":"u-1","all":true})").find("unknown field 'all'") != std::string::npos);
  CHECK(code(R"({"user":"u-1","session":"has space"})").find("field 'session'") != std::string::npos);
  CHECK(code(R"({"user":"u-1","reason":")" + std::string(101, 'x') + R"("})").find("field 'reason'") !=
        std::string::npos);
  CHECK(code(R"({"user":"u-1","revoke_for_s":60})").find("only with 'session'") != std::string::npos);
  CHECK(code(R"({"user":"u-1","session":"s","revoke_for_s":0})").find("field 'revoke_for_s'") != std::string::npos);
  CHECK(ingest::parse_disconnect_request("nope").err().code == "invalid_json");
}

TEST_CASE("tier commands round-trip and bad ones are refused", "[api]") {
  const common::tier_command c{"disconnect", "u-42", "s-1", "logged out", "", ""};
  const auto json = common::encode_tier_command(c);
  CHECK(json == R"({"op":"disconnect","user":"u-42","session":"s-1","reason":"logged out"})");
  auto back = common::decode_tier_command(json);
  REQUIRE(back.ok());
  CHECK(back.value() == c);
  CHECK(common::encode_tier_command({"disconnect", "u-1", "", "", "", ""}) == R"({"op":"disconnect","user":"u-1"})");
  CHECK(common::decode_tier_command(R"({"op":"explode","user":"u-1"})").err().code == "bad_tier_command");
  CHECK(common::decode_tier_command(R"({"op":"disconnect"})").err().code == "bad_tier_command");
  CHECK(common::decode_tier_command(R"({"op":"disconnect","user":""})").err().code == "bad_tier_command");
  CHECK(common::decode_tier_command("[").err().code == "invalid_json");
  const common::tier_command b{"broadcast", "", "", "", R"({"notice":"Maintenance at 22:00 UTC","minutes":30})", ""};
  const auto bjson = common::encode_tier_command(b);
  CHECK(bjson == R"({"op":"broadcast","data":{"notice":"Maintenance at 22:00 UTC","minutes":30}})");
  auto bback = common::decode_tier_command(bjson);
  REQUIRE(bback.ok());
  CHECK(bback.value() == b);
  CHECK(common::decode_tier_command(R"({"op":"broadcast","data":[1]})").err().code == "bad_tier_command");
  common::tier_command e;
  e.op = "entitlements";
  e.plan = "basic";
  CHECK(common::encode_tier_command(e) == R"({"op":"entitlements","plan":"basic"})");
  CHECK(common::decode_tier_command(R"({"op":"entitlements","plan":"basic"})").value() == e);
  e.plan.clear();
  e.user = "u-9";
  CHECK(common::encode_tier_command(e) == R"({"op":"entitlements","user":"u-9"})");
  CHECK(common::decode_tier_command(R"({"op":"entitlements","user":"u-9"})").value() == e);
  CHECK(common::decode_tier_command(R"({"op":"entitlements"})").err().code == "bad_tier_command");
  CHECK(common::decode_tier_command(R"({"op":"entitlements","user":"u-9","plan":"basic"})").err().code ==
        "bad_tier_command");
  CHECK(common::decode_tier_command(R"({"op":"entitlements","plan":"no spaces"})").err().code == "bad_tier_command");
}

TEST_CASE("presence lists a user's unexpired leases by edge", "[api]") {
  CHECK(ingest::parse_presence_request(R"({"user":"u-42"})").value() == "u-42");
  CHECK(ingest::parse_presence_request(R"({"user":""})").err().code == "invalid_request");
  CHECK(ingest::parse_presence_request(R"({"user":"u-1","all":1})").err().code == "invalid_request");
  const std::vector<std::pair<std::string, std::int64_t>> leases{
      {"edge-a:1", 2000}, {"edge:b:7", 3000}, {"edge-a:2", 1000}};
  CHECK(
      ingest::render_presence("u-42", leases, 1000) ==
      R"({"user":"u-42","count":2,"connections":[{"edge":"edge-a","expires_ms":2000},{"edge":"edge:b","expires_ms":3000}]})");
  CHECK(ingest::render_presence("u-0", {}, 1000) == R"({"user":"u-0","count":0,"connections":[]})");
}

TEST_CASE("a broadcast carries one data object", "[api]") {
  CHECK(ingest::parse_broadcast_request(R"({"data":{"notice":"x","n":1}})").value() == R"({"notice":"x","n":1})");
  CHECK(ingest::parse_broadcast_request(R"({"data":{},"to":"all"})").err().code == "invalid_request");
  CHECK(ingest::parse_broadcast_request(R"({"data":"x"})").err().code == "invalid_request");
  CHECK(ingest::parse_broadcast_request(R"({)").err().code == "invalid_json");
  ingest::publish_limits small;
  small.max_data_bytes = 8;
  CHECK(ingest::parse_broadcast_request(R"({"data":{"notice":"too long"}})", small).err().code == "too_large");
}

TEST_CASE("a topic message names a valid topic and one data object, and may be retained", "[api][topics]") {
  auto one = ingest::parse_topic_publish_request(R"({"topic":"signals:momentum","data":{"s":"AAPL"},"retain":true})");
  REQUIRE(one);
  REQUIRE(one->size() == 1);
  CHECK(one.value()[0].topic == "signals:momentum");
  CHECK(one.value()[0].data == R"({"s":"AAPL"})");
  CHECK(one.value()[0].retain);
  auto batch = ingest::parse_topic_publish_request(
      R"({"messages":[{"topic":"news","data":{"h":"up"}},{"topic":"news","data":{"h":"down"},"retain":false}]})");
  REQUIRE(batch);
  CHECK(batch->size() == 2);
  CHECK_FALSE(batch.value()[0].retain);
  CHECK(ingest::encode_topic_message(batch.value()[0], 1'795'185'000'000'000) ==
        R"({"type":"topic_message","topic":"news","data":{"h":"up"},"timestamp":"2026-11-20T14:30:00.000000Z"})");

  const auto err = [](std::string_view body) {
    auto r = ingest::parse_topic_publish_request(body, {.max_data_bytes = 32, .max_events = 2});
    return r ? std::string("ok") : r.err().code + ": " + r.err().message;
  };
  CHECK(err(R"({"topic":"News","data":{}})") ==
        "invalid_topic: field 'topic': topic may only contain a-z, 0-9 and _ . - :");
  CHECK(err(R"({"data":{}})") == "invalid_request: field 'topic': a topic name is required");
  CHECK(err(R"({"topic":"news","data":[]})") == "invalid_request: field 'data': a JSON object is required");
  CHECK(err(R"({"topic":"news","data":{},"retain":"yes"})") == "invalid_request: field 'retain': true or false");
  CHECK(err(R"({"topic":"news","data":{},"user":"u-1"})") ==
        "invalid_request: unknown field 'user' (known: topic, data, retain)");
  CHECK(err(R"({"topic":"news","data":{"t":"0123456789012345678901234567890"}})").starts_with("too_large: "));
  CHECK(err(R"({"messages":[{"topic":"news","data":{}},{"topic":"x y","data":{}}]})")
            .starts_with("invalid_topic: message 1: field 'topic'"));
  CHECK(err(R"({"messages":[]})") == "empty_batch: field 'messages': at least one message is required");
  CHECK(err(R"({"messages":[{},{},{}]})") == "too_many_events: at most 2 messages per request");
  CHECK(err("{").starts_with("invalid_json"));
}

TEST_CASE("an entitlements request names a user or a plan, valid patterns, or clears", "[api][entitlements]") {
  auto user = ingest::parse_entitlements_request(R"({"user":"u-1","plan":"basic","patterns":["crypto:*","news"]})");
  REQUIRE(user);
  CHECK(ingest::encode_entitlement_record(user.value()) == R"({"plan":"basic","patterns":["crypto:*","news"]})");
  auto plan = ingest::parse_entitlements_request(R"({"plan":"basic","patterns":["US:*"]})");
  REQUIRE(plan);
  CHECK(plan->user.empty());
  CHECK(ingest::encode_entitlement_record(plan.value()) == R"({"patterns":["US:*"]})");
  CHECK(ingest::parse_entitlements_request(R"({"user":"u-1","clear":true})").value().clear);
  const auto err = [](std::string_view body) {
    auto r = ingest::parse_entitlements_request(body);
    return r ? std::string("ok") : r.err().code + ": " + r.err().message;
  };
  CHECK(err(R"({"patterns":["US:*"]})") == "invalid_request: name a 'user' or a 'plan'");
  CHECK(err(R"({"plan":"basic"})") == "invalid_request: field 'patterns': a plan's record needs its patterns");
  CHECK(err(R"({"user":"u-1","patterns":["A*B"]})") ==
        "invalid_request: field 'patterns': each is a name, a prefix ending in * (US:*, signals:*) or *");
  CHECK(err(R"({"user":"u-1","clear":true,"patterns":[]})") ==
        "invalid_request: 'clear' names only the user or the plan whose record goes");
  CHECK(err(R"({"user":"u-1","everything":true})") ==
        "invalid_request: unknown field 'everything' (known: user, plan, patterns, clear)");
  CHECK(err(R"({"plan":"has space","patterns":[]})") ==
        "invalid_request: field 'plan': 1 to 64 of A-Z, a-z, 0-9, _ . : -");
}
