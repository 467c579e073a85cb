#pragma once
// What the protocol side of a connection (session_handler) may ask of its socket side
// (ws_session): the narrow seam between message logic and I/O.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "edge/auth/authenticator.hpp"
#include "edge/protocol/frame.hpp"

namespace tickstream::edge {

class session_output {
 public:
  // An event for the client, through batching and conflation.
  virtual void deliver(const frame_ptr& f) = 0;
  // The edge's own message. after_held: events held for batching go first (they were delivered
  // before this message was produced: a snapshot must follow them).
  virtual void reply(std::string_view json, bool after_held = false) = 0;
  // Starts the close handshake with code; keep_queued: what is queued (an error explaining the
  // close) is sent first. end_reason labels the disconnect metric.
  virtual void close(std::uint16_t code, std::string_view reason, const char* end_reason, bool keep_queued) = 0;
  // The credential's expiry moved (a refresh).
  virtual void credential_refreshed(std::optional<std::int64_t> expires_at_s) = 0;
  // In-band authentication verified who: take the user's connection slot (the tier-wide limit),
  // then tell the handler (session_handler::on_authenticated) or close over the limit (4009).
  virtual void authenticate_as(identity who) = 0;
  // A function that runs its argument later on the connection's thread, unless the connection is
  // gone by then. It may be called from any thread and may outlive the connection.
  virtual std::function<void(std::function<void()>)> poster() = 0;
  // Closing or closed: nothing more will be sent.
  virtual bool ending() const noexcept = 0;
  // Expires when the connection is destroyed (or is being destroyed): callbacks that may outlive
  // it hold this and lock it before touching anything.
  virtual std::weak_ptr<const void> lifetime() const = 0;
  // The batching window in force, which a client may widen.
  virtual std::chrono::milliseconds batch_window() const noexcept = 0;
  virtual void set_batch_window(std::chrono::milliseconds window) = 0;

 protected:
  ~session_output() = default;
};

}  // namespace tickstream::edge
