#pragma once
// Every Redis key and channel name of the tier, and the inverses the edge needs, in one place
// (docs/OPERATIONS.md, "Redis layout", lists what each holds). Everything starts with "ts:". A
// symbol's names share the hash tag {md:<symbol>} and a user's the tag {u:<id>}, so each group
// lives in one Redis Cluster slot and one Lua script can update (ingest) or read (edge) a user's
// keys atomically.

#include <optional>
#include <string>
#include <string_view>

namespace tickstream::common {

// --- market data (ingest writes, edges read) -------------------------------------------------

// "ts:{md:AAPL}": the pub/sub channel of one symbol's ticks.
inline std::string market_channel(std::string_view symbol) {
  std::string out;
  out.reserve(symbol.size() + 8);
  out += "ts:{md:";
  out += symbol;
  out += '}';
  return out;
}
// "ts:{md:AAPL}:last": the last tick of a symbol (5-minute TTL).
inline std::string market_last_key(std::string_view symbol) { return market_channel(symbol) + ":last"; }
// The symbol of a market channel name, or nullopt if the name is not one.
inline std::optional<std::string_view> symbol_of_market_channel(std::string_view channel) noexcept {
  constexpr std::string_view prefix = "ts:{md:";
  if (channel.size() <= prefix.size() + 1 || !channel.starts_with(prefix) || channel.back() != '}') return std::nullopt;
  return channel.substr(prefix.size(), channel.size() - prefix.size() - 1);
}

// --- public topics (the server API publishes, edges read) -----------------------------------

// "ts:{t:news}": the pub/sub channel of a public topic (common::validate_topic names).
inline std::string topic_channel(std::string_view topic) {
  std::string out;
  out.reserve(topic.size() + 7);
  out += "ts:{t:";
  out += topic;
  out += '}';
  return out;
}
// "ts:{t:news}:last": the topic's retained message, the exact JSON last published with "retain"
// (no TTL: replaced by the next retained message).
inline std::string topic_last_key(std::string_view topic) { return topic_channel(topic) + ":last"; }
// The topic of a topic channel name, or nullopt if the name is not one.
inline std::optional<std::string_view> topic_of_channel(std::string_view channel) noexcept {
  constexpr std::string_view prefix = "ts:{t:";
  if (channel.size() <= prefix.size() + 1 || !channel.starts_with(prefix) || channel.back() != '}') return std::nullopt;
  return channel.substr(prefix.size(), channel.size() - prefix.size() - 1);
}

// --- one user's private data ------------------------------------------------------------------

// "ts:{u:<id>}": the pub/sub channel of the user's private events.
inline std::string user_channel(std::string_view user_id) {
  std::string out;
  out.reserve(user_id.size() + 7);
  out += "ts:{u:";
  out += user_id;
  out += '}';
  return out;
}
// The user of a user channel name, or nullopt if the name is not one.
inline std::optional<std::string_view> user_of_channel(std::string_view channel) noexcept {
  constexpr std::string_view prefix = "ts:{u:";
  if (channel.size() <= prefix.size() + 1 || !channel.starts_with(prefix) || channel.back() != '}') return std::nullopt;
  return channel.substr(prefix.size(), channel.size() - prefix.size() - 1);
}

// The keys of a user, "ts:{u:<id>}:<suffix>".
enum class user_data {
  seq,     // "seq": counter, the user's last sequence number
  hist,    // "hist": stream of stored events, id "<seq>-1", capped
  pos,     // "pos": hash symbol -> position_update
  orders,  // "orders": hash order id -> order_update (open orders only)
  acct,    // "acct": string, the last account_update
  execs,   // "execs": sorted set of de-duplication ids (7 days)
  conns,   // "conns": sorted set lease id -> expiry, the connection leases
  filled,  // "filled": hash broker order id -> its filled quantity the last reconciliation counted
  ent,     // "ent": string, the user's entitlement record {"plan":..,"patterns":[..]} (server API)
};
inline std::string user_key(std::string_view user_id, user_data which) {
  static constexpr std::string_view suffixes[] = {":seq",   ":hist",  ":pos",    ":orders", ":acct",
                                                  ":execs", ":conns", ":filled", ":ent"};
  return user_channel(user_id) + std::string(suffixes[static_cast<int>(which)]);
}

// --- the system --------------------------------------------------------------------------------

// Source liveness: ingest publishes each live source's source_status here.
inline constexpr std::string_view source_status_channel = "ts:sys";
// "ts:sys:source:<name>": a source's last source_status (TTL three heartbeats).
inline std::string source_status_key(std::string_view source) { return "ts:sys:source:" + std::string(source); }
// "ts:edge:<node-id>": an edge's own control channel (readiness probes), always subscribed.
inline std::string edge_control_channel(std::string_view node_id) { return "ts:edge:" + std::string(node_id); }
// The control channel of a subscriber without a node id of its own (tools, tests).
inline constexpr std::string_view default_control_channel = "ts:ctl";
// "ts:sess:<id>": a web session (hash user, roles, expires), looked up for a session cookie.
inline std::string session_key(std::string_view session_id) { return "ts:sess:" + std::string(session_id); }
// The tier's control channel: every edge holds it for life; the server API publishes commands
// for all edges on it (tier_command.hpp: disconnect a user or one session).
inline constexpr std::string_view tier_control_channel = "ts:tier";
// "ts:revoked:<id>": a revoked session or token id (TTL: as long as the credential could live);
// edges refuse an upgrade that presents it.
inline std::string revoked_key(std::string_view id) { return "ts:revoked:" + std::string(id); }
// "ts:broker:<stream>:cursor[:<worker>]": the id of the last event of a replayable broker stream
// (the Broker API's trade events) that ingest stored with everything before it; a restart resumes
// after it. worker is the --shard ("0-of-2") when the stream's accounts are split over workers.
inline std::string broker_cursor_key(std::string_view stream, std::string_view worker = {}) {
  std::string out = "ts:broker:" + std::string(stream) + ":cursor";
  if (!worker.empty()) out += ":" + std::string(worker);
  return out;
}
// "ts:ent:plan:<plan>": an entitlement plan's record {"patterns":[..]} (server API), which user
// records name.
inline std::string plan_entitlements_key(std::string_view plan) { return "ts:ent:plan:" + std::string(plan); }
// Ingest's dead letters: a capped stream of input it could not use.
inline constexpr std::string_view dead_letter_stream = "ts:dead";

}  // namespace tickstream::common
