#include "edge/protocol/client_protocol.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/clock.hpp"
#include "common/json_reader.hpp"

namespace tickstream::edge {
namespace {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_string(json_writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

std::optional<std::vector<std::string>> read_string_list(common::json_reader& r, const char* name) {
  const auto* arr = r.array(name, false);
  if (!r.ok()) return std::nullopt;
  if (arr == nullptr) return std::vector<std::string>{};
  if (arr->Size() > max_list_entries) {
    r.fail(name, "has more than " + std::to_string(max_list_entries) + " entries");
    return std::nullopt;
  }
  std::vector<std::string> out;
  out.reserve(arr->Size());
  for (const auto& v : arr->GetArray()) {
    if (!v.IsString() || v.GetStringLength() > 256) {
      r.fail(name, "must be an array of strings (each at most 256 characters)");
      return std::nullopt;
    }
    out.emplace_back(v.GetString(), v.GetStringLength());
  }
  return out;
}

void write_list(json_writer& w, const char* key, const std::vector<std::string>& items);

}  // namespace

common::result<client_message> parse_client_message(std::string_view text) {
  rapidjson::Document doc;
  if (auto err = common::parse_json(doc, text, false)) return std::move(*err);
  if (!doc.IsObject()) return common::error{"invalid_message", "a message must be a JSON object"};
  common::json_reader r(doc, "invalid_message");
  const auto type = r.string("type", true, 64);
  if (!type) return *r.failure();

  if (*type == "subscribe" || *type == "unsubscribe") {
    subscription_request req;
    req.subscribe = *type == "subscribe";
    auto symbols = read_string_list(r, "symbols");
    auto channels = read_string_list(r, "channels");
    auto topics = read_string_list(r, "topics");
    if (!symbols || !channels || !topics) return *r.failure();
    if (symbols->empty() && channels->empty() && topics->empty()) {
      return common::error{"invalid_message", "field 'symbols': give at least one symbol (or channel, or topic)"};
    }
    req.symbols = std::move(*symbols);
    req.channels = std::move(*channels);
    req.topics = std::move(*topics);
    const auto it = doc.FindMember("batch_ms");
    if (it != doc.MemberEnd() && !it->value.IsNull()) {
      if (!it->value.IsInt64() || it->value.GetInt64() < 0 || it->value.GetInt64() > 60'000) {
        return common::error{"invalid_message", "field 'batch_ms': must be an integer from 0 to 60000"};
      }
      req.batch_ms = it->value.GetInt64();
    }
    if (const auto since = doc.FindMember("since"); since != doc.MemberEnd() && !since->value.IsNull()) {
      if (!since->value.IsInt64() || since->value.GetInt64() < 0) {
        return common::error{"invalid_message", "field 'since': must be a non-negative integer (the last seq applied)"};
      }
      req.since = since->value.GetInt64();
    }
    if (const auto snap = doc.FindMember("snapshot"); snap != doc.MemberEnd() && !snap->value.IsNull()) {
      if (!snap->value.IsBool()) return common::error{"invalid_message", "field 'snapshot': must be true or false"};
      req.snapshot = snap->value.GetBool();
    }
    return client_message{std::move(req)};
  }
  if (*type == "ping") {
    ping_request ping;
    const auto it = doc.FindMember("id");
    if (it != doc.MemberEnd() && !it->value.IsNull()) {
      if (!it->value.IsString() && !it->value.IsNumber()) {
        return common::error{"invalid_message", "field 'id': must be a string or a number"};
      }
      if (it->value.IsString() && it->value.GetStringLength() > 128) {
        return common::error{"invalid_message", "field 'id': is longer than 128 characters"};
      }
      rapidjson::StringBuffer buf;
      json_writer w(buf);
      it->value.Accept(w);
      ping.id_json = std::string(buf.GetString(), buf.GetSize());
    }
    return client_message{std::move(ping)};
  }
  if (*type == "refresh" || *type == "auth") {
    const auto token = r.string("token", true, 8192);
    if (!token) return *r.failure();
    if (*type == "auth") return client_message{auth_message{std::string(*token)}};
    return client_message{refresh_request{std::string(*token)}};
  }
  return common::error{"unknown_type", "unknown message type '" + std::string(*type) +
                                           "' (expected subscribe, unsubscribe, ping, refresh or auth)"};
}

namespace {
void write_list(json_writer& w, const char* key, const std::vector<std::string>& items) {
  w.Key(key);
  w.StartArray();
  for (const auto& s : items) write_string(w, s);
  w.EndArray();
}
}  // namespace

std::string render_subscribed(const std::vector<std::string>& symbols, const std::vector<std::string>& channels,
                              const std::vector<rejection>& rejected, std::int64_t batch_ms,
                              const std::vector<std::string>* topics) {
  rapidjson::StringBuffer buf;
  json_writer w(buf);
  w.StartObject();
  w.Key("type");
  w.String("subscribed");
  write_list(w, "symbols", symbols);
  write_list(w, "channels", channels);
  if (topics != nullptr) write_list(w, "topics", *topics);
  w.Key("rejected");
  w.StartArray();
  for (const auto& r : rejected) {
    w.StartObject();
    w.Key("name");
    write_string(w, r.name);
    w.Key("code");
    write_string(w, r.code);
    w.Key("reason");
    write_string(w, r.reason);
    w.EndObject();
  }
  w.EndArray();
  w.Key("batch_ms");
  w.Int64(batch_ms);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string render_unsubscribed(const std::vector<std::string>& symbols, const std::vector<std::string>& channels,
                                const std::vector<std::string>* topics, std::string_view reason) {
  rapidjson::StringBuffer buf;
  json_writer w(buf);
  w.StartObject();
  w.Key("type");
  w.String("unsubscribed");
  write_list(w, "symbols", symbols);
  write_list(w, "channels", channels);
  if (topics != nullptr) write_list(w, "topics", *topics);
  if (!reason.empty()) {
    w.Key("reason");
    write_string(w, reason);
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string render_pong(const std::optional<std::string>& id_json, std::int64_t server_time_us, std::string_view node) {
  rapidjson::StringBuffer buf;
  json_writer w(buf);
  w.StartObject();
  w.Key("type");
  w.String("pong");
  if (id_json) {
    w.Key("id");
    w.RawValue(id_json->data(), id_json->size(), rapidjson::kStringType);
  }
  w.Key("server_time");
  write_string(w, common::format_iso8601(server_time_us));
  w.Key("server_time_us");
  w.Int64(server_time_us);
  w.Key("node");
  write_string(w, node);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string render_authenticated(std::string_view user_id, std::optional<std::int64_t> expires_at_s,
                                 std::string_view node) {
  rapidjson::StringBuffer buf;
  json_writer w(buf);
  w.StartObject();
  w.Key("type");
  w.String("authenticated");
  w.Key("user_id");
  write_string(w, user_id);
  w.Key("expires_at_s");
  if (expires_at_s) {
    w.Int64(*expires_at_s);
  } else {
    w.Null();
  }
  w.Key("node");
  write_string(w, node);
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

std::string render_error(std::string_view code, std::string_view message) {
  rapidjson::StringBuffer buf;
  json_writer w(buf);
  w.StartObject();
  w.Key("type");
  w.String("error");
  w.Key("code");
  write_string(w, code);
  w.Key("message");
  write_string(w, message);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

namespace {
std::string render_expiry(const char* type, std::int64_t expires_at_s) {
  rapidjson::StringBuffer buf;
  json_writer w(buf);
  w.StartObject();
  w.Key("type");
  w.String(type);
  w.Key("expires_at");
  write_string(w, common::format_iso8601(expires_at_s * 1'000'000));
  w.Key("expires_at_s");
  w.Int64(expires_at_s);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}
}  // namespace

std::string render_token_expiring(std::int64_t expires_at_s) { return render_expiry("token_expiring", expires_at_s); }
std::string render_refreshed(std::int64_t expires_at_s) { return render_expiry("refreshed", expires_at_s); }

namespace {

void append_list(std::string& out, std::string_view key, const std::vector<std::string>& items) {
  out += ",\"";
  out += key;
  out += "\":[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += items[i];
  }
  out += ']';
}

}  // namespace

std::string render_snapshot(const snapshot_parts& p) {
  // The sections are complete messages already serialized: concatenated, not re-encoded.
  std::string out = "{\"type\":\"";
  out += p.type;
  out += '"';
  if (!p.reason.empty()) {
    out += ",\"reason\":\"";
    out += p.reason;
    out += '"';
  }
  if (p.seq) out += ",\"seq\":" + std::to_string(*p.seq);
  if (p.positions != nullptr) append_list(out, "positions", *p.positions);
  if (p.orders != nullptr) append_list(out, "orders", *p.orders);
  if (p.with_account) out += ",\"account\":" + (p.account != nullptr ? *p.account : std::string("null"));
  if (p.prices != nullptr) append_list(out, "prices", *p.prices);
  out += '}';
  return out;
}

std::string render_stale(std::string_view source, std::int64_t since_us) {
  rapidjson::StringBuffer buf;
  json_writer w(buf);
  w.StartObject();
  w.Key("type");
  w.String("stale");
  w.Key("source");
  write_string(w, source);
  w.Key("since");
  write_string(w, common::format_iso8601(since_us));
  w.Key("since_us");
  w.Int64(since_us);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string render_fresh(std::string_view source) {
  rapidjson::StringBuffer buf;
  json_writer w(buf);
  w.StartObject();
  w.Key("type");
  w.String("fresh");
  w.Key("source");
  write_string(w, source);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string render_reconnect(std::int64_t delay_ms) {
  return R"({"type":"reconnect","reason":"draining","delay_ms":)" + std::to_string(delay_ms) + "}";
}

}  // namespace tickstream::edge
