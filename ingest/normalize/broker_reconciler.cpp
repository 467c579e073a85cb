#include "ingest/normalize/broker_reconciler.hpp"

#include <algorithm>
#include <map>

#include "common/account/account_math.hpp"
#include "common/decimal.hpp"
#include "common/event_codec.hpp"
#include "common/fixed_decimal.hpp"
#include "common/json_reader.hpp"
#include "common/symbol.hpp"

namespace tickstream::ingest {
namespace {

using common::fixed_decimal;

common::private_header header_for(const std::string& user, std::int64_t now_us) {
  common::private_header h;
  h.user_id = user;
  h.time_us = now_us;
  h.recv_time_us = now_us;
  h.source = std::string(reconcile_source);
  return h;
}

// Two decimals equal by value ("1.50" == "1.5"); false when either does not parse.
bool same_value(std::string_view a, std::string_view b) {
  const auto x = fixed_decimal::parse(a);
  const auto y = fixed_decimal::parse(b);
  const auto d = x && y ? x->minus(*y) : std::nullopt;
  return d && d->is_zero();
}
bool same_optional(const std::optional<std::string>& a, const std::optional<std::string>& b) {
  if (!a || !b) return a.has_value() == b.has_value();
  return same_value(*a, *b);
}

// Order statuses after which an order is no longer open (as the store has them).
bool private_store_terminal(std::string_view s) {
  return s == "filled" || s == "canceled" || s == "expired" || s == "rejected" || s == "replaced" ||
         s == "done_for_day" || s == "stopped" || s == "suspended";
}

std::optional<common::error> failure_of(const common::json_reader& r) {
  if (r.ok()) return std::nullopt;
  return r.failure();
}

}  // namespace

common::result<common::account_update> parse_broker_account(std::string_view body, const std::string& user_id,
                                                            std::int64_t now_us) {
  rapidjson::Document doc;
  if (auto err = common::parse_json(doc, body)) return common::error{"invalid_broker_reply", err->message};
  if (!doc.IsObject()) return common::error{"invalid_broker_reply", "the account must be a JSON object"};
  common::json_reader r(doc, "invalid_broker_reply");
  common::account_update a;
  a.header = header_for(user_id, now_us);
  const auto cash = r.decimal("cash", true);
  const auto equity = r.decimal("equity", true);
  const auto bp = r.decimal("buying_power", true);
  const auto last = r.decimal("last_equity", false);
  const auto pv = r.decimal("portfolio_value", false);
  const auto mult = r.decimal("multiplier", false, false, true);
  if (auto e = failure_of(r)) return *e;
  a.cash = *cash;
  a.equity = *equity;
  a.buying_power = *bp;
  a.portfolio_value = pv.value_or(*equity);
  a.last_equity = last;
  a.multiplier = mult;
  a.day_pnl = "0.00";
  a.day_pnl_percent = "0.00";
  if (last) {
    const auto v = common::account::value_account(*fixed_decimal::parse(*equity), {}, fixed_decimal::parse(*last),
                                                  fixed_decimal::from_int(1));
    if (v && v->day_pnl) {
      a.day_pnl = v->day_pnl->to_string(common::account::money_places);
      a.day_pnl_percent = v->day_pnl_percent->to_string(common::account::percent_places);
    }
  }
  return a;
}

common::result<std::vector<common::position_update>> parse_broker_positions(std::string_view body,
                                                                            const std::string& user_id,
                                                                            std::int64_t now_us) {
  rapidjson::Document doc;
  if (auto err = common::parse_json(doc, body)) return common::error{"invalid_broker_reply", err->message};
  if (!doc.IsArray()) return common::error{"invalid_broker_reply", "the positions must be a JSON array"};
  std::vector<common::position_update> out;
  for (const auto& item : doc.GetArray()) {
    if (!item.IsObject()) return common::error{"invalid_broker_reply", "a position must be a JSON object"};
    common::json_reader r(item, "invalid_broker_reply");
    const auto symbol = r.string("symbol", true, 64);
    const auto qty = r.decimal("qty", true);
    const auto side = r.string("side", false, 8);
    const auto avg = r.decimal("avg_entry_price", true, false, true);
    if (auto e = failure_of(r)) return *e;
    auto sym = common::normalize_symbol(*symbol);
    if (!sym) return common::error{"invalid_broker_reply", "position symbol: " + sym.err().message};
    common::position_update p;
    p.header = header_for(user_id, now_us);
    p.symbol = std::move(sym).value();
    const bool short_side = qty->front() == '-' || (side && *side == "short");
    p.quantity = qty->front() == '-' ? qty->substr(1) : *qty;
    p.side = short_side ? "short" : "long";
    p.entry_price = *avg;
    out.push_back(std::move(p));
  }
  return out;
}

common::result<std::vector<common::order_update>> parse_broker_orders(std::string_view body, const std::string& user_id,
                                                                      std::int64_t now_us) {
  rapidjson::Document doc;
  if (auto err = common::parse_json(doc, body)) return common::error{"invalid_broker_reply", err->message};
  if (!doc.IsArray()) return common::error{"invalid_broker_reply", "the orders must be a JSON array"};
  std::vector<common::order_update> out;
  for (const auto& item : doc.GetArray()) {
    if (!item.IsObject()) return common::error{"invalid_broker_reply", "an order must be a JSON object"};
    common::json_reader r(item, "invalid_broker_reply");
    const auto id = r.string("id", true, 128);
    const auto client_id = r.string("client_order_id", false, 128);
    const auto symbol = r.string("symbol", true, 64);
    const auto side = r.string("side", true, 8);
    const auto type = r.string("type", false, 32);
    const auto order_type = r.string("order_type", false, 32);
    const auto status = r.string("status", true, 32);
    const auto qty = r.decimal("qty", false);
    const auto filled = r.decimal("filled_qty", false);
    const auto avg = r.decimal("filled_avg_price", false);
    const auto submitted = r.timestamp("submitted_at", false);
    const auto created = r.timestamp("created_at", false);
    const auto filled_at = r.timestamp("filled_at", false);
    if (auto e = failure_of(r)) return *e;
    auto sym = common::normalize_symbol(*symbol);
    if (!sym) return common::error{"invalid_broker_reply", "order symbol: " + sym.err().message};
    common::order_update o;
    o.header = header_for(user_id, now_us);
    o.broker_order_id = std::string(*id);
    o.order_id = client_id && !client_id->empty() ? std::string(*client_id) : o.broker_order_id;
    o.symbol = std::move(sym).value();
    o.side = std::string(*side);
    o.order_type = std::string(order_type ? *order_type : (type ? *type : "unknown"));
    o.status = std::string(*status);
    if (qty) o.qty = std::string(*qty);
    if (filled) o.filled_qty = std::string(*filled);
    if (avg) o.filled_avg_price = std::string(*avg);
    o.submitted_at_us = submitted ? *submitted : (created ? *created : now_us);
    o.filled_at_us = filled_at;
    out.push_back(std::move(o));
  }
  return out;
}

order_reads compare_order_reads(const std::vector<common::order_update>& before,
                                const std::vector<common::order_update>& after) {
  order_reads out;
  const auto filled_of = [](const common::order_update& o) { return o.filled_qty.value_or("0"); };
  std::map<std::string, const common::order_update*> later;
  for (const auto& o : after) later.emplace(o.broker_order_id, &o);
  std::map<std::string, const common::order_update*> earlier;
  for (const auto& o : before) {
    earlier.emplace(o.broker_order_id, &o);
    const auto it = later.find(o.broker_order_id);
    const bool open = !private_store_terminal(o.status);
    if (it == later.end()) {
      if (open) out.consistent = false;  // closed in between: filled further, or not
    } else if (!same_value(filled_of(o), filled_of(*it->second))) {
      out.consistent = false;  // filled further in between
    }
    if (!same_value(filled_of(o), "0")) out.filled.emplace(o.broker_order_id, filled_of(o));
  }
  for (const auto& o : after) {
    // An order submitted in between that already has a fill: the snapshot may or may not hold it.
    if (earlier.count(o.broker_order_id) == 0 && !same_value(filled_of(o), "0")) out.consistent = false;
  }
  return out;
}

order_diff reconcile_orders(const std::vector<std::string>& stored_open,
                            const std::vector<common::order_update>& broker_open,
                            const std::vector<common::order_update>& recent) {
  std::map<std::string, common::order_update> stored;
  for (const auto& json : stored_open) {
    auto d = common::decode_event(json);
    if (d && std::holds_alternative<common::order_update>(d.value())) {
      auto o = std::get<common::order_update>(std::move(d).value());
      stored.emplace(o.order_id, std::move(o));
    }
  }
  order_diff out;
  std::map<std::string, const common::order_update*> open;
  for (const auto& o : broker_open) open.emplace(o.order_id, &o);
  for (const auto& [id, b] : open) {
    const auto it = stored.find(id);
    if (it != stored.end() && it->second.status == b->status && same_optional(it->second.filled_qty, b->filled_qty)) {
      continue;
    }
    out.events.emplace_back(*b);
  }
  std::map<std::string, const common::order_update*> latest;
  for (const auto& o : recent) latest.emplace(o.order_id, &o);
  for (const auto& [id, s] : stored) {
    if (open.count(id) != 0) continue;
    const auto it = latest.find(id);
    if (it == latest.end() || !private_store_terminal(it->second->status)) {
      out.unknown.push_back(id);
      continue;
    }
    out.events.emplace_back(*it->second);
  }
  return out;
}

std::vector<common::event> reconcile(const std::optional<std::string>& stored_account,
                                     const std::vector<std::string>& stored_positions,
                                     const common::account_update& broker_account,
                                     const std::vector<common::position_update>& broker_positions) {
  std::map<std::string, common::position_update> stored;
  for (const auto& json : stored_positions) {
    auto d = common::decode_event(json);
    if (d && std::holds_alternative<common::position_update>(d.value())) {
      auto p = std::get<common::position_update>(std::move(d).value());
      stored.emplace(p.symbol, std::move(p));
    }
  }
  std::map<std::string, const common::position_update*> broker;
  for (const auto& p : broker_positions) broker.emplace(p.symbol, &p);

  std::vector<common::event> out;
  for (const auto& [symbol, b] : broker) {
    const auto it = stored.find(symbol);
    if (it != stored.end() && it->second.side == b->side && same_value(it->second.quantity, b->quantity) &&
        same_value(it->second.entry_price, b->entry_price)) {
      continue;
    }
    common::position_update p = *b;
    if (it != stored.end()) p.realized_pnl = it->second.realized_pnl;
    out.emplace_back(std::move(p));
  }
  for (const auto& [symbol, s] : stored) {
    if (broker.count(symbol) != 0 || s.quantity.find_first_not_of("0.") == std::string::npos) continue;
    common::position_update closed;
    closed.header = broker_account.header;
    closed.symbol = symbol;
    closed.quantity = "0";
    closed.entry_price = "0";
    closed.side = s.side;
    closed.realized_pnl = s.realized_pnl;
    out.emplace_back(std::move(closed));
  }
  std::optional<common::account_update> current;
  if (stored_account) {
    auto d = common::decode_event(*stored_account);
    if (d && std::holds_alternative<common::account_update>(d.value())) {
      current = std::get<common::account_update>(std::move(d).value());
    }
  }
  // Equity and buying power move with every price at the broker, and the edge values them from
  // cash and live marks anyway: only the figures it cannot know make the account differ.
  const bool same = current && !current->provisional && same_value(current->cash, broker_account.cash) &&
                    same_optional(current->last_equity, broker_account.last_equity) &&
                    same_optional(current->multiplier, broker_account.multiplier);
  if (!same) out.emplace_back(broker_account);
  return out;
}

}  // namespace tickstream::ingest
