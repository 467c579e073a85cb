// The Broker API's trade events (GET /v2/events/trades) in the shape Alpaca documents
// (TradeUpdateEventV2), mapped to users by account id.
#include <catch2/catch.hpp>

#include <string>

#include "common/event_codec.hpp"
#include "ingest/normalize/broker_events_normalizer.hpp"

using namespace tickstream;
using namespace tickstream::ingest;

namespace {

const account_lookup users = [](std::string_view account) -> std::optional<std::string> {
  if (account == "529248ad-c4cc-4a50-bea4-6bfd2953f83a") return "alice";
  return std::nullopt;
};

// Alpaca's documented "new" example, trimmed of the fields nothing reads.
const std::string new_event =
    R"({"account_id":"529248ad-c4cc-4a50-bea4-6bfd2953f83a","at":"2022-04-19T14:12:30.656741Z","event":"new",)"
    R"("event_id":"01G112NTT0XAXKDZK3AABK68TH","execution_id":"7e544af3-3104-4e1a-8cbc-dab2624949ff",)"
    R"("order":{"asset_class":"us_equity","client_order_id":"6d873193-dac6-4f72-8e13-c57853a9339d",)"
    R"("created_at":"2022-04-19T10:12:30.57117938-04:00","filled_at":null,"filled_avg_price":null,"filled_qty":"0",)"
    R"("id":"edada91a-8b55-4916-a153-8c7a9817e708","limit_price":"700","order_type":"limit","qty":"4",)"
    R"("side":"buy","status":"new","submitted_at":"2022-04-19T10:12:30.403135025-04:00","symbol":"TSLA",)"
    R"("type":"limit"},"timestamp":"2022-04-19T14:12:30.602193534Z"})";

std::string fill_event(const std::string& account) {
  return R"({"account_id":")" + account +
         R"(","at":"2022-04-19T14:13:01.1Z","event":"fill","event_id":"01G112PTT0XAXKDZK3AABK68TJ",)"
         R"("execution_id":"5f0a1e0c-1111-4e1a-8cbc-dab2624949ff","order":{"client_order_id":"6d873193",)"
         R"("filled_at":"2022-04-19T14:13:01Z","filled_avg_price":"699.5","filled_qty":"4",)"
         R"("id":"edada91a-8b55-4916-a153-8c7a9817e708","order_type":"limit","qty":"4","side":"buy",)"
         R"("status":"filled","submitted_at":"2022-04-19T14:12:30Z","symbol":"TSLA","type":"limit"},)"
         R"("position_qty":"4","price":"699.5","qty":"4","timestamp":"2022-04-19T14:13:01Z"})";
}

}  // namespace

TEST_CASE("a Broker API trade event becomes its user's order update, with its event id", "[normalize][broker-events]") {
  const auto ev = normalize_broker_trade_event(new_event, "", users, 5);
  CHECK(ev.event_id == "01G112NTT0XAXKDZK3AABK68TH");
  CHECK(ev.ours);
  REQUIRE(ev.out.problems.empty());
  REQUIRE(ev.out.events.size() == 1);
  const auto& o = std::get<common::order_update>(ev.out.events[0]);
  CHECK(o.header.user_id == "alice");
  CHECK(o.header.source == "alpaca-broker");
  CHECK(o.status == "new");
  CHECK(o.symbol == "TSLA");
  CHECK(o.qty == "4");
}

TEST_CASE("a Broker API fill yields the order, the execution and the position", "[normalize][broker-events]") {
  const auto ev = normalize_broker_trade_event(fill_event("529248ad-c4cc-4a50-bea4-6bfd2953f83a"), "", users, 5);
  REQUIRE(ev.out.problems.empty());
  REQUIRE(ev.out.events.size() == 3);
  const auto& t = std::get<common::trade_executed>(ev.out.events[1]);
  CHECK(t.execution_id == "5f0a1e0c-1111-4e1a-8cbc-dab2624949ff");
  CHECK(t.price == "699.5");
  CHECK(t.header.dedupe_id == "x:5f0a1e0c-1111-4e1a-8cbc-dab2624949ff");
  const auto& p = std::get<common::position_update>(ev.out.events[2]);
  CHECK(p.header.user_id == "alice");
  CHECK(p.quantity == "4");
  REQUIRE(p.fill);
  CHECK(p.fill->signed_qty == "4");
}

TEST_CASE("another account's event is skipped, and bad data is a problem", "[normalize][broker-events]") {
  const auto other = normalize_broker_trade_event(fill_event("00000000-0000-0000-0000-000000000001"), "", users, 5);
  CHECK_FALSE(other.ours);
  CHECK(other.out.events.empty());
  CHECK(other.out.problems.empty());
  CHECK(other.event_id == "01G112PTT0XAXKDZK3AABK68TJ");  // the cursor still passes it

  const auto not_json = normalize_broker_trade_event("{not json", "sse-7", users, 5);
  CHECK(not_json.event_id == "sse-7");  // the SSE id when the data has none
  REQUIRE(not_json.out.problems.size() == 1);
  const auto no_account = normalize_broker_trade_event(R"({"event":"new","event_id":"01X"})", "", users, 5);
  REQUIRE(no_account.out.problems.size() == 1);
  CHECK(no_account.out.problems[0].message.find("account_id") != std::string::npos);
  const auto no_order = normalize_broker_trade_event(
      R"({"account_id":"529248ad-c4cc-4a50-bea4-6bfd2953f83a","event":"new","event_id":"01Y"})", "", users, 5);
  CHECK(no_order.ours);
  REQUIRE(no_order.out.problems.size() == 1);
  CHECK(no_order.out.problems[0].code == "invalid_trade_update");
}
