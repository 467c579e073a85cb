// trade_updates messages in the shape Alpaca documents, kept as test vectors.
#include <catch2/catch.hpp>

#include <string>

#include "common/event_codec.hpp"
#include "ingest/normalize/alpaca_trading_normalizer.hpp"

using namespace tickstream;

namespace {

std::string order_json(const std::string& status, const std::string& filled_qty, const std::string& avg) {
  return R"({"asset_class":"us_equity","asset_id":"b0b6dd9d-8b9b-48a9-ba46-b9d54906e415","cancel_requested_at":null,)"
         R"("canceled_at":null,"client_order_id":"my-order-1","created_at":"2026-11-20T14:52:36.219398Z",)"
         R"("expired_at":null,"extended_hours":false,"failed_at":null,"filled_at":)" +
         std::string(status == "filled" ? R"("2026-11-20T14:52:36.315453Z")" : "null") + R"(,"filled_avg_price":)" +
         (avg.empty() ? std::string("null") : "\"" + avg + "\"") + R"(,"filled_qty":")" + filled_qty +
         R"(","id":"61e69015-8549-4bfd-b9c3-01e75843f47d","legs":null,"limit_price":"145.30","notional":null,)"
         R"("order_class":"","order_type":"limit","qty":"10","side":"buy","status":")" +
         status +
         R"(","stop_price":null,"submitted_at":"2026-11-20T14:52:36.217234Z","symbol":"AAPL",)"
         R"("time_in_force":"day","type":"limit","updated_at":"2026-11-20T14:52:36.32007Z"})";
}

}  // namespace

TEST_CASE("the auth and listen handshake replies are recognised", "[normalize][alpaca-trading]") {
  ingest::alpaca_trading_normalizer n("user-7");
  CHECK(
      n.normalize(R"({"stream":"authorization","data":{"action":"authenticate","status":"authorized"}})", 1).notices ==
      std::vector<std::string>{"authenticated"});
  const auto refused =
      n.normalize(R"({"stream":"authorization","data":{"action":"authenticate","status":"unauthorized"}})", 1);
  REQUIRE(refused.problems.size() == 1);
  CHECK(refused.problems[0].code == "auth_refused");
  CHECK(n.normalize(R"({"stream":"listening","data":{"streams":["trade_updates"]}})", 1).notices ==
        std::vector<std::string>{"subscribed"});
  CHECK(n.normalize(R"({"stream":"listening","data":{"streams":[]}})", 1).problems.at(0).code ==
        "subscription_refused");
}

TEST_CASE("a new order yields its order_update only", "[normalize][alpaca-trading]") {
  ingest::alpaca_trading_normalizer n("user-7");
  const auto out = n.normalize(R"({"stream":"trade_updates","data":{"event":"new","order":)" +
                                   order_json("new", "0", "") + R"(,"timestamp":"2026-11-20T14:52:36.2195Z"}})",
                               1'795'186'356'400'000);
  REQUIRE(out.problems.empty());
  REQUIRE(out.events.size() == 1);
  const auto& o = std::get<common::order_update>(out.events[0]);
  CHECK(o.header.user_id == "user-7");
  CHECK(o.order_id == "my-order-1");
  CHECK(o.broker_order_id == "61e69015-8549-4bfd-b9c3-01e75843f47d");
  CHECK(o.status == "new");
  CHECK(o.order_type == "limit");
  CHECK(o.qty == "10");
  CHECK(o.filled_qty == "0");
  CHECK_FALSE(o.filled_avg_price.has_value());
  CHECK(common::decode_event(common::encode_event(out.events[0])).ok());
}

TEST_CASE("a fill yields the order transition, the execution and the position quantity",
          "[normalize][alpaca-trading]") {
  ingest::alpaca_trading_normalizer n("user-7");
  const auto out = n.normalize(
      R"({"stream":"trade_updates","data":{"event":"partial_fill","execution_id":"2f63ea93-423d-4169-b3f6-3fdafc10c418",)"
      R"("order":)" +
          order_json("partially_filled", "4", "145.2700") +
          R"(,"position_qty":"-6","price":"145.2700","qty":"4","timestamp":"2026-11-20T14:52:36.315453142Z"}})",
      1'795'186'356'400'000);
  REQUIRE(out.problems.empty());
  REQUIRE(out.events.size() == 3);
  const auto& o = std::get<common::order_update>(out.events[0]);
  CHECK(o.status == "partially_filled");
  CHECK(o.filled_avg_price == "145.2700");
  const auto& t = std::get<common::trade_executed>(out.events[1]);
  CHECK(t.execution_id == "2f63ea93-423d-4169-b3f6-3fdafc10c418");
  CHECK(t.qty == "4");
  CHECK(t.price == "145.2700");  // exact digits
  CHECK(t.header.time_us == 1'795'186'356'315'453);
  const auto& p = std::get<common::position_update>(out.events[2]);
  CHECK(p.quantity == "6");
  CHECK(p.side == "short");
  for (const auto& ev : out.events) CHECK(common::decode_event(common::encode_event(ev)).ok());
}

TEST_CASE("an execution without an id gets a stable one", "[normalize][alpaca-trading]") {
  ingest::alpaca_trading_normalizer n("user-7");
  const std::string msg = R"({"stream":"trade_updates","data":{"event":"fill","order":)" +
                          order_json("filled", "10", "145.28") +
                          R"(,"position_qty":"10","price":"145.29","qty":"6","timestamp":"2026-11-20T14:52:37Z"}})";
  const auto a = n.normalize(msg, 1);
  const auto b = n.normalize(msg, 2);  // a duplicate delivery, e.g. after a reconnect
  REQUIRE(a.events.size() == 3);
  CHECK(std::get<common::trade_executed>(a.events[1]).execution_id ==
        std::get<common::trade_executed>(b.events[1]).execution_id);
}

TEST_CASE("broken trade updates are reported with the field", "[normalize][alpaca-trading]") {
  ingest::alpaca_trading_normalizer n("user-7");
  CHECK(n.normalize(R"({"stream":"trade_updates","data":{"event":"fill"}})", 1).problems.at(0).message ==
        "field 'order': must be an object");
  CHECK(
      n.normalize(
           R"({"stream":"trade_updates","data":{"event":"new","order":{"id":"x","symbol":"AAPL","side":"up","status":"new"}}})",
           1)
          .problems.at(0)
          .message == "field 'order.side': must be buy or sell");
  const auto no_price = n.normalize(R"({"stream":"trade_updates","data":{"event":"fill","order":)" +
                                        order_json("filled", "10", "1") + R"(,"qty":"1","position_qty":"1"}})",
                                    1);
  CHECK(no_price.events.size() == 1);  // the order transition still counts
  CHECK(no_price.problems.at(0).message == "field 'price': is required");
  CHECK(n.normalize("[]", 1).problems.at(0).code == "invalid_message");
  CHECK(n.normalize(R"({"stream":"account_updates","data":{}})", 1).problems.at(0).code == "unknown_type");
}

TEST_CASE("an order with an empty id or status is refused with the field, not published for edges to drop",
          "[normalize][alpaca-trading]") {
  ingest::alpaca_trading_normalizer n("user-7");
  const auto no_status = n.normalize(
      R"({"stream":"trade_updates","data":{"event":"new","order":{"id":"x","symbol":"AAPL","side":"buy","status":""}}})",
      1);
  CHECK(no_status.events.empty());
  CHECK(no_status.problems.at(0).message == "field 'order.status': must not be empty");
  const auto no_id = n.normalize(
      R"({"stream":"trade_updates","data":{"event":"new","order":{"id":"","symbol":"AAPL","side":"buy","status":"new"}}})",
      1);
  CHECK(no_id.events.empty());
  CHECK(no_id.problems.at(0).message == "field 'order.id': must not be empty");
  // What the fuzzer found: a fill whose order repeats "status", the first one empty (RapidJSON
  // reads the first of two equal names).
  std::string twice = order_json("filled", "10", "145.28");
  twice.replace(twice.find(R"("status":"filled")"), 0, R"("status":"",)");
  const auto dup = n.normalize(R"({"stream":"trade_updates","data":{"event":"fill","order":)" + twice +
                                   R"(,"price":"145.29","qty":"6","position_qty":"10"}})",
                               1);
  CHECK(dup.events.empty());
  CHECK(dup.problems.at(0).message == "field 'order.status': must not be empty");
}

TEST_CASE("every other trade_updates event becomes the order's transition", "[normalize][alpaca-trading]") {
  ingest::alpaca_trading_normalizer n("user-7");
  for (const std::string event :
       {"canceled", "expired", "replaced", "rejected", "done_for_day", "pending_new", "pending_cancel",
        "pending_replace", "calculated", "suspended", "stopped", "order_replace_rejected", "order_cancel_rejected"}) {
    INFO(event);
    const auto out = n.normalize(R"({"stream":"trade_updates","data":{"event":")" + event + R"(","order":)" +
                                     order_json(event == "pending_new" ? "pending_new" : event, "0", "") +
                                     R"(,"timestamp":"2026-11-20T14:52:40Z"}})",
                                 1'795'186'360'000'000);
    REQUIRE(out.problems.empty());
    REQUIRE(out.events.size() == 1);
    CHECK(std::get<common::order_update>(out.events[0]).status == (event == "pending_new" ? "pending_new" : event));
  }
}

TEST_CASE("a fill whose execution is unusable still de-duplicates its order update", "[normalize][alpaca-trading]") {
  // Found by fuzzing: the order_update of such a fill went out without a de-duplication id, so a
  // redelivery of the message was stored twice.
  ingest::alpaca_trading_normalizer n("user-7");
  const std::string msg = R"({"stream":"trade_updates","data":{"event":"fill","order":)" +
                          order_json("filled", "10", "145.28") +
                          R"(,"price":"145.29","qty":"6","timestamp":"2026-11-20T14:52:37Z"}})";
  const auto out = n.normalize(msg, 1);  // no position_qty: the execution is refused
  REQUIRE(out.problems.size() == 1);
  REQUIRE(out.events.size() == 1);
  const auto& o = std::get<common::order_update>(out.events[0]);
  CHECK(o.header.dedupe_id == "o:61e69015-8549-4bfd-b9c3-01e75843f47d:fill:" + std::to_string(o.header.time_us));
}

TEST_CASE("an execution id made from a long order id is refused rather than published too long",
          "[normalize][alpaca-trading]") {
  // Found by fuzzing: order id, time and filled quantity made an id over the 128 characters an
  // edge accepts, so every edge dropped the trade.
  ingest::alpaca_trading_normalizer n("user-7");
  auto order = order_json("filled", "10", "145.28");
  const std::string id = "61e69015-8549-4bfd-b9c3-01e75843f47d";
  order.replace(order.find(id), id.size(), std::string(120, 'b'));
  const auto out =
      n.normalize(R"({"stream":"trade_updates","data":{"event":"fill","order":)" + order +
                      R"(,"position_qty":"10","price":"145.29","qty":"6","timestamp":"2026-11-20T14:52:37Z"}})",
                  1'795'186'357'100'000);
  REQUIRE(out.problems.size() == 1);
  CHECK(out.problems[0].message.find("execution_id") != std::string::npos);
  REQUIRE(out.events.size() == 1);  // the order's update, with its own de-duplication id
  CHECK(common::decode_event(common::encode_event(out.events[0])).ok());
}
