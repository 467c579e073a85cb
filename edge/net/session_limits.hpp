#pragma once
// Per-connection limits and timings: each default is written here once, with its reason, and
// bound to its flag in edge/config.cpp.

#include <chrono>
#include <cstddef>

#include "edge/fanout/outbound_queue.hpp"

namespace tickstream::edge {

struct session_limits {
  // Largest client message. Client messages are small control messages; 64 KiB leaves room for a
  // subscribe with a thousand symbols. Larger frames close the connection with 1009.
  std::size_t max_message_bytes = 64 * 1024;
  // Symbols one connection may hold; a trading screen watches tens to hundreds.
  std::size_t max_subscriptions = 1000;
  // An anonymous connection (public data on an open edge) holds far fewer: a watchlist, not a
  // way to make the edge hold every symbol there is.
  std::size_t max_anonymous_subscriptions = 100;
  // Symbols held by all connections from one address together (0: no limit): many connections
  // from one address must not add up to an unbounded number of channels.
  std::size_t max_subscriptions_per_address = 5000;
  // Outbound queue (outbound_queue.hpp). Soft bound, 256 frames / 256 KiB: past it, ticks are
  // conflated (latest per symbol) instead of queued, so a client that falls behind gets fresh
  // prices, not old ones. Hard bound, 4,096 frames / 4 MiB queued plus held: past it the
  // connection is closed with 4008 so the client reconnects and resynchronizes instead of growing
  // our memory.
  queue_bounds queue{};
  // Batching window (0 = off): an event for a connection idle for a window goes out at once;
  // later ones within the window are coalesced into one frame. 250 ms keeps a screen live while
  // cutting frames ~20x for busy symbols. Clients may ask for more, never less.
  std::chrono::milliseconds batch_window{250};
  // Client messages per second per connection (token bucket, bursts up to twice this). A client
  // sends a handful of subscribes and pings; more is a bug or abuse. Over the rate a message is
  // dropped with a rate_limited error (at most one error a second); a client that keeps it up for
  // many messages is closed with 1008.
  std::size_t max_messages_per_second = 20;
  std::size_t max_rate_violations = 200;
  // WebSocket handshake (and HTTP request) must complete within this: a client that opens a
  // socket and sends nothing must not hold it.
  std::chrono::seconds handshake_timeout{10};
  // Ping after 15 s of silence, close after 30 s without traffic or pong: the seed systems'
  // heartbeat, and short enough for a load balancer's idle timeout (usually 60 s).
  std::chrono::milliseconds idle_timeout{30'000};
  // A client whose token (or session) expires in less than this is told so (token_expiring), so it
  // can send a fresh token with "refresh" before the edge closes at expiry with 4001.
  std::chrono::seconds token_expiry_warning{60};
  // A connection opened without credentials must send its in-band "auth" within this, or it is
  // closed with 4003: enough for a browser to fetch a token, too short to idle on a slot.
  std::chrono::milliseconds auth_timeout{5000};
  // A close handshake the client does not finish within this ends with a plain TCP close.
  std::chrono::seconds close_timeout{5};
};

}  // namespace tickstream::edge
