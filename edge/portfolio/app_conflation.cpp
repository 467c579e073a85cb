#include "edge/portfolio/app_conflation.hpp"

#include <algorithm>
#include <array>

namespace tickstream::edge {
namespace {

// The tier's own message types: never an application's (ingest's server API refuses them).
constexpr std::array<std::string_view, 28> tier_types = {
    "price_update",  "order_update", "trade_executed", "position_update", "account_update",
    "source_status", "subscribe",    "unsubscribe",    "refresh",         "ping",
    "auth",          "subscribed",   "unsubscribed",   "snapshot",        "resync",
    "batch",         "pong",         "error",          "token_expiring",  "refreshed",
    "stale",         "fresh",        "reconnect",      "authenticated",   "topic_message",
    "broadcast",     "disconnect",   "conflated"};

// An app event type as the server API takes it: snake_case, starting with a letter, 1 to 64.
bool is_app_type(std::string_view t) {
  if (t.empty() || t.size() > 64 || t[0] < 'a' || t[0] > 'z') return false;
  return std::all_of(t.begin(), t.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

bool is_field_name(std::string_view f) {
  return !f.empty() && f.size() <= 64 && std::all_of(f.begin(), f.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

}  // namespace

bool is_tier_message_type(std::string_view type) noexcept {
  return std::find(tier_types.begin(), tier_types.end(), type) != tier_types.end();
}

common::result<app_conflation> app_conflation::parse(std::string_view rules) {
  app_conflation out;
  std::size_t start = 0;
  while (start <= rules.size()) {
    auto end = rules.find(',', start);
    if (end == std::string_view::npos) end = rules.size();
    const auto rule = rules.substr(start, end - start);
    start = end + 1;
    if (rule.empty()) continue;
    const auto eq = rule.find('=');
    const auto type = rule.substr(0, eq);
    const auto field = eq == std::string_view::npos ? std::string_view{} : rule.substr(eq + 1);
    const auto why = [&](const std::string& what) {
      return common::error{"conflate", "'" + std::string(rule) + "': " + what};
    };
    if (!is_app_type(type)) return why("the type must be snake_case (a-z, 0-9, _), starting with a letter");
    if (is_tier_message_type(type)) {
      return why("'" + std::string(type) + "' is the tier's own message, not an app event type");
    }
    if (eq != std::string_view::npos && !is_field_name(field)) {
      return why("the key field must be a field name of the event's data (letters, digits, _ and -)");
    }
    if (out.key_field(type)) return why("'" + std::string(type) + "' is given twice");
    out.rules_.emplace_back(type, field);
  }
  return out;
}

std::optional<std::string_view> app_conflation::key_field(std::string_view type) const {
  for (const auto& [t, f] : rules_) {
    if (t == type) return std::string_view(f);
  }
  return std::nullopt;
}

}  // namespace tickstream::edge
