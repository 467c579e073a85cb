#pragma once
// What a subscribe or unsubscribe message means for one connection, decided without touching
// anything: which entries are valid, which are rejected and why, which symbols the worker must
// subscribe or release, which private channels are added or dropped. Pure (no worker, no
// sockets); the session carries the plan out.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "edge/auth/entitlements.hpp"
#include "edge/protocol/client_protocol.hpp"

namespace tickstream::edge {

inline constexpr std::size_t no_limit = std::numeric_limits<std::size_t>::max();

// What the connection holds when the message arrives.
struct subscription_holdings {
  bool anonymous = false;
  std::uint8_t channel_bits = 0;  // private channels held
  // Every key the connection holds on its worker: symbols (the client's, and those followed only
  // for P&L) and, with private channels, the user's route.
  std::vector<std::string> keys;
  std::vector<std::string> follow_only;   // symbols held only for P&L (the client did not ask)
  std::vector<std::string> followed;      // symbols whose ticks the private stream needs for P&L
  std::size_t max_subscriptions = 1000;   // for this connection (the anonymous limit if anonymous)
  std::size_t address_room = no_limit;    // new symbols its address may still take (across the edge)
  std::size_t channel_room = no_limit;    // new Redis channels the edge may still take
  std::vector<std::string> worker_holds;  // of the requested symbols and topic routes, those the worker holds already
  std::chrono::milliseconds server_window{250};  // the edge's batching window
  const entitlements* entitled = nullptr;        // the symbols and topics it may take (null: all)
};

struct subscribe_plan {
  std::uint8_t channel_bits = 0;        // the private channels named (held or not yet)
  std::vector<std::string> channels;    // their names, once each, in the client's order
  std::vector<std::string> symbols;     // accepted, normalized, once each (all to subscribe)
  std::vector<std::string> taken_over;  // of those, ones followed for P&L until now
  std::vector<std::string> topics;      // accepted topics, once each (all to subscribe: see topic_route)
  std::size_t new_symbols = 0;          // symbols the connection did not hold before
  std::size_t new_channels = 0;         // of those, ones its worker did not hold either
  std::vector<rejection> rejected;
  std::optional<std::chrono::milliseconds> window;  // the connection's new batching window
};

struct unsubscribe_plan {
  std::vector<std::string> symbols;     // released from the client (answered as unsubscribed)
  std::vector<std::string> to_release;  // of those, to unsubscribe on the worker
  std::vector<std::string> to_follow;   // of those, kept on the worker for P&L only
  std::vector<std::string> channels;    // private channels held and now dropped
  std::uint8_t channel_bits = 0;        // their bits
  std::vector<std::string> topics;      // topics held and now released
};

// user_route: the connection's private route (counted among its subscriptions once held).
subscribe_plan plan_subscribe(subscription_request& req, const subscription_holdings& held,
                              const std::string& user_route);
unsubscribe_plan plan_unsubscribe(subscription_request& req, const subscription_holdings& held);

}  // namespace tickstream::edge
