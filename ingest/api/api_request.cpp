#include "ingest/api/api_request.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

#include "common/app_event_type.hpp"
#include "common/clock.hpp"
#include "common/event_codec.hpp"
#include "common/json_reader.hpp"
#include "common/symbol.hpp"
#include "common/tier_command.hpp"

namespace tickstream::ingest {
namespace {

std::string serialize(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

common::error at(std::size_t index, bool batch, std::string code, const std::string& why) {
  return {std::move(code), batch ? "event " + std::to_string(index) + ": " + why : why};
}

common::result<app_event_request> parse_one(const rapidjson::Value& v, std::size_t index, bool batch,
                                            const publish_limits& limits) {
  if (!v.IsObject()) return at(index, batch, "invalid_request", "an event must be a JSON object");
  for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
    const std::string_view name(m->name.GetString(), m->name.GetStringLength());
    if (name != "user" && name != "type" && name != "data" && name != "idempotency_key") {
      return at(index, batch, "invalid_request",
                "unknown field '" + std::string(name) + "' (known: user, type, data, idempotency_key)");
    }
  }
  const auto text = [&](const char* name) -> std::optional<std::string_view> {
    const auto it = v.FindMember(name);
    if (it == v.MemberEnd() || !it->value.IsString()) return std::nullopt;
    return std::string_view(it->value.GetString(), it->value.GetStringLength());
  };
  app_event_request out;
  const auto user = text("user");
  if (!user || !common::is_valid_user_id(*user)) {
    return at(index, batch, "invalid_request", "field 'user': a user id is required");
  }
  out.user = *user;
  const auto type = text("type");
  if (!type || !is_valid_app_type(*type)) {
    return at(index, batch, "invalid_type",
              "field 'type': 1 to 64 of a-z, 0-9 and _, starting with a letter, and not a name the tier uses "
              "(price_update, snapshot, batch, ...)");
  }
  out.type = *type;
  const auto data = v.FindMember("data");
  if (data == v.MemberEnd() || !data->value.IsObject()) {
    return at(index, batch, "invalid_request", "field 'data': a JSON object is required");
  }
  out.data = serialize(data->value);
  if (out.data.size() > limits.max_data_bytes) {
    return at(index, batch, "too_large",
              "field 'data': " + std::to_string(out.data.size()) + " bytes, over the limit of " +
                  std::to_string(limits.max_data_bytes));
  }
  if (v.HasMember("idempotency_key")) {
    const auto key = text("idempotency_key");
    if (!key || !is_valid_idempotency_key(*key)) {
      return at(index, batch, "invalid_idempotency_key", "field 'idempotency_key': 1 to 128 of A-Z, a-z, 0-9, _ . : -");
    }
    out.idempotency_key = *key;
  }
  return out;
}

common::result<topic_message_request> parse_topic_one(const rapidjson::Value& v, std::size_t index, bool batch,
                                                      const publish_limits& limits) {
  const auto fail = [&](std::string code, const std::string& why) -> common::error {
    return {std::move(code), batch ? "message " + std::to_string(index) + ": " + why : why};
  };
  if (!v.IsObject()) return fail("invalid_request", "a message must be a JSON object");
  for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
    const std::string_view name(m->name.GetString(), m->name.GetStringLength());
    if (name != "topic" && name != "data" && name != "retain") {
      return fail("invalid_request", "unknown field '" + std::string(name) + "' (known: topic, data, retain)");
    }
  }
  topic_message_request out;
  const auto topic = v.FindMember("topic");
  if (topic == v.MemberEnd() || !topic->value.IsString()) {
    return fail("invalid_request", "field 'topic': a topic name is required");
  }
  auto name = common::validate_topic(std::string_view(topic->value.GetString(), topic->value.GetStringLength()));
  if (!name) return fail("invalid_topic", "field 'topic': " + name.err().message);
  out.topic = std::move(name).value();
  const auto data = v.FindMember("data");
  if (data == v.MemberEnd() || !data->value.IsObject()) {
    return fail("invalid_request", "field 'data': a JSON object is required");
  }
  out.data = serialize(data->value);
  if (out.data.size() > limits.max_data_bytes) {
    return fail("too_large", "field 'data': " + std::to_string(out.data.size()) + " bytes, over the limit of " +
                                 std::to_string(limits.max_data_bytes));
  }
  if (const auto retain = v.FindMember("retain"); retain != v.MemberEnd()) {
    if (!retain->value.IsBool()) return fail("invalid_request", "field 'retain': true or false");
    out.retain = retain->value.GetBool();
  }
  return out;
}

}  // namespace

common::result<std::vector<topic_message_request>> parse_topic_publish_request(std::string_view body,
                                                                               const publish_limits& limits) {
  rapidjson::Document doc;
  if (auto err = common::parse_json(doc, body, false)) return std::move(*err);
  if (!doc.IsObject()) return common::error{"invalid_request", "the body must be a JSON object"};
  std::vector<topic_message_request> out;
  const auto messages = doc.FindMember("messages");
  if (messages == doc.MemberEnd()) {
    auto one = parse_topic_one(doc, 0, false, limits);
    if (!one) return std::move(one).err();
    out.push_back(std::move(one).value());
    return out;
  }
  if (doc.MemberCount() != 1) return common::error{"invalid_request", "a batch holds only the field 'messages'"};
  if (!messages->value.IsArray()) return common::error{"invalid_request", "field 'messages': an array is required"};
  const auto& list = messages->value;
  if (list.Empty()) return common::error{"empty_batch", "field 'messages': at least one message is required"};
  if (list.Size() > limits.max_events) {
    return common::error{"too_many_events", "at most " + std::to_string(limits.max_events) + " messages per request"};
  }
  out.reserve(list.Size());
  for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
    auto one = parse_topic_one(list[i], i, true, limits);
    if (!one) return std::move(one).err();
    out.push_back(std::move(one).value());
  }
  return out;
}

common::result<entitlements_request> parse_entitlements_request(std::string_view body) {
  rapidjson::Document doc;
  if (auto err = common::parse_json(doc, body, false)) return std::move(*err);
  if (!doc.IsObject()) return common::error{"invalid_request", "the body must be a JSON object"};
  for (auto m = doc.MemberBegin(); m != doc.MemberEnd(); ++m) {
    const std::string_view name(m->name.GetString(), m->name.GetStringLength());
    if (name != "user" && name != "plan" && name != "patterns" && name != "clear") {
      return common::error{"invalid_request",
                           "unknown field '" + std::string(name) + "' (known: user, plan, patterns, clear)"};
    }
  }
  const auto text = [&](const char* name) -> std::optional<std::string_view> {
    const auto it = doc.FindMember(name);
    if (it == doc.MemberEnd() || !it->value.IsString()) return std::nullopt;
    return std::string_view(it->value.GetString(), it->value.GetStringLength());
  };
  entitlements_request out;
  if (doc.HasMember("user")) {
    const auto user = text("user");
    if (!user || !common::is_valid_user_id(*user)) {
      return common::error{"invalid_request", "field 'user': not a user id"};
    }
    out.user = *user;
  }
  if (doc.HasMember("plan")) {
    const auto plan = text("plan");
    if (!plan || !common::is_valid_plan_name(*plan)) {
      return common::error{"invalid_request", "field 'plan': 1 to 64 of A-Z, a-z, 0-9, _ . : -"};
    }
    out.plan = *plan;
  }
  if (out.user.empty() && out.plan.empty()) return common::error{"invalid_request", "name a 'user' or a 'plan'"};
  if (const auto clear = doc.FindMember("clear"); clear != doc.MemberEnd()) {
    if (!clear->value.IsBool()) return common::error{"invalid_request", "field 'clear': true or false"};
    out.clear = clear->value.GetBool();
  }
  const auto patterns = doc.FindMember("patterns");
  if (out.clear) {
    if (patterns != doc.MemberEnd() || (!out.user.empty() && !out.plan.empty())) {
      return common::error{"invalid_request", "'clear' names only the user or the plan whose record goes"};
    }
    return out;
  }
  if (patterns != doc.MemberEnd()) {
    if (!patterns->value.IsArray() || patterns->value.Size() > 1000) {
      return common::error{"invalid_request", "field 'patterns': an array of at most 1000 patterns"};
    }
    for (const auto& p : patterns->value.GetArray()) {
      const auto ok =
          p.IsString() && common::is_valid_entitlement_pattern(std::string_view(p.GetString(), p.GetStringLength()));
      if (!ok) {
        return common::error{"invalid_request",
                             "field 'patterns': each is a name, a prefix ending in * (US:*, signals:*) or *"};
      }
      out.patterns.emplace_back(p.GetString(), p.GetStringLength());
    }
  } else if (out.user.empty()) {
    return common::error{"invalid_request", "field 'patterns': a plan's record needs its patterns"};
  }
  return out;
}

std::string encode_entitlement_record(const entitlements_request& r) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  if (!r.user.empty() && !r.plan.empty()) {
    w.Key("plan");
    w.String(r.plan.data(), static_cast<rapidjson::SizeType>(r.plan.size()));
  }
  w.Key("patterns");
  w.StartArray();
  for (const auto& p : r.patterns) w.String(p.data(), static_cast<rapidjson::SizeType>(p.size()));
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string encode_topic_message(const topic_message_request& m, std::int64_t now_us) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("type");
  w.String("topic_message");
  w.Key("topic");
  w.String(m.topic.data(), static_cast<rapidjson::SizeType>(m.topic.size()));
  w.Key("data");
  w.RawValue(m.data.data(), m.data.size(), rapidjson::kObjectType);
  w.Key("timestamp");
  const auto ts = common::format_iso8601(now_us);
  w.String(ts.data(), static_cast<rapidjson::SizeType>(ts.size()));
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

bool is_valid_app_type(std::string_view type) noexcept { return common::is_app_event_type(type); }

bool is_valid_idempotency_key(std::string_view key) noexcept {
  return !key.empty() && key.size() <= 128 && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == ':' || c == '-';
  });
}

common::result<std::vector<app_event_request>> parse_publish_request(std::string_view body,
                                                                     const publish_limits& limits) {
  rapidjson::Document doc;
  // Numbers stay JSON numbers (64-bit integers exactly): money belongs in strings, as in every
  // private event of the tier.
  if (auto err = common::parse_json(doc, body, false)) return std::move(*err);
  if (!doc.IsObject()) return common::error{"invalid_request", "the body must be a JSON object"};
  std::vector<app_event_request> out;
  const auto events = doc.FindMember("events");
  if (events == doc.MemberEnd()) {
    auto one = parse_one(doc, 0, false, limits);
    if (!one) return std::move(one).err();
    out.push_back(std::move(one).value());
    return out;
  }
  if (doc.MemberCount() != 1) return common::error{"invalid_request", "a batch holds only the field 'events'"};
  if (!events->value.IsArray()) return common::error{"invalid_request", "field 'events': an array is required"};
  const auto& list = events->value;
  if (list.Empty()) return common::error{"empty_batch", "field 'events': at least one event is required"};
  if (list.Size() > limits.max_events) {
    return common::error{"too_many_events", "at most " + std::to_string(limits.max_events) + " events per request"};
  }
  out.reserve(list.Size());
  for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
    auto one = parse_one(list[i], i, true, limits);
    if (!one) return std::move(one).err();
    out.push_back(std::move(one).value());
  }
  return out;
}

common::result<disconnect_request> parse_disconnect_request(std::string_view body) {
  rapidjson::Document doc;
  if (auto err = common::parse_json(doc, body, false)) return std::move(*err);
  if (!doc.IsObject()) return common::error{"invalid_request", "the body must be a JSON object"};
  for (auto m = doc.MemberBegin(); m != doc.MemberEnd(); ++m) {
    const std::string_view name(m->name.GetString(), m->name.GetStringLength());
    if (name != "user" && name != "session" && name != "reason" && name != "revoke_for_s") {
      return common::error{"invalid_request",
                           "unknown field '" + std::string(name) + "' (known: user, session, reason, revoke_for_s)"};
    }
  }
  const auto text = [&](const char* name) -> std::optional<std::string_view> {
    const auto it = doc.FindMember(name);
    if (it == doc.MemberEnd() || !it->value.IsString()) return std::nullopt;
    return std::string_view(it->value.GetString(), it->value.GetStringLength());
  };
  disconnect_request out;
  const auto user = text("user");
  if (!user || !common::is_valid_user_id(*user))
    return common::error{"invalid_request", "field 'user': a user id is required"};
  out.user = *user;
  if (doc.HasMember("session")) {
    const auto session = text("session");
    if (!session || !common::is_valid_session_id(*session)) {
      return common::error{"invalid_request", "field 'session': 1 to 128 printable characters, no spaces"};
    }
    out.session = *session;
  }
  if (doc.HasMember("reason")) {
    const auto reason = text("reason");
    if (!reason || reason->size() > 100)
      return common::error{"invalid_request", "field 'reason': a string of at most 100 bytes"};
    out.reason = *reason;
  }
  if (doc.HasMember("revoke_for_s")) {
    const auto& v = doc["revoke_for_s"];
    if (!v.IsInt64() || v.GetInt64() < 1 || v.GetInt64() > 31'536'000) {
      return common::error{"invalid_request", "field 'revoke_for_s': 1 to 31536000 seconds"};
    }
    if (out.session.empty()) return common::error{"invalid_request", "field 'revoke_for_s': only with 'session'"};
    out.revoke_for_s = v.GetInt64();
  }
  return out;
}

common::result<std::string> parse_presence_request(std::string_view body) {
  rapidjson::Document doc;
  if (auto err = common::parse_json(doc, body, false)) return std::move(*err);
  if (!doc.IsObject()) return common::error{"invalid_request", "the body must be a JSON object"};
  for (auto m = doc.MemberBegin(); m != doc.MemberEnd(); ++m) {
    const std::string_view name(m->name.GetString(), m->name.GetStringLength());
    if (name != "user")
      return common::error{"invalid_request", "unknown field '" + std::string(name) + "' (known: user)"};
  }
  const auto user = doc.FindMember("user");
  if (user == doc.MemberEnd() || !user->value.IsString() ||
      !common::is_valid_user_id(std::string_view(user->value.GetString(), user->value.GetStringLength()))) {
    return common::error{"invalid_request", "field 'user': a user id is required"};
  }
  return std::string(user->value.GetString(), user->value.GetStringLength());
}

std::string render_presence(std::string_view user, const std::vector<std::pair<std::string, std::int64_t>>& leases,
                            std::int64_t now_ms) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("user");
  w.String(user.data(), static_cast<rapidjson::SizeType>(user.size()));
  std::size_t live = 0;
  for (const auto& l : leases) live += l.second > now_ms ? 1 : 0;
  w.Key("count");
  w.Uint64(live);
  w.Key("connections");
  w.StartArray();
  for (const auto& [lease, expires] : leases) {
    if (expires <= now_ms) continue;
    const auto colon = lease.rfind(':');
    const auto edge = colon == std::string::npos ? std::string_view(lease) : std::string_view(lease).substr(0, colon);
    w.StartObject();
    w.Key("edge");
    w.String(edge.data(), static_cast<rapidjson::SizeType>(edge.size()));
    w.Key("expires_ms");
    w.Int64(expires);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

common::result<std::string> parse_broadcast_request(std::string_view body, const publish_limits& limits) {
  rapidjson::Document doc;
  if (auto err = common::parse_json(doc, body, false)) return std::move(*err);
  if (!doc.IsObject()) return common::error{"invalid_request", "the body must be a JSON object"};
  for (auto m = doc.MemberBegin(); m != doc.MemberEnd(); ++m) {
    const std::string_view name(m->name.GetString(), m->name.GetStringLength());
    if (name != "data")
      return common::error{"invalid_request", "unknown field '" + std::string(name) + "' (known: data)"};
  }
  const auto data = doc.FindMember("data");
  if (data == doc.MemberEnd() || !data->value.IsObject()) {
    return common::error{"invalid_request", "field 'data': a JSON object is required"};
  }
  auto out = serialize(data->value);
  if (out.size() > limits.max_data_bytes) {
    return common::error{"too_large", "field 'data': " + std::to_string(out.size()) + " bytes, over the limit of " +
                                          std::to_string(limits.max_data_bytes)};
  }
  return out;
}

app_event_json encode_app_event(const app_event_request& ev, std::int64_t now_us) {
  return encode_app_event(ev, now_us, common::format_iso8601(now_us));
}

app_event_json encode_app_event(const app_event_request& ev, std::int64_t now_us, std::string_view ts) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("type");
  w.String(ev.type.data(), static_cast<rapidjson::SizeType>(ev.type.size()));
  w.Key("userId");
  w.String(ev.user.data(), static_cast<rapidjson::SizeType>(ev.user.size()));
  w.Key("timestamp");
  w.String(ts.data(), static_cast<rapidjson::SizeType>(ts.size()));
  w.Key("data");
  w.RawValue(ev.data.data(), ev.data.size(), rapidjson::kObjectType);
  w.Key("recv_us");
  w.Int64(now_us);
  w.Key("source");
  w.String("api");
  w.EndObject();
  std::string json(buf.GetString(), buf.GetSize());
  const auto split = json.find(",\"timestamp\":");
  std::string after = json.substr(split);
  json.resize(split);
  return {std::move(json), std::move(after)};
}

}  // namespace tickstream::ingest
