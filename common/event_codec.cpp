#include "common/event_codec.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

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

std::string encode_event(const event& ev) {
  return std::visit([](const auto& e) { return encode_event(e); }, ev);
}

}  // namespace tickstream::common
