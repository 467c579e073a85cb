#include "ingest/normalize/alpaca_trading_normalizer.hpp"

#include <rapidjson/document.h>

#include "common/clock.hpp"
#include "ingest/normalize/source_json.hpp"

namespace tickstream::ingest {
namespace {

constexpr std::string_view source_name = "alpaca-trading";  // = the source's name in heartbeats

common::private_header header_for(const std::string& user, std::string_view source, std::int64_t time_us,
                                  std::int64_t recv_us) {
  common::private_header h;
  h.user_id = user;
  h.time_us = time_us;
  h.recv_time_us = recv_us;
  h.source = std::string(source);
  return h;
}

}  // namespace

normalized alpaca_trading_normalizer::normalize(std::string_view raw, std::int64_t recv_us) {
  normalized out;
  rapidjson::Document doc;
  if (!parse_upstream(doc, raw, out, false, "Alpaca trading")) return out;
  common::json_reader r(doc, "invalid_message");
  const auto stream = r.string("stream", true, 64);
  const auto data_it = doc.FindMember("data");
  if (!stream || data_it == doc.MemberEnd() || !data_it->value.IsObject()) {
    if (r.ok()) r.fail("data", "must be an object");
    out.problems.push_back(*r.failure());
    return out;
  }
  const auto& data = data_it->value;
  common::json_reader d(data, "invalid_message");
  if (*stream == "authorization") {
    const auto status = d.string("status", true, 32);
    if (status && *status == "authorized") {
      out.notices.emplace_back("authenticated");
    } else {
      out.problems.push_back({"auth_refused", "authorization status '" + std::string(status ? *status : "") + "'"});
    }
    return out;
  }
  if (*stream == "listening") {
    const auto* streams = d.array("streams", false);
    bool trade_updates = false;
    if (streams != nullptr) {
      for (const auto& s : streams->GetArray())
        trade_updates |= s.IsString() && std::string_view(s.GetString()) == "trade_updates";
    }
    if (trade_updates) {
      out.notices.emplace_back("subscribed");
    } else {
      out.problems.push_back({"subscription_refused", "the server is not listening to trade_updates"});
    }
    return out;
  }
  if (*stream != "trade_updates") {
    out.problems.push_back({"unknown_type", "unknown Alpaca stream '" + std::string(*stream) + "'"});
    return out;
  }

  normalize_trade_update(data, user_id_, source_name, recv_us, out);
  return out;
}

void normalize_trade_update(const rapidjson::Value& data, const std::string& user_id, std::string_view source,
                            std::int64_t recv_us, normalized& out) {
  common::json_reader d(data, "invalid_message");
  const auto event = d.string("event", true, 32);
  const auto order_it = data.FindMember("order");
  if (!event || order_it == data.MemberEnd() || !order_it->value.IsObject()) {
    if (d.ok()) d.fail("order", "must be an object");
    out.problems.push_back({"invalid_trade_update", d.failure()->message});
    return;
  }
  common::json_reader o(order_it->value, "invalid_trade_update");
  common::order_update ou;
  const auto broker_id = o.string("id", true, 128);
  const auto client_id = o.string("client_order_id", false, 128);
  const auto symbol = upstream_symbol(o, "symbol");
  const auto side = o.string("side", true, 8);
  const auto type = o.string("type", false, 32);
  const auto order_type = o.string("order_type", false, 32);
  const auto status = o.string("status", true, 32);
  auto qty = upstream_decimal(o, "qty", false, true);
  auto filled_qty = upstream_decimal(o, "filled_qty", false, false);
  auto filled_avg = upstream_decimal(o, "filled_avg_price", false, true);
  const auto submitted = o.timestamp("submitted_at", false);
  const auto created = o.timestamp("created_at", false);
  const auto filled_at = o.timestamp("filled_at", false);
  const auto event_time = d.timestamp("timestamp", false);
  if (o.ok() && side && *side != "buy" && *side != "sell") o.fail("side", "must be buy or sell");
  // The event schema refuses an order without an id or a status: refused here, with its field.
  if (o.ok() && broker_id->empty()) o.fail("id", "must not be empty");
  if (o.ok() && status->empty()) o.fail("status", "must not be empty");
  if (!o.ok()) {
    auto e = *o.failure();
    e.message = "field 'order." + e.message.substr(std::string_view("field '").size());
    out.problems.push_back(std::move(e));
    return;
  }
  const std::int64_t time_us = event_time ? *event_time : (submitted ? *submitted : recv_us);
  ou.header = header_for(user_id, source, time_us, recv_us);
  ou.broker_order_id = std::string(*broker_id);
  ou.order_id = client_id && !client_id->empty() ? std::string(*client_id) : ou.broker_order_id;
  ou.symbol = *symbol;
  ou.side = std::string(*side);
  // An empty type says no more than a missing one (and the event schema refuses an empty one).
  const bool has_order_type = order_type && !order_type->empty();
  ou.order_type = std::string(has_order_type ? *order_type : (type && !type->empty() ? *type : "unknown"));
  ou.status = std::string(*status);
  ou.qty = std::move(qty);
  ou.filled_qty = std::move(filled_qty);
  ou.filled_avg_price = std::move(filled_avg);
  ou.submitted_at_us = submitted ? *submitted : (created ? *created : time_us);
  ou.filled_at_us = filled_at;
  const bool fill = *event == "fill" || *event == "partial_fill";
  // The same broker message delivered twice carries the same order, event and time. (A fill
  // replaces it with its execution's below; a fill whose execution is unusable keeps this one.)
  ou.header.dedupe_id = "o:" + ou.broker_order_id + ":" + std::string(*event) + ":" + std::to_string(time_us);
  if (!fill) {
    out.events.emplace_back(ou);
    return;
  }
  out.events.emplace_back(ou);
  common::json_reader f(data, "invalid_trade_update");
  auto price = upstream_decimal(f, "price", true, true);
  auto fill_qty = upstream_decimal(f, "qty", true, true);
  auto position_qty = f.string("position_qty", true, 48);
  const auto execution_id = f.string("execution_id", false, 128);
  std::optional<std::string> position;
  if (position_qty) {
    position = plain_decimal(*position_qty);
    if (!position) f.fail("position_qty", "must be a number");
  }
  // Older streams carry no execution_id: the order id, the fill time and the filled quantity so
  // far identify one execution just as well, and are the same for a duplicate delivery.
  const auto id = execution_id && !execution_id->empty()
                      ? std::string(*execution_id)
                      : ou.broker_order_id + ":" + std::to_string(time_us) + ":" + ou.filled_qty.value_or("");
  if (f.ok() && id.size() > 128) f.fail("execution_id", "is required with an order id this long");  // as events allow
  if (!f.ok()) {
    out.problems.push_back(*f.failure());
    return;
  }
  common::trade_executed t;
  t.header = header_for(user_id, source, time_us, recv_us);
  t.execution_id = id;
  t.order_id = ou.order_id;
  t.symbol = ou.symbol;
  t.side = ou.side;
  t.qty = std::move(*fill_qty);
  t.price = std::move(*price);
  // All three events of a fill are de-duplicated by its execution id.
  t.header.dedupe_id = "x:" + t.execution_id;
  std::get<common::order_update>(out.events.back()).header.dedupe_id = "x:" + t.execution_id + ":order";
  out.events.emplace_back(t);

  common::position_update p;
  p.header = header_for(user_id, source, time_us, recv_us);
  p.symbol = ou.symbol;
  const bool short_position = position->front() == '-';
  p.quantity = short_position ? position->substr(1) : *position;
  p.side = short_position ? "short" : "long";
  p.entry_price = t.price;  // replaced by the average entry price where the position is stored
  p.fill = common::position_update::fill_info{(t.side == "sell" ? "-" : "") + t.qty, t.price, ou.broker_order_id,
                                              ou.filled_qty.value_or("")};
  p.header.dedupe_id = "x:" + t.execution_id + ":position";
  out.events.emplace_back(std::move(p));
}

}  // namespace tickstream::ingest
