#include "ingest/normalize/broker_events_normalizer.hpp"

#include <rapidjson/document.h>

#include "ingest/normalize/alpaca_trading_normalizer.hpp"
#include "ingest/normalize/source_json.hpp"

namespace tickstream::ingest {

broker_trade_event normalize_broker_trade_event(std::string_view data, std::string_view sse_id,
                                                const account_lookup& users, std::int64_t recv_us) {
  broker_trade_event ev;
  ev.event_id = sse_id;
  rapidjson::Document doc;
  if (!parse_upstream(doc, data, ev.out, false, "Alpaca Broker API trade event")) return ev;
  common::json_reader r(doc, "invalid_message");
  const auto event_id = r.string("event_id", false, 64);
  const auto account = r.string("account_id", true, 64);
  if (event_id && !event_id->empty()) ev.event_id = *event_id;
  if (!r.ok()) {
    ev.out.problems.push_back(*r.failure());
    return ev;
  }
  ev.account_id = *account;
  const auto user = users(ev.account_id);
  if (!user) return ev;
  ev.ours = true;
  normalize_trade_update(doc, *user, broker_events_source, recv_us, ev.out);
  return ev;
}

}  // namespace tickstream::ingest
