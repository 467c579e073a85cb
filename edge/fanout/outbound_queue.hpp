#pragma once
// One connection's outbound frames between the fan-out and the socket: the batching window, the
// conflation of what is held back, and the queue bounds. Pure: no sockets, no clock (time is an
// argument), so its policy is tested directly (uWebSockets' send status is the model).
//
// Rules (docs/PROTOCOL.md, "Batching" and "Falling behind"):
// - an event for a connection that has sent nothing for a window is queued at once; later ones
//   are held (conflated: the latest per key for ticks and marks) and leave as one frame when the
//   window ends; with a window of 0 every event is queued at once;
// - a stored broker event (position, account, order, trade) ends the window: it is queued at once
//   with what is held before it, as one frame, and a new window begins;
// - past the soft bound (frames or bytes queued) events are held the same way until the queue
//   drains, so a client that reads slowly gets fresh prices, not a backlog;
// - past the hard bound (queued plus held) the connection must be closed (4008): push() says so.
//
// Threading: owned by one session, used on its worker thread only.

#include <chrono>
#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include "edge/fanout/conflation_buffer.hpp"
#include "edge/protocol/frame.hpp"

namespace tickstream::edge {

struct queue_bounds {
  std::size_t soft_frames = 256;  // docs: --soft-queued-frames
  std::size_t soft_bytes = 256 * 1024;
  std::size_t max_frames = 4096;  // docs: --max-queued-frames
  std::size_t max_bytes = 4 * 1024 * 1024;
};

// What push() did with a frame.
enum class push_status {
  queued,      // ready to be written
  held,        // held back (batching window or soft bound); flush_at() says until when
  conflated,   // held back, and it replaced an older held frame with the same key
  over_bound,  // the hard bound is crossed: close the connection (4008)
};

class outbound_queue {
 public:
  using clock = std::chrono::steady_clock;

  outbound_queue(queue_bounds bounds, std::chrono::milliseconds window) : bounds_(bounds), window_(window) {}

  // An event (tick, mark, stored private event) through batching and conflation.
  push_status push(const frame_ptr& f, clock::time_point now);
  // The edge's own message (a reply, a snapshot): queued at once, never held. after_held: what is
  // held goes first (it was delivered before this message was produced).
  push_status push_reply(frame_ptr f, bool after_held = false);
  // A WebSocket control frame (ping, pong): ahead of queued data, so a heartbeat is never stuck
  // behind a backlog.
  push_status push_urgent(frame_ptr f);

  // When the events held back are due (now or later); nullopt when nothing is held.
  std::optional<clock::time_point> flush_at() const;
  // Moves what is held into the queue as one frame if it is due and the queue is under the soft
  // bound. events: how many it carried (0: nothing moved).
  struct flushed {
    std::size_t events = 0;
    push_status status = push_status::queued;
  };
  flushed flush(clock::time_point now);
  // How many events the last push() sent as one frame because a broker event ended the window
  // (0: none since the last call); for the batch metrics, as flush()'s events.
  std::size_t take_ended_window_events() noexcept { return std::exchange(ended_window_events_, 0); }

  // Moves the next frames to write into out (cleared first), up to max_frames and about max_bytes
  // (at least one frame); returns their bytes.
  std::size_t take(std::vector<frame_ptr>& out, std::size_t max_frames, std::size_t max_bytes);

  // Drops everything held and, unless keep_queued, everything queued (a close is starting).
  void drop(bool keep_queued);

  bool has_queued() const noexcept { return head_ < queue_.size(); }
  std::size_t queued_frames() const noexcept { return queue_.size() - head_; }
  std::size_t queued_bytes() const noexcept { return queued_bytes_; }
  std::size_t held_events() const noexcept { return held_.size(); }
  std::size_t held_bytes() const noexcept { return held_.bytes(); }

  std::chrono::milliseconds window() const noexcept { return window_; }
  void set_window(std::chrono::milliseconds w) noexcept { window_ = w; }

 private:
  bool over_soft_bound() const noexcept {
    return queued_frames() >= bounds_.soft_frames || queued_bytes_ >= bounds_.soft_bytes;
  }
  bool over_hard_bound() const noexcept {
    return queued_frames() + held_.size() > bounds_.max_frames || queued_bytes_ + held_.bytes() > bounds_.max_bytes;
  }
  push_status append(frame_ptr f);
  void compact();

  const queue_bounds bounds_;
  std::chrono::milliseconds window_;
  std::vector<frame_ptr> queue_;  // waiting to be written, from head_
  std::size_t head_ = 0;
  std::size_t queued_bytes_ = 0;
  conflation_buffer held_;
  clock::time_point last_flush_{};  // when the last event left at once or as a batch
  std::size_t ended_window_events_ = 0;
};

}  // namespace tickstream::edge
