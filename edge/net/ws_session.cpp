#include "edge/net/ws_session.hpp"

#include <boost/asio/write.hpp>

#include <algorithm>
#include <cstring>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "edge/fanout/worker.hpp"

namespace tickstream::edge {

namespace net = boost::asio;

namespace {

// Frames per gathered write: Asio hands at most 64 buffers to one writev().
constexpr std::size_t max_gather_frames = 64;
constexpr std::size_t max_gather_bytes = 512 * 1024;
// Idle connections keep a small read buffer; a large message grows it, and it shrinks back after.
constexpr std::size_t small_read_buffer = 256;

const frame_ptr& empty_ping() {
  static const frame_ptr ping = make_control_frame(ws_opcode::ping, {});
  return ping;
}

}  // namespace

ws_session::ws_session(net::ip::tcp::socket&& socket, worker& w, services& svc, identity who, std::string lease)
    : socket_(std::move(socket)),
      worker_(w),
      svc_(svc),
      who_(std::move(who)),
      expires_at_s_(who_.expires_at_s),
      tokens_(2 * svc.limits.max_messages_per_second),
      tokens_at_(clock::now()),
      lease_(std::move(lease)),
      lease_refreshed_(clock::now()),
      limits_(svc.limits),
      parser_(svc.limits.max_message_bytes),
      window_(svc.limits.batch_window),
      last_rx_(clock::now()) {}

ws_session::~ws_session() {
  release_lease();
  if (!registered_) return;
  worker_.remove_session(this);
  svc_.metrics.connections.Decrement();
  svc_.metrics.disconnect(end_reason_);
  if (svc_.census != nullptr) svc_.census->disconnected(who_.user_id);
}

void ws_session::start(std::string response, std::string_view leftover) {
  registered_ = true;
  worker_.add_session(this);
  if (svc_.census != nullptr) svc_.census->connected(who_.user_id);
  svc_.metrics.connections.Increment();
  svc_.metrics.connections_accepted.Increment();
  rbuf_.resize(std::max(small_read_buffer, leftover.size() * 2));
  std::memcpy(rbuf_.data(), leftover.data(), leftover.size());
  rlen_ = leftover.size();
  // The 101 goes out before any frame: hold the write path until it is written.
  writing_ = true;
  auto res = std::make_shared<std::string>(std::move(response));
  net::async_write(socket_, net::buffer(*res),
                   [self = shared_from_this(), res](const boost::system::error_code& ec, std::size_t) {
                     self->writing_ = false;
                     if (ec) return self->kill("network_error");
                     self->on_read({}, 0);  // handles leftover bytes, then reads
                     self->do_write();
                   });
}

// --- input ----------------------------------------------------------------------------------

void ws_session::do_read() {
  if (rlen_ == rbuf_.size()) {
    // A frame is bigger than the buffer: grow, up to the largest frame the parser accepts. (A
    // full buffer at that size cannot happen: the parser refuses longer frames from the header.)
    const auto limit = limits_.max_message_bytes + 14;
    rbuf_.resize(std::max(rbuf_.size(), std::min(rbuf_.size() * 2, limit)));
    if (rlen_ == rbuf_.size()) return kill("protocol_error");
  }
  socket_.async_read_some(net::buffer(rbuf_.data() + rlen_, rbuf_.size() - rlen_),
                          [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                            self->on_read(ec, n);
                          });
}

void ws_session::on_read(const boost::system::error_code& ec, std::size_t n) {
  if (dead_) return;
  if (ec) {
    return kill(ec == net::error::eof ? (closing_ ? nullptr : "closed_by_client") : "network_error");
  }
  if (n > 0) {
    last_rx_ = clock::now();  // any traffic counts as a sign of life
    ping_sent_ = false;
  }
  rlen_ += n;
  if (parser_.last_error() != client_frame_parser::status::ok) {
    rlen_ = 0;  // the input already failed: discard until the client closes or the timeout
  } else {
    client_frame_parser::status err{};
    const auto used = parser_.parse(rbuf_.data(), rlen_, err, [this](ws_opcode op, std::string_view payload) {
      if (!dead_) on_frame(op, payload);
    });
    std::memmove(rbuf_.data(), rbuf_.data() + used, rlen_ - used);
    rlen_ -= used;
    if (err != client_frame_parser::status::ok) rlen_ = 0;  // the rest of the input is not trusted
    if (err != client_frame_parser::status::ok) input_failed_ = true;
    if (err == client_frame_parser::status::too_big) {
      svc_.metrics.client_error("message_too_big");
      common::log_warn("client message too big; closing with 1009",
                       {{"worker", worker_.id()}, {"limit_bytes", limits_.max_message_bytes}});
      close(close_code::too_big, "message too big", "message_too_big");
    } else if (err == client_frame_parser::status::protocol_error) {
      svc_.metrics.client_error("protocol_error");
      common::log_warn("WebSocket protocol error from client; closing with 1002", {{"worker", worker_.id()}});
      close(close_code::protocol_error, "protocol error", "protocol_error");
    }
  }
  if (rlen_ == 0 && rbuf_.size() > 8 * small_read_buffer) {
    std::vector<char>(small_read_buffer).swap(rbuf_);
  }
  if (!dead_) do_read();
}

void ws_session::on_frame(ws_opcode op, std::string_view payload) {
  switch (op) {
    case ws_opcode::text:
      if (!closing_) handle_message(payload);
      break;
    case ws_opcode::binary:
      if (!closing_) fail("binary_not_supported", "send JSON text frames; binary frames are not accepted");
      break;
    case ws_opcode::ping:
      if (!closing_) enqueue_urgent(make_control_frame(ws_opcode::pong, payload));
      break;
    case ws_opcode::close:
      peer_closed_ = true;
      if (closing_) {
        // Our close is out (or about to be): the handshake is complete once it is written.
        if (!writing_ && queue_head_ == queue_.size()) kill(nullptr);
      } else {
        // Echo the client's code, as RFC 6455 §5.5.1 asks, then close the socket; a code that may
        // not appear on the wire (or a 1-byte payload) is a protocol error.
        std::uint16_t code = close_code::normal;
        if (payload.size() == 1) {
          code = close_code::protocol_error;
        } else if (payload.size() >= 2) {
          code = static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                            static_cast<std::uint8_t>(payload[1]));
          if (!valid_close_code(code)) code = close_code::protocol_error;
        }
        close(code, {}, code == close_code::protocol_error ? "protocol_error" : "closed_by_client");
      }
      break;
    default:
      break;  // pong: last_rx_ already records the sign of life
  }
}

bool ws_session::take_message_token(clock::time_point now) {
  const double burst = 2 * limits_.max_messages_per_second;
  tokens_ = std::min(burst, tokens_ + std::chrono::duration<double>(now - tokens_at_).count() *
                                          limits_.max_messages_per_second);
  tokens_at_ = now;
  if (tokens_ >= 1) {
    tokens_ -= 1;
    return true;
  }
  svc_.metrics.client_error("rate_limited");
  if (++rate_violations_ > limits_.max_rate_violations) {
    common::log_warn("client exceeds its message rate persistently; closing with 1008", {{"worker", worker_.id()}});
    close(close_code::policy_violation, "message rate exceeded", "rate_limited", true);
  } else if (now - last_rate_error_ >= std::chrono::seconds(1)) {
    last_rate_error_ = now;  // one error a second at most: a flood must not be answered by a flood
    reply(render_error("rate_limited", "more than " + std::to_string(static_cast<int>(limits_.max_messages_per_second)) +
                                           " messages a second; this one was dropped"));
  }
  return false;
}

void ws_session::handle_message(std::string_view text) {
  if (!take_message_token(clock::now())) return;
  auto msg = parse_client_message(text);
  if (!msg) {
    common::log_info("bad client message", {{"worker", worker_.id()}, {"code", msg.err().code},
                                            {"reason", msg.err().message}, {"excerpt", common::excerpt(text, 80)}});
    fail(msg.err().code, msg.err().message);
    return;
  }
  if (auto* sub = std::get_if<subscription_request>(&msg.value())) {
    handle_subscription(*sub);
  } else if (auto* ping = std::get_if<ping_request>(&msg.value())) {
    reply(render_pong(ping->id_json, common::now_us()));
  } else if (auto* refresh = std::get_if<refresh_request>(&msg.value())) {
    handle_refresh(*refresh);
  }
}

void ws_session::handle_refresh(const refresh_request& req) {
  if (svc_.auth.jwt == nullptr || who_.anonymous()) {
    return fail("refresh_not_supported", "this connection is not authenticated with a JWT");
  }
  auto id = svc_.auth.jwt->verify(req.token, common::now_us() / 1'000'000);
  if (!id) return fail(id.err().code, id.err().message);  // the connection keeps its old expiry
  if (id->user_id != who_.user_id) return fail("wrong_subject", "a refreshed token must be for the same user");
  expires_at_s_ = id->expires_at_s;
  expiry_warned_ = false;
  reply(render_refreshed(expires_at_s_.value_or(0)));
}

void ws_session::reply(std::string_view json) { enqueue(make_text_frame(frame_kind::control, {}, json)); }

void ws_session::fail(std::string code, std::string message) {
  svc_.metrics.client_error(code);
  reply(render_error(code, message));
}

// --- output ---------------------------------------------------------------------------------

void ws_session::send(const frame_ptr& f) {
  if (closing_ || dead_) return;
  // The user's stored events go through the feed: sequence checks, channel filter, P&L.
  if (is_private(f->kind)) {
    if (feed_) feed_->on_event(f);
    return;
  }
  if (f->kind == frame_kind::tick) {
    if (feed_ && feed_->follows(f->key)) feed_->on_tick(*f);
    if (extras_) {
      auto& x = *extras_;
      if (std::find(x.follow_only.begin(), x.follow_only.end(), f->key) != x.follow_only.end()) return;
      if (x.price_snapshots_pending > 0 && std::find(x.ticked.begin(), x.ticked.end(), f->key) == x.ticked.end()) {
        x.ticked.push_back(f->key);
      }
    }
  }
  send_out(f);
}

void ws_session::send_out(const frame_ptr& f) {
  if (closing_ || dead_) return;
  if (window_.count() == 0) {
    if (held_.empty() && !over_soft_bound()) return enqueue(f);
    if (held_.add(f)) worker_.count_conflated();  // behind: conflate instead of queueing
  } else {
    const auto now = clock::now();
    if (held_.empty() && !over_soft_bound() && now - last_flush_ >= window_) {
      last_flush_ = now;  // idle for a window: this event goes out at once
      return enqueue(f);
    }
    if (held_.add(f)) worker_.count_conflated();
    if (!batch_timer_armed_) arm_batch_timer(std::max(now, last_flush_ + window_));
  }
  over_hard_bound();
}

bool ws_session::over_soft_bound() const noexcept {
  return queue_.size() - queue_head_ >= limits_.soft_queued_frames || queued_bytes_ >= limits_.soft_queued_bytes;
}

void ws_session::flush_held(clock::time_point now) {
  if (held_.empty() || over_soft_bound() || closing_) return;
  last_flush_ = now;
  worker_.observe_batch(held_.size());
  enqueue(held_.take());
}

void ws_session::arm_batch_timer(clock::time_point due) {
  if (!batch_timer_) batch_timer_.emplace(socket_.get_executor());
  batch_timer_armed_ = true;
  batch_timer_->expires_at(due);
  batch_timer_->async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    self->batch_timer_armed_ = false;
    if (ec || self->dead_) return;
    // If still behind, the write completion flushes once the queue drains.
    self->flush_held(clock::now());
  });
}

void ws_session::enqueue(frame_ptr f) {
  if (dead_ || closing_) return;  // nothing may follow our close frame (RFC 6455 §5.5.1)
  queued_bytes_ += f->wire.size();
  queue_.push_back(std::move(f));
  if (!over_hard_bound()) do_write();
}

void ws_session::enqueue_urgent(frame_ptr f) {
  if (dead_ || closing_) return;
  queued_bytes_ += f->wire.size();
  queue_.insert(queue_.begin() + static_cast<std::ptrdiff_t>(queue_head_), std::move(f));
  if (!over_hard_bound()) do_write();
}

bool ws_session::over_hard_bound() {
  // Replies and pongs count too: a client that sends but never reads must not grow our memory.
  if ((queue_.size() - queue_head_) + held_.size() <= limits_.max_queued_frames &&
      queued_bytes_ + held_.bytes() <= limits_.max_queued_bytes) {
    return false;
  }
  common::log_warn("slow consumer: outbound queue over its hard bound, closing with 4008",
                   {{"worker", worker_.id()}, {"queued_frames", queue_.size() - queue_head_},
                    {"queued_bytes", queued_bytes_}, {"held_events", held_.size()}});
  close(close_code::slow_consumer, "slow consumer: outbound queue full", "slow_consumer");
  return true;
}

void ws_session::do_write() {
  if (writing_ || dead_ || queue_head_ == queue_.size()) return;
  inflight_.clear();
  iov_.clear();
  std::size_t bytes = 0;
  while (queue_head_ < queue_.size() && inflight_.size() < max_gather_frames && bytes < max_gather_bytes) {
    auto& f = queue_[queue_head_++];
    bytes += f->wire.size();
    iov_.push_back(net::buffer(f->wire));
    inflight_.push_back(std::move(f));
  }
  queued_bytes_ -= bytes;
  if (queue_head_ == queue_.size()) {
    queue_.clear();  // keeps its capacity
    queue_head_ = 0;
  } else if (queue_head_ >= 1024) {
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(queue_head_));
    queue_head_ = 0;
  }
  writing_ = true;
  net::async_write(socket_, iov_, [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
    self->on_write(ec);
  });
}

void ws_session::on_write(const boost::system::error_code& ec) {
  writing_ = false;
  std::size_t bytes = 0;
  std::int64_t now_us = 0;
  for (const auto& f : inflight_) {
    bytes += f->wire.size();
    if (f->recv_time_us <= 0 || ec) continue;
    if (now_us == 0) now_us = common::now_us();  // one clock read per write
    worker_.observe_latency(static_cast<double>(std::max<std::int64_t>(0, now_us - f->recv_time_us)) / 1e6,
                            now_us / 1'000'000);
  }
  worker_.count_sent(inflight_.size(), bytes);
  inflight_.clear();
  if (dead_) return;
  if (ec) return kill("network_error");
  if (closing_ && queue_head_ == queue_.size()) {
    // Our close frame is written: done if the client's has arrived, or if the client broke the
    // protocol (its input is no longer read, RFC 6455 §7.1.7); else wait for its close (tick()).
    if (peer_closed_ || input_failed_) kill(nullptr);
    return;
  }
  if (!held_.empty()) {
    const auto now = clock::now();
    if (window_.count() == 0 || now - last_flush_ >= window_) {
      flush_held(now);
    } else if (!batch_timer_armed_) {
      arm_batch_timer(last_flush_ + window_);
    }
  }
  do_write();
}

// --- lifecycle ------------------------------------------------------------------------------

void ws_session::tick(clock::time_point now) {
  if (dead_) return;
  if (closing_) {
    if (now >= close_deadline_) kill(nullptr);
    return;
  }
  if (expires_at_s_) {
    const auto now_s = common::now_us() / 1'000'000;
    if (now_s >= *expires_at_s_) {
      svc_.metrics.client_error("token_expired");
      return close(close_code::token_expired, "token expired", "token_expired");
    }
    if (!expiry_warned_ && now_s + limits_.token_expiry_warning.count() >= *expires_at_s_) {
      expiry_warned_ = true;
      enqueue(make_text_frame(frame_kind::control, {}, render_token_expiring(*expires_at_s_)));
    }
  }
  const auto idle = now - last_rx_;
  if (idle >= limits_.idle_timeout) {
    common::log_info("client silent past the idle timeout; closing",
                     {{"worker", worker_.id()}, {"idle_timeout_ms", limits_.idle_timeout.count()}});
    return kill("timeout");
  }
  if (feed_) feed_->tick(now);
  if (now >= drain_close_at_) {
    return close(close_code::going_away, "edge draining: reconnect", "drain", true);
  }
  if (!lease_.empty() && svc_.leases != nullptr && now - lease_refreshed_ >= svc_.leases->ttl() / 3) {
    lease_refreshed_ = now;
    svc_.leases->refresh(who_.user_id, lease_);
  }
  if (!ping_sent_ && idle * 2 >= limits_.idle_timeout) {
    ping_sent_ = true;
    enqueue_urgent(empty_ping());
  }
}

void ws_session::refuse_over_limit() {
  svc_.metrics.rejected_upgrade("max_connections");
  reply(render_error("max_connections", "Maximum connections exceeded"));
  close(close_code::max_connections, "maximum connections exceeded", "max_connections", true);
}

void ws_session::drain(std::chrono::milliseconds delay) {
  if (closing_ || dead_ || drain_close_at_ != clock::time_point::max()) return;
  drain_close_at_ = clock::now() + delay;
  reply(render_reconnect(delay.count()));
}

void ws_session::shutdown() { close(close_code::going_away, "edge shutting down", "edge_shutdown"); }

void ws_session::release_lease() {
  if (lease_.empty() || svc_.leases == nullptr) return;
  svc_.leases->release(who_.user_id, lease_);
  lease_.clear();
}

void ws_session::close(std::uint16_t code, std::string_view reason, const char* end_reason, bool keep_queued) {
  if (closing_ || dead_) return;
  closing_ = true;
  // The slot is free as soon as the connection is ending: a client told to reconnect (drain) may
  // be back on another edge before this one's close handshake has finished.
  release_lease();
  end_reason_ = end_reason;
  // Nothing held will be sent any more, nor (unless asked) anything queued: only the frames
  // already being written finish.
  if (!keep_queued) {
    for (std::size_t i = queue_head_; i < queue_.size(); ++i) queued_bytes_ -= queue_[i]->wire.size();
    queue_.clear();
    queue_head_ = 0;
  }
  held_.clear();
  if (batch_timer_) batch_timer_->cancel();
  close_deadline_ = clock::now() + limits_.close_timeout;
  // The last frame: pushed directly, as enqueue() refuses everything once closing.
  auto f = make_control_frame(ws_opcode::close, close_payload(code, reason));
  queued_bytes_ += f->wire.size();
  queue_.push_back(std::move(f));
  do_write();
}

void ws_session::kill(const char* end_reason) {
  if (dead_) return;
  dead_ = true;
  if (end_reason != nullptr) end_reason_ = end_reason;
  boost::system::error_code ignored;
  socket_.shutdown(net::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  if (batch_timer_) batch_timer_->cancel();
  held_.clear();
}

}  // namespace tickstream::edge
