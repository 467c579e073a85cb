#pragma once
// The write side of one WebSocket session: frames wait in the connection's outbound_queue, leave
// in one gathered write at a time (write_batch), and the batch timer sends what the window held;
// it also tells how much the client has not taken yet (the kernel's send queue included), for the
// slow-consumer check.
//
// Mixed into its session (ws_session derives from session_writer<ws_session>), which it reaches as
// *this: no pointer to store and no virtual call per frame. The session provides socket_,
// worker_, svc_, timers_, dead_ and closing_, and the calls kill(), close(), on_open() (the
// upgrade's response is written) and on_close_written() (our close frame is). The definitions
// live in session_writer.cpp, instantiated for ws_session there.
//
// Threading: the session's worker thread only.

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "edge/fanout/outbound_queue.hpp"
#include "edge/net/write_batch.hpp"
#include "edge/protocol/frame.hpp"

namespace tickstream::edge {

template <class Session>
class session_writer {
 public:
  using clock = std::chrono::steady_clock;

  session_writer(queue_bounds bounds, std::chrono::milliseconds window, deflate_mode deflate)
      : queue_(bounds, window), deflate_(deflate) {}
  ~session_writer() = default;
  session_writer(const session_writer&) = delete;
  session_writer& operator=(const session_writer&) = delete;

  // Writes the upgrade's response ahead of any frame, then calls the session's on_open().
  void write_response(std::string response);
  // An event, through batching and conflation; written when the worker says (write_now()).
  void send_event(const frame_ptr& f, clock::time_point now);
  // The worker's turn to write the events queued (worker::write_soon).
  void write_now();
  // The edge's own message: queued at once (after_held: after what is held for the batch).
  void send_reply(frame_ptr f, bool after_held = false) { after_push(queue_.push_reply(std::move(f), after_held)); }
  // A ping or a pong, ahead of queued data.
  void send_urgent(frame_ptr f) { after_push(queue_.push_urgent(std::move(f))); }
  // A close is starting: nothing held will be sent any more, nor (unless keep_queued) anything
  // queued; only the frames being written finish. The close frame f is the last one.
  void send_close(frame_ptr f, bool keep_queued);
  // The socket is closed: nothing more is written.
  void stop();
  // The client does not take what it is sent: logged with the queue's figures, closed with 4008.
  void close_slow_consumer();

  // Bytes sent to the client and not yet taken by it: the kernel's send queue, the write in
  // flight and our queue (an upper bound: part of the write in flight is in the kernel's queue).
  // Tells the session's timers when the kernel's queue shrank (the client took some).
  std::size_t unsent_bytes(clock::time_point now);
  // Nothing is being written or waits to be.
  bool all_written() const noexcept { return !writing_ && !queue_.has_queued(); }
  deflate_mode deflate() const noexcept { return deflate_; }
  std::chrono::milliseconds window() const noexcept { return queue_.window(); }
  void set_window(std::chrono::milliseconds w) noexcept { queue_.set_window(w); }

 private:
  Session& session() noexcept { return static_cast<Session&>(*this); }
  static session_writer& writer_of(Session& s) noexcept { return s; }
  // Acts on what the queue did with a frame: write it, wait for the window, or close (4008).
  void after_push(push_status s);
  // Held events go out once the queue has room and their window has passed.
  void flush_held(clock::time_point now);
  void arm_batch_timer(clock::time_point due);
  void on_batch_timer(const boost::system::error_code& ec);
  // Writes what is queued: at once as far as the socket takes it, the rest asynchronously.
  void do_write();
  // One non-blocking send: the bytes the kernel took (0 if none, or on an error).
  std::size_t send_now(std::span<const boost::asio::const_buffer> buffers);
  template <class Handler>
  void start_write(std::span<const boost::asio::const_buffer> buffers, Handler&& done);
  void on_write(const boost::system::error_code& ec);
  // The batch in flight is written (ok) or failed: its frames are counted and released.
  void written(bool ok);
  // After a write: the timers see progress, held events go out, our close frame ends the session.
  void after_written(clock::time_point now);

  outbound_queue queue_;
  write_batch inflight_;               // being written
  bool data_queued_ = false;           // events queued since the queue was last empty (their writes use the pool)
  std::size_t last_kernel_queue_ = 0;  // the socket's send queue at the last sweep
  std::unique_ptr<boost::asio::steady_timer> batch_timer_;  // created on first use (idle connections never batch)
  bool batch_timer_armed_ = false;
  bool wrote_since_sweep_ = false;  // a write started since unsent_bytes() last looked
  bool writing_ = false;
  bool write_asked_ = false;  // the worker will call write_now()
  // permessage-deflate: frames at least svc_.deflate_threshold go compressed; where the
  // connection is in the broadcast streams.
  const deflate_mode deflate_;
  deflate_cursor deflate_cursor_;
};

}  // namespace tickstream::edge
