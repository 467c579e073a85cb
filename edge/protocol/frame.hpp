#pragma once
// One outbound WebSocket frame, built once (header and payload, ready for the socket) and shared
// by every session that sends it.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "common/event.hpp"
#include "edge/protocol/ws_codec.hpp"

namespace tickstream::edge {

// What a frame carries, which decides how it may be conflated (docs/PROTOCOL.md, "Batching";
// DESIGN.md, "One event schema").
enum class frame_kind : std::uint8_t {
  control,        // the edge's own replies and WebSocket control frames: never conflated
  tick,           // price_update: only the latest per symbol matters (key: symbol)
  position,       // position_update as stored by ingest (carries seq): never conflated, never dropped
  account,        // account_update as stored by ingest (carries seq): never conflated, never dropped
  order,          // order_update: every status transition matters, never conflated
  trade,          // trade_executed: never conflated, never dropped
  position_mark,  // a position re-marked by the edge at a new price (no seq; key: symbol)
  account_mark,   // the account re-marked by the edge at new prices (no seq; key: empty)
  app_event,      // an application's own event in the user's stream (carries seq; key: its type): never conflated
  topic,          // a message on a public topic (key: the topic): never conflated
  // An application's event of a type the edge is configured to conflate (--conflate; carries seq;
  // key: its type, ':' and its key field's value): the latest per key replaces an older one held
  // back, and the older one's seq is told to the client in a "conflated" marker instead.
  app_latest,
};

// True for kinds where a newer frame of the same kind and key makes an older one worthless.
// Stored events conflate only when configured (app_latest), and then the client is told which
// seqs were superseded, so that it can account for every seq.
constexpr bool conflates(frame_kind k) noexcept {
  return k == frame_kind::tick || k == frame_kind::position_mark || k == frame_kind::account_mark ||
         k == frame_kind::app_latest;
}

// True for a user's stored events, which carry the user's seq.
constexpr bool is_private(frame_kind k) noexcept {
  return k == frame_kind::position || k == frame_kind::account || k == frame_kind::order || k == frame_kind::trade ||
         k == frame_kind::app_event || k == frame_kind::app_latest;
}

// Worker index keys ("routes"): a symbol for its ticks, user_route(id) for a user's private
// events, or topic_route(name) for a public topic. '{' never appears in a symbol, so they cannot
// collide.
inline std::string user_route(std::string_view user_id) { return "{u}" + std::string(user_id); }
inline bool is_user_route(std::string_view route) noexcept { return route.starts_with("{u}"); }
// A public topic's route: "{t}" + the topic (a topic never contains '{' either).
inline std::string topic_route(std::string_view topic) { return "{t}" + std::string(topic); }
inline bool is_topic_route(std::string_view route) noexcept { return route.starts_with("{t}"); }

// How a connection takes permessage-deflate, as its upgrade agreed.
enum class deflate_mode : std::uint8_t {
  off,     // nothing compressed
  alone,   // every message compressed on its own (the client asked for server_no_context_takeover)
  shared,  // also the broadcast channels' shared streams (broadcast_deflater), when in step
};

// Where a connection is in the broadcast streams: the next message of `stream` it can take in
// step (stream 0: none). Kept per connection by frame::wire_for.
struct deflate_cursor {
  std::uint64_t stream = 0;
  std::uint32_t next = 0;
};

struct frame {
  frame_kind kind = frame_kind::control;
  std::string key;    // conflation key: the symbol for ticks and positions; empty for control frames
  std::string route;  // which subscribers get it (see user_route); empty for control frames
  std::string wire;   // the complete WebSocket frame: header, then payload
  std::uint8_t header_size = 0;
  // What the fan-out learnt decoding the event, so sessions need not parse it again.
  std::int64_t seq = 0;           // private events: the user's sequence number
  std::string source;             // ticks and private events: the source that produced it
  std::string price;              // ticks: the last trade price (for live P&L)
  std::int64_t time_us = 0;       // ticks and private events: source time
  std::int64_t recv_time_us = 0;  // ticks and private events: when ingest received it
  // Private events: the event itself, decoded once by the fan-out and shared by every session of
  // the user (the P&L needs its fields; nobody parses the payload again). Null for app events,
  // which the edge forwards as they are.
  std::shared_ptr<const common::event> event;

  std::string_view payload() const noexcept { return std::string_view(wire).substr(header_size); }

  // The bytes to write: wire, or with permessage-deflate the message compressed (RSV1 set) when
  // its payload is at least threshold bytes. The compressed form is made once, by whichever
  // thread sends the frame first, and shared like wire: a tick is compressed once, whatever the
  // number of clients and workers.
  const std::string& wire_for(bool deflate, std::size_t threshold) const;
  // The same for a connection in `mode`: a message of a broadcast stream goes as the stream's
  // bytes when the connection is in step with the stream (cursor), else as wire_for above; the
  // cursor follows what was sent.
  const std::string& wire_for(deflate_mode mode, std::size_t threshold, deflate_cursor& cursor) const;

  // Set once, before the frame is shared (broadcast_deflater): the frame compressed as message
  // `index` of `stream`, a complete WebSocket frame with RSV1 set.
  void set_stream(std::string deflated, std::uint64_t stream, std::uint32_t index);
  bool in_stream() const noexcept { return stream_ != 0; }

 private:
  std::string stream_deflated_;
  std::uint64_t stream_ = 0;
  std::uint32_t stream_index_ = 0;
  mutable std::once_flag deflate_once_;
  mutable std::string deflated_;  // empty: not compressed (too small, or a control frame)
};

// Immutable once built: sessions on any worker thread may hold and send it concurrently.
using frame_ptr = std::shared_ptr<const frame>;

// A text frame (FIN set) carrying payload. route defaults to key (ticks: the symbol).
frame_ptr make_text_frame(frame_kind kind, std::string key, std::string_view payload, std::string route = {});
// The same, still mutable, for a builder that fills in the metadata above.
std::shared_ptr<frame> make_text_frame_mutable(frame_kind kind, std::string key, std::string_view payload,
                                               std::string route = {});
// A control frame (ping, pong, close).
frame_ptr make_control_frame(ws_opcode op, std::string_view payload);

}  // namespace tickstream::edge
