#pragma once
// The server API's requests, validated whole before anything is stored (docs/openapi.yaml). Pure:
// no sockets, no clock, no Redis; the HTTP shell (webhook_server) and the executor (server_api)
// sit around it.
//
// POST /v1/publish takes one event object or {"events":[...]} (the batch form). An event is
//   {"user":"u-42","type":"decision_made","data":{...},"idempotency_key":"k-1"}  (a user's stream)
// and is refused, with the whole request, when any field is unknown or invalid.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace tickstream::ingest {

struct publish_limits {
  // Bytes of one event's data object as re-serialized: an app event is a notification, not a
  // document store; 64 KiB keeps one user's history (1,000 events) within ~64 MiB at worst.
  std::size_t max_data_bytes = 64 * 1024;
  // Events per request: a batch is answered once Redis has stored all of it, so this bounds the
  // work one request can queue.
  std::size_t max_events = 1000;
};

// One event to store in a user's private stream.
struct app_event_request {
  std::string user;             // valid user id (common::is_valid_user_id)
  std::string type;             // matches is_valid_app_type
  std::string data;             // the JSON object, re-serialized compactly
  std::string idempotency_key;  // "" when none; else 1..128 of [A-Za-z0-9_.:-]
};

// True for an application event type: 1..64 of [a-z0-9_], starting with a letter, and not a name
// the tier itself uses for a frame (price_update, snapshot, batch, error, ...).
bool is_valid_app_type(std::string_view type) noexcept;
// True for an idempotency key: 1..128 of [A-Za-z0-9_.:-].
bool is_valid_idempotency_key(std::string_view key) noexcept;

// Parses and validates a POST /v1/publish body. Errors (code, then which event and field in the
// message): "invalid_json", "invalid_request" (not an object, unknown or missing field, bad user,
// data not an object), "invalid_type", "invalid_idempotency_key", "too_large" (a data object over
// the limit), "too_many_events", "empty_batch".
common::result<std::vector<app_event_request>> parse_publish_request(std::string_view body,
                                                                     const publish_limits& limits = {});

// POST /v1/disconnect: {"user":"u-42"} closes every connection of the user on every edge;
// {"user":"u-42","session":"s-1"} only those of that session (cookie) or token ("sid"/"jti"), and
// revokes it: its session record is deleted and an upgrade presenting it is refused for
// revoke_for_s seconds (default a day). "reason" (at most 100 bytes) goes into the close frame.
struct disconnect_request {
  std::string user;
  std::string session;
  std::string reason;
  std::int64_t revoke_for_s = 86'400;
};
// Errors: "invalid_json", "invalid_request" (naming the field).
common::result<disconnect_request> parse_disconnect_request(std::string_view body);

// POST /v1/presence: {"user":"u-42"}. Returns the user id. Errors: "invalid_json", "invalid_request".
common::result<std::string> parse_presence_request(std::string_view body);

// The answer to a presence request from the user's connection leases (member "<node-id>:<n>",
// score: expiry in ms) as of now_ms (Redis's clock); expired leases are left out:
// {"user":"u-42","count":2,"connections":[{"edge":"edge-a","expires_ms":...},...]}.
std::string render_presence(std::string_view user, const std::vector<std::pair<std::string, std::int64_t>>& leases,
                            std::int64_t now_ms);

// POST /v1/broadcast: {"data":{...}} for every connection on every edge (a maintenance notice).
// Returns data re-serialized. Errors: "invalid_json", "invalid_request", "too_large".
common::result<std::string> parse_broadcast_request(std::string_view body, const publish_limits& limits = {});

// POST /v1/topics/publish: one message {"topic":"news","data":{...},"retain":true} or up to
// max_events of them in {"messages":[...]}, for every connection subscribed to the topic. With
// "retain" the message is also kept as the topic's retained one, delivered on subscribe.
struct topic_message_request {
  std::string topic;  // common::validate_topic
  std::string data;   // the JSON object, re-serialized compactly
  bool retain = false;
};
// Errors: "invalid_json", "invalid_request" (unknown or missing field, data not an object),
// "invalid_topic", "too_large", "too_many_events", "empty_batch"; the message names the message
// (`message 3: ...`) and the field.
common::result<std::vector<topic_message_request>> parse_topic_publish_request(std::string_view body,
                                                                               const publish_limits& limits = {});
// {"type":"topic_message","topic":..,"data":{..},"timestamp":..}: published as it is, and stored
// as it is when retained.
std::string encode_topic_message(const topic_message_request& m, std::int64_t now_us);

// POST /v1/entitlements: which symbols and topics a user (or every user on a plan) may subscribe
// to, kept in Redis and applied by the edges to open connections at once:
//   {"user":"u-42","plan":"basic","patterns":["news"]}  the user's record (plan and patterns optional)
//   {"plan":"basic","patterns":["US:*","news"]}          a plan's record
//   {"user":"u-42","clear":true} / {"plan":"basic","clear":true}  deletes the record
struct entitlements_request {
  std::string user;  // the user's record ("" for a plan's)
  std::string plan;  // with user: the plan the user is on ("" none); without: the plan whose record this is
  std::vector<std::string> patterns;  // common::is_valid_entitlement_pattern, at most 1000
  bool clear = false;
};
// Errors: "invalid_json", "invalid_request" (naming the field).
common::result<entitlements_request> parse_entitlements_request(std::string_view body);
// The record as stored: {"plan":"basic","patterns":[...]} for a user (no "plan" when none),
// {"patterns":[...]} for a plan.
std::string encode_entitlement_record(const entitlements_request& r);

// The stored JSON of an app event, split where the script inserts the seq: before is
// {"type":..,"userId":.. and after is ,"timestamp":..,"data":{..},"recv_us":..,"source":"api"}.
struct app_event_json {
  std::string before;
  std::string after;
};
app_event_json encode_app_event(const app_event_request& ev, std::int64_t now_us);
// The same with now_us already formatted (common::format_iso8601): a batch formats it once.
app_event_json encode_app_event(const app_event_request& ev, std::int64_t now_us, std::string_view timestamp);

}  // namespace tickstream::ingest
