#include "common/tier_command.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

#include "common/event_codec.hpp"
#include "common/json_reader.hpp"

namespace tickstream::common {

bool is_valid_session_id(std::string_view id) noexcept {
  return !id.empty() && id.size() <= 128 &&
         std::all_of(id.begin(), id.end(), [](char c) { return c > ' ' && c < 127; });
}

bool is_valid_plan_name(std::string_view plan) noexcept {
  return !plan.empty() && plan.size() <= 64 && std::all_of(plan.begin(), plan.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == ':' || c == '-';
  });
}

std::string encode_tier_command(const tier_command& c) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  const auto field = [&](const char* k, const std::string& v) {
    w.Key(k);
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  };
  w.StartObject();
  field("op", c.op);
  if (c.op == "broadcast") {
    w.Key("data");
    w.RawValue(c.data.data(), c.data.size(), rapidjson::kObjectType);
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
  }
  if (c.op == "entitlements") {
    if (c.plan.empty()) {
      field("user", c.user);
    } else {
      field("plan", c.plan);
    }
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
  }
  field("user", c.user);
  if (!c.session.empty()) field("session", c.session);
  if (!c.reason.empty()) field("reason", c.reason);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

result<tier_command> decode_tier_command(std::string_view json) {
  rapidjson::Document doc;
  // Numbers as JSON numbers, so that a broadcast's data is written back as it came.
  if (auto err = parse_json(doc, json, false)) return std::move(*err);
  if (!doc.IsObject()) return error{"bad_tier_command", "a tier command is a JSON object"};
  json_reader r(doc, "bad_tier_command");
  const auto op = r.string("op", true, 32);
  if (op && *op == "broadcast") {
    const auto data = doc.FindMember("data");
    if (data == doc.MemberEnd() || !data->value.IsObject())
      return error{"bad_tier_command", "field 'data': an object is required"};
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    data->value.Accept(w);
    tier_command c;
    c.op = "broadcast";
    c.data.assign(buf.GetString(), buf.GetSize());
    return c;
  }
  if (op && *op == "entitlements") {
    const auto user = r.string("user", false, 128);
    const auto plan = r.string("plan", false, 64);
    if (!r.ok()) return *r.failure();
    tier_command c;
    c.op = "entitlements";
    if (plan && !user && is_valid_plan_name(*plan)) {
      c.plan = *plan;
    } else if (user && !plan && is_valid_user_id(*user)) {
      c.user = *user;
    } else {
      return error{"bad_tier_command", "an entitlements command names one valid user or one valid plan"};
    }
    return c;
  }
  const auto user = r.string("user", true, 128);
  const auto session = r.string("session", false, 128);
  const auto reason = r.string("reason", false, 100);
  if (!r.ok()) return *r.failure();
  if (*op != "disconnect") return error{"bad_tier_command", "unknown op '" + std::string(*op) + "'"};
  if (!is_valid_user_id(*user)) return error{"bad_tier_command", "field 'user': not a user id"};
  if (session && !is_valid_session_id(*session)) return error{"bad_tier_command", "field 'session': not a session id"};
  return tier_command{std::string(*op),
                      std::string(*user),
                      session ? std::string(*session) : std::string(),
                      reason ? std::string(*reason) : std::string(),
                      {},
                      {}};
}

}  // namespace tickstream::common
