#pragma once
// The client side of the WebSocket protocol (docs/PROTOCOL.md): parsing what clients send and
// rendering the edge's own replies. Pure functions, no sockets.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.hpp"

namespace tickstream::edge {

// {"type":"subscribe"|"unsubscribe","symbols":[...],"channels":[...],"topics":[...]}
struct subscription_request {
  bool subscribe = true;
  std::vector<std::string> symbols;      // as sent; each is validated by the caller
  std::vector<std::string> channels;     // the user's private channels
  std::vector<std::string> topics;       // public topics, as sent (validated by the caller)
  std::optional<std::int64_t> batch_ms;  // batching window the client asks for (0..60000)
  // Resume: the last seq the client has applied; the missed private events are replayed.
  std::optional<std::int64_t> since;
  bool snapshot = true;  // "snapshot": false skips the snapshot frame after "subscribed"
};

// {"type":"ping","id":...}: id (string or number) is echoed in the pong.
struct ping_request {
  std::optional<std::string> id_json;  // the id's JSON text
};

// {"type":"refresh","token":"<JWT>"}: a fresh token before the current one expires.
struct refresh_request {
  std::string token;
};

// {"type":"auth","token":"<JWT>"}: in-band authentication, the first message of a connection
// opened without credentials (browsers cannot set headers on a WebSocket).
struct auth_message {
  std::string token;
};

using client_message = std::variant<subscription_request, ping_request, refresh_request, auth_message>;

// Longest symbols/channels list accepted in one message.
inline constexpr std::size_t max_list_entries = 1000;

// Error codes: "invalid_json", "invalid_message" (the message names the field and why),
// "unknown_type".
common::result<client_message> parse_client_message(std::string_view text);

struct rejection {
  std::string name;    // the symbol or channel as the client sent it
  std::string code;    // e.g. "invalid_symbol"
  std::string reason;  // human-readable
};

// batch_ms: the connection's batching window now in force (0 = off). topics: written as "topics"
// when given (a request that named topics), left out otherwise.
std::string render_subscribed(const std::vector<std::string>& symbols, const std::vector<std::string>& channels,
                              const std::vector<rejection>& rejected, std::int64_t batch_ms,
                              const std::vector<std::string>* topics = nullptr);
// reason: "" for the answer to an unsubscribe; "not_entitled" when the edge itself drops
// subscriptions the connection is no longer entitled to.
std::string render_unsubscribed(const std::vector<std::string>& symbols, const std::vector<std::string>& channels,
                                const std::vector<std::string>* topics = nullptr, std::string_view reason = {});
// node: the edge answering (browsers cannot read the upgrade's X-Tickstream-Node header).
std::string render_pong(const std::optional<std::string>& id_json, std::int64_t server_time_us, std::string_view node);
// {"type":"authenticated","user_id":...,"expires_at_s":N|null,"node":...}
std::string render_authenticated(std::string_view user_id, std::optional<std::int64_t> expires_at_s,
                                 std::string_view node);
std::string render_error(std::string_view code, std::string_view message);
// {"type":"token_expiring","expires_at":"<ISO>","expires_at_s":N}
std::string render_token_expiring(std::int64_t expires_at_s);
// {"type":"refreshed","expires_at":"<ISO>","expires_at_s":N}
std::string render_refreshed(std::int64_t expires_at_s);

// The state a client starts from (docs/PROTOCOL.md, "snapshot"). Each section is written only when
// set; the lists hold complete event messages (JSON), each as it would be sent alone.
struct snapshot_parts {
  std::string_view type = "snapshot";  // or "resync"
  std::string_view reason;             // resync: history_truncated, sequence_reset
  std::optional<std::int64_t> seq;
  const std::vector<std::string>* positions = nullptr;
  const std::vector<std::string>* orders = nullptr;
  bool with_account = false;
  const std::string* account = nullptr;  // null with with_account: "account":null
  const std::vector<std::string>* prices = nullptr;
};
std::string render_snapshot(const snapshot_parts& parts);
// {"type":"stale","source":...,"since":"<ISO>","since_us":N} / {"type":"fresh","source":...}
std::string render_stale(std::string_view source, std::int64_t since_us);
std::string render_fresh(std::string_view source);
// {"type":"reconnect","reason":"draining","delay_ms":N}: this edge is going away and closes the
// connection (1001) in N ms; reconnect through the load balancer then (or at once).
std::string render_reconnect(std::int64_t delay_ms);

}  // namespace tickstream::edge
