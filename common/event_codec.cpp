#include "common/event_codec.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <climits>
#include <cstdint>
#include <initializer_list>

#include "common/clock.hpp"
#include "common/decimal.hpp"
#include "common/json_reader.hpp"
#include "common/symbol.hpp"

namespace tickstream::common {
namespace {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

// Earliest and latest plausible event times: 2000-01-01 and 2100-01-01 in microseconds.
constexpr std::int64_t min_time_us = 946'684'800'000'000LL;
constexpr std::int64_t max_time_us = 4'102'444'800'000'000LL;

result<event> decode_price_update(const rapidjson::Value& obj) {
  json_reader r(obj, "invalid_event");
  price_update t;
  if (auto sym = r.string("symbol", true, 64)) {
    auto norm = normalize_symbol(*sym);
    if (!norm) {
      r.fail("symbol", norm.err().message);
    } else {
      t.symbol = std::move(norm).value();
    }
  }
  if (auto v = r.decimal("price", true, true)) t.price = std::move(*v);
  t.bid = r.decimal("bid", false, true);
  t.ask = r.decimal("ask", false, true);
  t.bid_size = r.decimal("bid_size", false, false, true);
  t.ask_size = r.decimal("ask_size", false, false, true);
  t.size = r.decimal("size", false, false, true);
  t.volume = r.decimal("volume", false, false, true);
  t.change = r.decimal("change", false);
  t.change_percent = r.decimal("change_percent", false);
  if (auto ts = r.timestamp("timestamp", true)) {
    if (*ts < min_time_us || *ts > max_time_us) {
      r.fail("timestamp", "must be between 2000-01-01 and 2100-01-01");
    }
    t.source_time_us = *ts;
  }
  if (auto recv = r.integer("recv_us", true, min_time_us, max_time_us)) t.recv_time_us = *recv;
  if (auto src = r.string("source", true, 32)) {
    if (src->empty()) r.fail("source", "must not be empty");
    t.source = std::string(*src);
  }
  if (r.ok() && t.bid && t.ask && compare_decimal(*t.ask, *t.bid) < 0) r.fail("ask", "must not be below bid");
  if (!r.ok()) return *r.failure();
  return event{std::move(t)};
}

// Reads a string that must be one of the allowed values.
std::optional<std::string> one_of(json_reader& r, const char* name, std::initializer_list<std::string_view> allowed) {
  const auto v = r.string(name, true, 32);
  if (!v) return std::nullopt;
  for (const auto a : allowed) {
    if (*v == a) return std::string(*v);
  }
  std::string list;
  for (const auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  r.fail(name, "must be one of " + list);
  return std::nullopt;
}

std::string required_text(json_reader& r, const char* name, std::size_t max_len = 128) {
  const auto v = r.string(name, true, max_len);
  if (v && v->empty()) r.fail(name, "must not be empty");
  return v ? std::string(*v) : std::string();
}

std::string required_decimal(json_reader& r, const char* name, bool positive = false, bool non_negative = false) {
  auto v = r.decimal(name, true, positive, non_negative);
  return v ? std::move(*v) : std::string();
}

std::string required_symbol(json_reader& r) {
  const auto sym = r.string("symbol", true, 64);
  if (!sym) return {};
  auto norm = normalize_symbol(*sym);
  if (!norm) {
    r.fail("symbol", norm.err().message);
    return {};
  }
  return std::move(norm).value();
}

// The envelope of a private event; data is set to its "data" object (or null after an error).
private_header decode_header(json_reader& r, const rapidjson::Value& doc, const rapidjson::Value*& data) {
  private_header h;
  if (const auto id = r.string("userId", true, 64)) {
    if (!is_valid_user_id(*id)) {
      r.fail("userId", "must be 1-64 characters from A-Z a-z 0-9 _ . : -");
    } else {
      h.user_id = std::string(*id);
    }
  }
  if (const auto seq = r.integer("seq", false, 0, INT64_MAX)) h.seq = *seq;
  if (const auto ts = r.timestamp("timestamp", true)) h.time_us = *ts;
  if (const auto recv = r.integer("recv_us", true, min_time_us, max_time_us)) h.recv_time_us = *recv;
  h.source = required_text(r, "source", 32);
  data = nullptr;
  if (r.ok()) {
    const auto it = doc.FindMember("data");
    if (it == doc.MemberEnd() || !it->value.IsObject()) {
      r.fail("data", "must be an object");
    } else {
      data = &it->value;
    }
  }
  return h;
}

// Decodes a private event: the envelope, then body(reader_of_data, event) for its "data" object.
// Errors in the data name the field as 'data.x'.
template <class T, class Body>
result<event> decode_private(const rapidjson::Value& doc, Body&& body) {
  json_reader r(doc, "invalid_event");
  const rapidjson::Value* data = nullptr;
  T ev;
  ev.header = decode_header(r, doc, data);
  if (!r.ok()) return *r.failure();
  json_reader d(*data, "invalid_event");
  body(d, ev);
  if (!d.ok()) {
    auto e = *d.failure();
    constexpr std::string_view prefix = "field '";
    e.message = "field 'data." + e.message.substr(prefix.size());
    return e;
  }
  return event{std::move(ev)};
}

result<event> decode_order_update(const rapidjson::Value& doc) {
  return decode_private<order_update>(doc, [](json_reader& d, order_update& o) {
    o.order_id = required_text(d, "orderId");
    if (const auto b = d.string("brokerOrderId", false, 128)) o.broker_order_id = std::string(*b);
    o.symbol = required_symbol(d);
    if (auto v = one_of(d, "side", {"buy", "sell"})) o.side = std::move(*v);
    o.order_type = required_text(d, "type", 32);
    o.status = required_text(d, "status", 32);
    o.qty = d.decimal("qty", false, true);
    o.filled_qty = d.decimal("filledQty", false, false, true);
    o.filled_avg_price = d.decimal("filledAvgPrice", false, true);
    if (const auto t = d.timestamp("submittedAt", true)) o.submitted_at_us = *t;
    o.filled_at_us = d.timestamp("filledAt", false);
  });
}

result<event> decode_trade_executed(const rapidjson::Value& doc) {
  return decode_private<trade_executed>(doc, [](json_reader& d, trade_executed& t) {
    t.execution_id = required_text(d, "executionId");
    t.order_id = required_text(d, "orderId");
    t.symbol = required_symbol(d);
    if (auto v = one_of(d, "side", {"buy", "sell"})) t.side = std::move(*v);
    t.qty = required_decimal(d, "qty", true);
    t.price = required_decimal(d, "price", true);
  });
}

result<event> decode_position_update(const rapidjson::Value& doc) {
  return decode_private<position_update>(doc, [](json_reader& d, position_update& p) {
    p.symbol = required_symbol(d);
    p.quantity = required_decimal(d, "quantity", false, true);
    p.entry_price = required_decimal(d, "entryPrice", false, true);
    if (auto v = one_of(d, "side", {"long", "short"})) p.side = std::move(*v);
    p.current_price = d.decimal("currentPrice", false, false, true);
    p.market_value = d.decimal("marketValue", false);
    p.unrealized_pnl = d.decimal("unrealizedPnl", false);
    p.unrealized_pnl_percent = d.decimal("unrealizedPnlPercent", false);
    if (const auto sid = d.string("strategyId", false, 128)) p.strategy_id = std::string(*sid);
    p.opened_at_us = d.timestamp("openedAt", false);
    p.realized_pnl = d.decimal("realizedPnl", false);
  });
}

result<event> decode_account_update(const rapidjson::Value& doc) {
  return decode_private<account_update>(doc, [](json_reader& d, account_update& a) {
    a.equity = required_decimal(d, "equity");
    a.buying_power = required_decimal(d, "buyingPower");
    a.cash = required_decimal(d, "cash");
    a.portfolio_value = required_decimal(d, "portfolioValue");
    a.day_pnl = required_decimal(d, "dayPnl");
    a.day_pnl_percent = required_decimal(d, "dayPnlPercent");
    a.last_equity = d.decimal("lastEquity", false);
    a.multiplier = d.decimal("multiplier", false, true);
    a.provisional = d.boolean("provisional", false).value_or(false);
    // A misspelt figure would otherwise be lost without a word: refuse what is not ours.
    d.only({"equity", "buyingPower", "cash", "portfolioValue", "dayPnl", "dayPnlPercent", "lastEquity", "multiplier",
            "provisional"});
  });
}

void write_decimal(json_writer& w, const char* key, const std::optional<std::string>& v) {
  if (!v) return;
  w.Key(key);
  // Validated plain decimals are valid JSON numbers: write the digits exactly as received.
  w.RawValue(v->data(), v->size(), rapidjson::kNumberType);
}

}  // namespace

result<event> decode_event(std::string_view json) {
  rapidjson::Document doc;
  if (auto err = parse_json(doc, json)) return std::move(*err);
  if (!doc.IsObject()) return error{"invalid_json", "an event must be a JSON object"};
  json_reader r(doc, "invalid_event");
  const auto type = r.string("type", true, 64);
  if (!type) return *r.failure();
  if (*type == "price_update") return decode_price_update(doc);
  if (*type == "order_update") return decode_order_update(doc);
  if (*type == "trade_executed") return decode_trade_executed(doc);
  if (*type == "position_update") return decode_position_update(doc);
  if (*type == "account_update") return decode_account_update(doc);
  return error{"unknown_type", "unknown event type '" + std::string(*type) + "'"};
}

std::string encode_event(const price_update& t) {
  rapidjson::StringBuffer buf;
  json_writer w(buf);
  w.StartObject();
  w.Key("type");
  w.String("price_update");
  w.Key("symbol");
  w.String(t.symbol.data(), static_cast<rapidjson::SizeType>(t.symbol.size()));
  write_decimal(w, "price", t.price);
  write_decimal(w, "bid", t.bid);
  write_decimal(w, "ask", t.ask);
  write_decimal(w, "bid_size", t.bid_size);
  write_decimal(w, "ask_size", t.ask_size);
  write_decimal(w, "size", t.size);
  write_decimal(w, "volume", t.volume);
  write_decimal(w, "change", t.change);
  write_decimal(w, "change_percent", t.change_percent);
  w.Key("timestamp");
  const auto ts = format_iso8601(t.source_time_us);
  w.String(ts.data(), static_cast<rapidjson::SizeType>(ts.size()));
  w.Key("recv_us");
  w.Int64(t.recv_time_us);
  w.Key("source");
  w.String(t.source.data(), static_cast<rapidjson::SizeType>(t.source.size()));
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

namespace {

void write_text(json_writer& w, const char* key, std::string_view v) {
  w.Key(key);
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}

void write_opt_text(json_writer& w, const char* key, const std::optional<std::string>& v) {
  if (v) write_text(w, key, *v);
}

void write_time(json_writer& w, const char* key, std::int64_t us) { write_text(w, key, format_iso8601(us)); }

// Writes {"type", "userId", "seq"?, "timestamp", "data": { body }, "recv_us", "source"}.
template <class Body>
std::string encode_private(const char* type, const private_header& h, Body&& body) {
  rapidjson::StringBuffer buf;
  json_writer w(buf);
  w.StartObject();
  write_text(w, "type", type);
  write_text(w, "userId", h.user_id);
  if (h.seq > 0) {
    w.Key("seq");
    w.Int64(h.seq);
  }
  write_time(w, "timestamp", h.time_us);
  w.Key("data");
  w.StartObject();
  body(w);
  w.EndObject();
  w.Key("recv_us");
  w.Int64(h.recv_time_us);
  write_text(w, "source", h.source);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace

std::string encode_event(const order_update& o) {
  return encode_private("order_update", o.header, [&](json_writer& w) {
    write_text(w, "orderId", o.order_id);
    write_text(w, "brokerOrderId", o.broker_order_id);
    write_text(w, "symbol", o.symbol);
    write_text(w, "side", o.side);
    write_text(w, "type", o.order_type);
    write_text(w, "status", o.status);
    write_opt_text(w, "qty", o.qty);
    write_opt_text(w, "filledQty", o.filled_qty);
    write_opt_text(w, "filledAvgPrice", o.filled_avg_price);
    write_time(w, "submittedAt", o.submitted_at_us);
    if (o.filled_at_us) write_time(w, "filledAt", *o.filled_at_us);
  });
}

std::string encode_event(const trade_executed& t) {
  return encode_private("trade_executed", t.header, [&](json_writer& w) {
    write_text(w, "executionId", t.execution_id);
    write_text(w, "orderId", t.order_id);
    write_text(w, "symbol", t.symbol);
    write_text(w, "side", t.side);
    write_text(w, "qty", t.qty);
    write_text(w, "price", t.price);
  });
}

std::string encode_event(const position_update& p) {
  return encode_private("position_update", p.header, [&](json_writer& w) {
    write_text(w, "symbol", p.symbol);
    write_text(w, "quantity", p.quantity);
    write_text(w, "entryPrice", p.entry_price);
    write_text(w, "side", p.side);
    write_opt_text(w, "currentPrice", p.current_price);
    write_opt_text(w, "marketValue", p.market_value);
    write_opt_text(w, "unrealizedPnl", p.unrealized_pnl);
    write_opt_text(w, "unrealizedPnlPercent", p.unrealized_pnl_percent);
    write_opt_text(w, "strategyId", p.strategy_id);
    if (p.opened_at_us) write_time(w, "openedAt", *p.opened_at_us);
    write_opt_text(w, "realizedPnl", p.realized_pnl);
  });
}

std::string encode_event(const account_update& a) {
  return encode_private("account_update", a.header, [&](json_writer& w) {
    write_text(w, "equity", a.equity);
    write_text(w, "buyingPower", a.buying_power);
    write_text(w, "cash", a.cash);
    write_text(w, "portfolioValue", a.portfolio_value);
    write_text(w, "dayPnl", a.day_pnl);
    write_text(w, "dayPnlPercent", a.day_pnl_percent);
    write_opt_text(w, "lastEquity", a.last_equity);
    write_opt_text(w, "multiplier", a.multiplier);
    if (a.provisional) {
      w.Key("provisional");
      w.Bool(true);
    }
  });
}

std::string encode_source_status(const source_status& st) {
  rapidjson::StringBuffer buf;
  json_writer w(buf);
  w.StartObject();
  write_text(w, "type", "source_status");
  write_text(w, "source", st.source);
  w.Key("connected");
  w.Bool(st.connected);
  w.Key("silent");
  w.Bool(st.silent);
  w.Key("last_message_us");
  w.Int64(st.last_message_us);
  w.Key("age_ms");
  if (st.age_ms) {
    w.Int64(*st.age_ms);
  } else {
    w.Null();
  }
  w.Key("ts_us");
  w.Int64(st.time_us);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

result<source_status> decode_source_status(std::string_view json) {
  rapidjson::Document doc;
  if (auto err = parse_json(doc, json)) return std::move(*err);
  if (!doc.IsObject()) return error{"invalid_json", "a source_status must be a JSON object"};
  json_reader r(doc, "invalid_event");
  source_status st;
  if (const auto type = r.string("type", false, 64); type && *type != "source_status") {
    r.fail("type", "must be source_status");
  }
  if (const auto source = r.string("source", true, 64)) {
    if (source->empty()) r.fail("source", "must not be empty");
    st.source = std::string(*source);
  }
  if (r.ok()) {
    const auto connected = doc.FindMember("connected");
    if (connected == doc.MemberEnd() || !connected->value.IsBool()) {
      r.fail("connected", "must be true or false");
    } else {
      st.connected = connected->value.GetBool();
    }
  }
  // Optional (absent from older ingests: not silent).
  if (const auto silent = doc.FindMember("silent"); r.ok() && silent != doc.MemberEnd()) {
    if (!silent->value.IsBool())
      r.fail("silent", "must be true or false");
    else
      st.silent = silent->value.GetBool();
  }
  if (const auto last = r.integer("last_message_us", false, 0, max_time_us)) st.last_message_us = *last;
  if (const auto age = doc.FindMember("age_ms"); age != doc.MemberEnd() && !age->value.IsNull()) {
    st.age_ms = r.integer("age_ms", true, 0, INT64_MAX);
  }
  if (const auto ts = r.integer("ts_us", false, 0, max_time_us)) st.time_us = *ts;
  if (!r.ok()) return *r.failure();
  return st;
}

const char* event_type_name(const event& ev) noexcept {
  static constexpr const char* names[] = {"price_update", "order_update", "trade_executed", "position_update",
                                          "account_update"};
  return names[ev.index()];
}

std::int64_t recv_time_of(const event& ev) noexcept {
  return std::visit(
      [](const auto& e) {
        if constexpr (std::is_same_v<std::decay_t<decltype(e)>, price_update>) {
          return e.recv_time_us;
        } else {
          return e.header.recv_time_us;
        }
      },
      ev);
}

bool is_valid_user_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > 64) return false;
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '.' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string encode_event(const event& ev) {
  return std::visit([](const auto& e) { return encode_event(e); }, ev);
}

}  // namespace tickstream::common
