#include "edge/portfolio/private_frame.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <optional>
#include <string>

#include "common/app_event_type.hpp"
#include "common/event_codec.hpp"
#include "common/json_reader.hpp"

namespace tickstream::edge {
namespace {

// How a private event travels: its frame kind and conflation key.
std::pair<frame_kind, std::string> kind_of(const common::event& ev, bool mark) {
  return std::visit(
      [mark](const auto& e) -> std::pair<frame_kind, std::string> {
        using alternative = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<alternative, common::order_update>) return {frame_kind::order, e.order_id};
        if constexpr (std::is_same_v<alternative, common::trade_executed>) return {frame_kind::trade, e.execution_id};
        if constexpr (std::is_same_v<alternative, common::position_update>) {
          return {mark ? frame_kind::position_mark : frame_kind::position, e.symbol};
        }
        if constexpr (std::is_same_v<alternative, common::account_update>) {
          return {mark ? frame_kind::account_mark : frame_kind::account, {}};
        }
        return {frame_kind::tick, {}};
      },
      ev);
}

const common::private_header* header_of(const common::event& ev) {
  return std::visit(
      [](const auto& e) -> const common::private_header* {
        if constexpr (std::is_same_v<std::decay_t<decltype(e)>, common::price_update>) {
          return nullptr;
        } else {
          return &e.header;
        }
      },
      ev);
}

std::shared_ptr<frame> build(const common::event& ev, std::string_view payload, bool mark) {
  const auto* h = header_of(ev);
  auto [kind, key] = kind_of(ev, mark);
  auto f = make_text_frame_mutable(kind, std::move(key), payload, user_route(h->user_id));
  f->seq = h->seq;
  f->source = h->source;
  f->time_us = h->time_us;
  f->recv_time_us = h->recv_time_us;
  return f;
}

// The conflation key of an app event of a type conflation names: its type, and after ':' its key
// field's value (a string, or a number as written); nullopt when data has no such value.
std::optional<std::string> conflation_key(std::string_view type, std::string_view field, const rapidjson::Value& data) {
  std::string key(type);
  if (field.empty()) return key;
  const auto v = data.FindMember(rapidjson::StringRef(field.data(), field.size()));
  if (v == data.MemberEnd()) return std::nullopt;
  // Numbers are parsed as their text (parse_json), so a number keys by its digits as written.
  if (!v->value.IsString()) return std::nullopt;
  key.push_back(':');
  key.append(v->value.GetString(), v->value.GetStringLength());
  return key;
}

// An application's event (stored by ingest's server API): the header fields every stored event
// has, a type of its own and a data object. Forwarded as it is: the edge reads no further, except
// the key field of a type it conflates.
common::result<frame_ptr> decode_app_frame(std::string_view payload, std::string_view user_id,
                                           const app_conflation* conflation) {
  rapidjson::Document doc;
  if (auto err = common::parse_json(doc, payload)) return std::move(*err);
  if (!doc.IsObject()) return common::error{"invalid_json", "an event must be a JSON object"};
  common::json_reader r(doc, "invalid_event");
  const auto type = r.string("type", true, 64);
  const auto user = r.string("userId", true, 128);
  const auto seq = r.integer("seq", false, 1, INT64_MAX);
  const auto time_us = r.timestamp("timestamp", true);
  const auto recv_us = r.integer("recv_us", true, 0, INT64_MAX);
  const auto source = r.string("source", true, 32);
  const auto data = doc.FindMember("data");
  if (r.ok() && (data == doc.MemberEnd() || !data->value.IsObject())) r.fail("data", "must be an object");
  if (!r.ok()) return *r.failure();
  const bool snake = std::all_of(type->begin(), type->end(),
                                 [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
  if (!snake) return common::error{"unknown_type", "unknown event type '" + std::string(*type) + "'"};
  if (common::is_tier_message_type(*type)) {
    return common::error{"reserved_type", "an app event may not be named '" + std::string(*type) + "'"};
  }
  if (*user != user_id) return common::error{"channel_mismatch", "event does not belong to this user's channel"};
  if (!seq) return common::error{"missing_seq", "a stored private event must carry its seq"};
  std::optional<std::string> key;
  if (conflation != nullptr) {
    if (const auto field = conflation->key_field(*type)) key = conflation_key(*type, *field, data->value);
  }
  auto f = key ? make_text_frame_mutable(frame_kind::app_latest, std::move(*key), payload, user_route(*user))
               : make_text_frame_mutable(frame_kind::app_event, std::string(*type), payload, user_route(*user));
  f->seq = *seq;
  f->source = std::string(*source);
  f->time_us = *time_us;
  f->recv_time_us = *recv_us;
  return frame_ptr(std::move(f));
}

}  // namespace

common::result<frame_ptr> decode_private_frame(std::string_view payload, std::string_view user_id,
                                               const app_conflation* conflation) {
  auto decoded = common::decode_event(payload);
  if (!decoded && decoded.err().code == "unknown_type") return decode_app_frame(payload, user_id, conflation);
  if (!decoded) return std::move(decoded).err();
  const auto* h = header_of(decoded.value());
  if (h == nullptr || h->user_id != user_id) {
    return common::error{"channel_mismatch", "event does not belong to this user's channel"};
  }
  if (h->seq <= 0) return common::error{"missing_seq", "a stored private event must carry its seq"};
  auto f = build(decoded.value(), payload, false);
  f->event = std::make_shared<const common::event>(std::move(decoded).value());
  return frame_ptr(std::move(f));
}

frame_ptr encode_private_frame(const common::event& ev, bool mark) { return build(ev, common::encode_event(ev), mark); }

}  // namespace tickstream::edge
