#include "edge/net/session_writer.hpp"

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>

#include "common/log.hpp"
#include "edge/fanout/worker.hpp"
#include "edge/net/kernel_send_queue.hpp"
#include "edge/net/ws_session.hpp"

namespace tickstream::edge {

namespace net = boost::asio;

template <class Session>
void session_writer<Session>::write_response(std::string response) {
  // The response goes out before any frame: the write path is held until it is written.
  writing_ = true;
  auto res = std::make_shared<std::string>(std::move(response));
  net::async_write(session().socket_, net::buffer(*res),
                   [self = session().shared_from_this(), res](const boost::system::error_code& ec, std::size_t) {
                     writer_of(*self).writing_ = false;
                     if (ec) return self->kill("network_error");
                     self->on_open();
                     writer_of(*self).do_write();
                   });
}

template <class Session>
void session_writer<Session>::send_event(const frame_ptr& f, clock::time_point now) {
  data_queued_ = true;
  const auto s = queue_.push(f, now);
  if (s == push_status::conflated) session().worker_.count_conflated();
  if (const auto batched = queue_.take_ended_window_events(); batched > 0) session().worker_.observe_batch(batched);
  if (s != push_status::queued) return after_push(s);
  // Written once the worker has queued the rest of this turn's deliveries (write_now()), unless a
  // write is under way already (its completion writes what queued behind it).
  if (writing_ || write_asked_) return;
  write_asked_ = true;
  session().worker_.write_soon(session().shared_from_this());
}

template <class Session>
void session_writer<Session>::write_now() {
  write_asked_ = false;
  do_write();
}

template <class Session>
void session_writer<Session>::send_close(frame_ptr f, bool keep_queued) {
  queue_.drop(keep_queued);
  if (batch_timer_) batch_timer_->cancel();
  queue_.push_reply(std::move(f));
  do_write();
}

template <class Session>
void session_writer<Session>::stop() {
  if (batch_timer_) batch_timer_->cancel();
  queue_.drop(true);
}

template <class Session>
void session_writer<Session>::after_push(push_status s) {
  switch (s) {
    case push_status::queued: return do_write();
    case push_status::held:
    case push_status::conflated:
      if (!batch_timer_armed_ && queue_.window().count() > 0)
        arm_batch_timer(std::max(clock::now(), *queue_.flush_at()));
      return;
    case push_status::over_bound: return close_slow_consumer();
  }
}

template <class Session>
void session_writer<Session>::close_slow_consumer() {
  common::log_warn("slow consumer: the client does not take what it is sent, closing with 4008",
                   {{"worker", session().worker_.id()},
                    {"queued_frames", queue_.queued_frames()},
                    {"queued_bytes", queue_.queued_bytes()},
                    {"held_events", queue_.held_events()},
                    {"kernel_queue_bytes", last_kernel_queue_}});
  session().close(close_code::slow_consumer, "slow consumer: not reading", "slow_consumer", false);
}

template <class Session>
std::size_t session_writer<Session>::unsent_bytes(clock::time_point now) {
  // The kernel's queue grows only by our writes: found empty, with nothing written since, it is
  // still empty (no system call per idle connection per sweep).
  const auto queued =
      wrote_since_sweep_ || last_kernel_queue_ > 0 ? kernel_send_queue(session().socket_.native_handle()) : 0;
  wrote_since_sweep_ = false;
  if (queued < last_kernel_queue_) session().timers_.on_write_progress(now);  // the client took some
  last_kernel_queue_ = queued;
  return queued + (writing_ ? inflight_.bytes() : 0) + queue_.queued_bytes() + queue_.held_bytes();
}

template <class Session>
void session_writer<Session>::arm_batch_timer(clock::time_point due) {
  if (!batch_timer_) batch_timer_ = std::make_unique<net::steady_timer>(session().socket_.get_executor());
  batch_timer_armed_ = true;
  batch_timer_->expires_at(due);
  batch_timer_->async_wait([self = session().shared_from_this()](const boost::system::error_code& ec) {
    writer_of(*self).on_batch_timer(ec);
  });
}

template <class Session>
void session_writer<Session>::on_batch_timer(const boost::system::error_code& ec) {
  batch_timer_armed_ = false;
  if (!ec && !session().ending()) flush_held(clock::now());
}

template <class Session>
void session_writer<Session>::flush_held(clock::time_point now) {
  const auto flushed = queue_.flush(now);
  if (flushed.events > 0) {
    data_queued_ = true;  // held events, now queued
    session().worker_.observe_batch(flushed.events);
    return after_push(flushed.status);
  }
  // Still in the window: the timer waits for its end. (Still behind: the next write completion.)
  if (const auto due = queue_.flush_at(); due && *due > now && !batch_timer_armed_) arm_batch_timer(*due);
}

template <class Session>
void session_writer<Session>::do_write() {
  while (!writing_ && !session().dead_ && queue_.has_queued()) {
    writing_ = true;
    wrote_since_sweep_ = true;
    auto buffers = inflight_.take(queue_, deflate_, session().svc_.deflate_threshold, deflate_cursor_);
    const bool events = data_queued_;
    if (!queue_.has_queued()) data_queued_ = false;
    // Most writes fit in the socket's send buffer: sent at once, they are done here, with no
    // asynchronous operation, completion handler or turn of the event loop. (Our close frame
    // always goes the asynchronous way: its completion ends the connection.)
    if (!session().closing_) {
      const auto sent = send_now(buffers);
      if (sent == inflight_.bytes()) {
        written(true);
        after_written(clock::now());
        continue;
      }
      buffers = inflight_.consume(sent);  // the rest waits for the socket to take it
    }
    // Events (ticks, private events, batches, broadcasts): a fan-out or a batching window's end
    // meets many full sockets before any drains, so these writes take their operation's memory
    // from the worker's pool (no allocation per write). The edge's own replies and pings keep
    // Asio's per-thread cache: an idle connection holds nothing of the pool.
    auto done = [self = session().shared_from_this()](const boost::system::error_code& ec, std::size_t) {
      writer_of(*self).on_write(ec);
    };
    if (!events) return start_write(buffers, std::move(done));
    return start_write(
        buffers, net::bind_allocator(common::block_allocator<void>(session().worker_.write_memory()), std::move(done)));
  }
}

template <class Session>
std::size_t session_writer<Session>::send_now(std::span<const net::const_buffer> buffers) {
  // The socket is non-blocking: a full send buffer is would_block, and any other error is left
  // for the asynchronous write to meet and report.
  boost::system::error_code ec;
  const auto sent = buffers.size() == 1 ? session().socket_.write_some(buffers.front(), ec)
                                        : session().socket_.write_some(buffers, ec);
  return ec ? 0 : sent;
}

template <class Session>
template <class Handler>
void session_writer<Session>::start_write(std::span<const net::const_buffer> buffers, Handler&& done) {
  // A single frame goes as one buffer: a smaller operation than a gathered write's, and one send().
  if (buffers.size() == 1) {
    net::async_write(session().socket_, buffers.front(), std::forward<Handler>(done));
  } else {
    net::async_write(session().socket_, buffers, std::forward<Handler>(done));
  }
}

template <class Session>
void session_writer<Session>::on_write(const boost::system::error_code& ec) {
  auto& s = session();
  written(!ec);
  if (s.dead_) return;
  if (ec) return s.kill("network_error");
  after_written(clock::now());
  do_write();
}

template <class Session>
void session_writer<Session>::written(bool ok) {
  writing_ = false;
  session().worker_.wrote(inflight_.frames(), inflight_.bytes(), ok);
  inflight_.clear();
}

template <class Session>
void session_writer<Session>::after_written(clock::time_point now) {
  auto& s = session();
  s.timers_.on_write_progress(now);
  if (s.closing_ && !queue_.has_queued()) return s.on_close_written();
  if (!s.closing_) flush_held(now);  // the queue has room again
}

template class session_writer<ws_session>;

}  // namespace tickstream::edge
