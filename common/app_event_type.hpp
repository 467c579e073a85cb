#pragma once
// The names an application's own event may have (the server API's POST /v1/publish, and the edge
// that forwards them): snake_case, and never one of the tier's own message types, so that a client
// cannot mistake an app event for a tier message. One list for ingest and the edge.

#include <algorithm>
#include <array>
#include <string_view>

namespace tickstream::common {

// Every message type the tier itself sends or takes.
inline constexpr std::array<std::string_view, 28> tier_message_types = {
    "price_update",  "order_update", "trade_executed", "position_update", "account_update",
    "source_status", "subscribe",    "unsubscribe",    "refresh",         "ping",
    "auth",          "subscribed",   "unsubscribed",   "snapshot",        "resync",
    "batch",         "pong",         "error",          "token_expiring",  "refreshed",
    "stale",         "fresh",        "reconnect",      "authenticated",   "topic_message",
    "broadcast",     "disconnect",   "conflated"};

inline bool is_tier_message_type(std::string_view type) noexcept {
  return std::find(tier_message_types.begin(), tier_message_types.end(), type) != tier_message_types.end();
}

// snake_case: a lower-case letter, then lower-case letters, digits and '_', 1 to 64 in all.
inline bool is_snake_case_name(std::string_view t) noexcept {
  if (t.empty() || t.size() > 64 || t[0] < 'a' || t[0] > 'z') return false;
  return std::all_of(t.begin(), t.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

// A name an app event may have: snake_case and not a tier message type.
inline bool is_app_event_type(std::string_view t) noexcept { return is_snake_case_name(t) && !is_tier_message_type(t); }

}  // namespace tickstream::common
