#pragma once
// JSON encoding and validating decoding of normalized events.

#include <string>
#include <string_view>

#include "common/event.hpp"
#include "common/result.hpp"

namespace tickstream::common {

// Parses and validates one event. Error codes: "invalid_json" (not JSON, or not an object),
// "unknown_type" (a "type" we do not know), "invalid_event" (a field is missing or wrong; the
// message names the field and why).
result<event> decode_event(std::string_view json);

// The canonical JSON text of an event (compact, fields in schema order). Private events are
// {"type","userId","seq","timestamp","data":{...},"recv_us","source"}, decimals as strings.
std::string encode_event(const price_update& tick);
std::string encode_event(const order_update& ev);
std::string encode_event(const trade_executed& ev);
std::string encode_event(const position_update& ev);
std::string encode_event(const account_update& ev);
std::string encode_event(const event& ev);

// Source liveness on ts:sys: {"type":"source_status","source","connected","silent",
// "last_message_us","age_ms" (null when no message yet),"ts_us"}. Decoding needs "source" (1-64
// characters) and a boolean "connected"; the other fields may be absent ("silent": false) but
// must have their type when present.
// Errors: "invalid_json", "invalid_event" (the message names the field).
std::string encode_source_status(const source_status& status);
result<source_status> decode_source_status(std::string_view json);

// The wire "type" of an event ("price_update", "order_update", ...).
const char* event_type_name(const event& ev) noexcept;
// When ingest received the event (recv_us).
std::int64_t recv_time_of(const event& ev) noexcept;

// A user id: 1..64 characters from A-Z a-z 0-9 _ . : - (it becomes part of Redis names).
bool is_valid_user_id(std::string_view id) noexcept;

}  // namespace tickstream::common
