#pragma once
// What the fan-out needs from a worker: the things it posts to it from the Redis thread, and the
// same things by direct call when the Redis client runs on the worker's own event loop.
// A worker (worker) implements it; the fan-out holds one per worker id.

#include <cstdint>
#include <string>
#include <vector>

#include "edge/protocol/frame.hpp"

namespace tickstream::edge {

class fanout_target {
 public:
  // Frames (in order) for the sessions subscribed to their routes: one post per round of Redis I/O.
  virtual void post_deliver(std::vector<frame_ptr> frames) = 0;
  // Redis confirmed route, which this worker acquired as `generation` (a stale confirmation of an
  // earlier acquisition is ignored; a repeated one follows a reconnect).
  virtual void post_activate(std::string route, std::uint64_t generation) = 0;
  // Redis refused route's channel (an ACL) for the acquisition `generation`: the worker no longer
  // holds it, and the subscribes waiting for it are answered with the refusal.
  virtual void post_refuse(std::string route, std::uint64_t generation) = 0;
  // A source's heartbeat (ingest's source_status on ts:sys).
  virtual void post_source_status(std::string source, bool connected) = 0;

  // A disconnect from the tier's control channel, for every session on the worker.
  virtual void post_revoke(std::string user, std::string session, std::string reason) = 0;
  // A broadcast: the same frame for every session on the worker.
  virtual void post_broadcast(frame_ptr f) = 0;
  // The entitlement record of a user (plan empty) or of a plan (user empty) changed.
  virtual void post_entitlements(std::string user, std::string plan) = 0;

  // The same, carried out at once: on the worker's own thread only (fanout::handoff::direct).
  // A round's deliveries and broadcasts are followed by delivered().
  virtual void deliver(const frame_ptr& f) = 0;
  virtual void activate(const std::string& route, std::uint64_t generation) = 0;
  virtual void refuse(const std::string& route, std::uint64_t generation) = 0;
  virtual void source_status(const std::string& source, bool connected) = 0;
  virtual void revoke(const std::string& user, const std::string& session, const std::string& reason) = 0;
  virtual void broadcast(const frame_ptr& f) = 0;
  virtual void entitlements_changed(const std::string& user, const std::string& plan) = 0;
  // The round of Redis I/O is delivered: the sessions write what it queued for them.
  virtual void delivered() = 0;

 protected:
  ~fanout_target() = default;
};

}  // namespace tickstream::edge
