#include "edge/net/ws_session.hpp"

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/post.hpp>

#include "common/clock.hpp"
#include "common/exact_allocator.hpp"
#include "common/log.hpp"
#include "edge/fanout/worker.hpp"
#include "edge/net/connection_slot.hpp"
#include "edge/protocol/client_protocol.hpp"

namespace tickstream::edge {

namespace net = boost::asio;

namespace {

// Idle connections keep a small read buffer (most connections are idle).
constexpr std::size_t small_read_buffer = 256;

const frame_ptr& empty_ping() {
  static const frame_ptr ping = make_control_frame(ws_opcode::ping, {});
  return ping;
}

session_timers::settings timer_settings(const services& svc, bool leased) {
  const auto ttl = leased ? svc.leases->ttl() : std::chrono::milliseconds{0};
  return session_timers::for_limits(svc.limits, ttl, session_timers::random_ping_phase());
}

}  // namespace

ws_session::ws_session(net::ip::tcp::socket&& socket, worker& w, services& svc, session_start start)
    : session_writer(svc.limits.queue, svc.limits.batch_window, start.deflate),
      socket_(std::move(socket)),
      worker_(w),
      svc_(svc),
      lease_(svc.leases, std::move(start.lease)),
      timers_(timer_settings(svc, lease_.held()), clock::now(), start.who.expires_at_s),
      rbuf_(small_read_buffer, svc.limits.max_message_bytes + 14),  // + the longest frame header
      reader_(svc.limits.max_message_bytes),
      handler_(*this, *this, w, svc, std::move(start.who), start.awaiting_auth, std::move(start.address)) {
  if (start.awaiting_auth) timers_.auth_by(clock::now() + svc.limits.auth_timeout);
  if (start.deflate != deflate_mode::off) reader_.accept_compressed();
}

ws_session::~ws_session() {
  lease_.release(handler_.who().user_id);
  if (!registered_) return;
  if (deflate() == deflate_mode::shared) svc_.broadcast_deflate->remove_taker();
  worker_.remove_session(this);
  svc_.metrics.connection_closed(end_reason_, std::chrono::duration<double>(clock::now() - started_).count());
}

void ws_session::start(std::string response, std::string_view leftover) {
  registered_ = true;
  started_ = clock::now();
  worker_.add_session(this);
  handler_.opened();
  svc_.metrics.connection_opened(deflate() != deflate_mode::off);
  if (deflate() == deflate_mode::shared) svc_.broadcast_deflate->add_taker();
  rbuf_.assign(leftover);
  // A read after readiness (on_readable) must never block the worker's other connections.
  boost::system::error_code ec;
  socket_.non_blocking(true, ec);
  if (ec) return kill("network_error");
  write_response(std::move(response));
}

void ws_session::on_open() { on_read({}, 0); }  // handles leftover bytes, then reads

// --- input ----------------------------------------------------------------------------------

void ws_session::do_read() {
  if (rbuf_.size() == 0) {
    // Nothing half-read: wait for the socket to be readable without holding a buffer (most
    // connections are idle most of the time), then read what arrived at once. The wait is held
    // for as long as the connection is idle, so its operation gets a block of its own size.
    rbuf_.release();
    socket_.async_wait(net::socket_base::wait_read,
                       net::bind_allocator(common::exact_allocator<void>(),
                                           [self = shared_from_this()](const boost::system::error_code& ec) {
                                             self->on_readable(ec);
                                           }));
    return;
  }
  if (!rbuf_.make_room()) return kill("protocol_error");
  socket_.async_read_some(
      net::buffer(rbuf_.space(), rbuf_.space_size()),
      [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) { self->on_read(ec, n); });
}

void ws_session::on_readable(const boost::system::error_code& ec) {
  if (dead_) return;
  if (ec) return on_read(ec, 0);
  rbuf_.make_room();
  boost::system::error_code read_ec;
  const auto n = socket_.read_some(net::buffer(rbuf_.space(), rbuf_.space_size()), read_ec);  // non-blocking
  if (read_ec == net::error::would_block || read_ec == net::error::try_again) return do_read();
  on_read(read_ec, n);
}

void ws_session::on_read(const boost::system::error_code& ec, std::size_t n) {
  if (dead_) return;
  if (ec) return kill(ec == net::error::eof ? (closing_ ? nullptr : "closed_by_client") : "network_error");
  rbuf_.commit(n);
  if (!reader_.refusal()) {
    bool complete = false;  // a complete frame is a sign of life; bytes of an unfinished one are not
    rbuf_.consume(reader_.read(rbuf_.data(), rbuf_.size(), [&](ws_opcode op, std::string_view payload) {
      complete = true;
      if (!dead_) on_message(op, payload);
    }));
    if (complete) timers_.on_traffic(clock::now());
    if (reader_.refusal()) refuse_input(*reader_.refusal());
  }
  if (reader_.refusal()) rbuf_.clear();  // the rest of the input is not trusted: discard it
  if (!dead_) do_read();
}

void ws_session::refuse_input(const input_refusal& r) {
  input_failed_ = true;  // its input is no longer read (RFC 6455 §7.1.7)
  svc_.metrics.client_error(r.what);
  common::log_warn("client broke the WebSocket protocol; closing", {{"worker", worker_.id()},
                                                                    {"reason", r.what},
                                                                    {"close_code", r.code},
                                                                    {"limit_bytes", svc_.limits.max_message_bytes}});
  close(r.code, r.reason, r.what, false);
}

void ws_session::on_message(ws_opcode op, std::string_view payload) {
  if (op == ws_opcode::close) {
    peer_closed_ = true;
    if (!closing_) {
      // Echo the client's code (RFC 6455 §5.5.1); the socket closes once our close is written.
      const auto code = close_echo_code(payload);
      return close(code, {}, code == close_code::protocol_error ? "protocol_error" : "closed_by_client", false);
    }
    // Our close is out (or about to be): the handshake is complete once it is written.
    if (all_written()) kill(nullptr);
    return;
  }
  if (closing_) return;
  if (op == ws_opcode::text) {
    handler_.on_text(payload, clock::now());
  } else if (op == ws_opcode::binary) {
    handler_.on_binary();
  } else if (op == ws_opcode::ping) {
    send_urgent(make_control_frame(ws_opcode::pong, payload));
  }  // pong: the read itself was the sign of life
}

// --- output (session_writer) ---------------------------------------------------------------

void ws_session::deliver(const frame_ptr& f) {
  if (!ending()) send_event(f, clock::now());
}

void ws_session::reply(std::string_view json, bool after_held) {
  if (ending()) return;  // nothing may follow our close frame (RFC 6455 §5.5.1)
  send_reply(make_text_frame(frame_kind::control, {}, json), after_held);
}

void ws_session::on_close_written() {
  // Done if the client's close has arrived, or if the client broke the protocol (its input is no
  // longer read, RFC 6455 §7.1.7); else wait for its close (tick()).
  if (peer_closed_ || input_failed_) kill(nullptr);
}

// --- lifecycle ------------------------------------------------------------------------------

void ws_session::tick(clock::time_point now) {
  if (dead_) return;
  using end_kind = session_timers::decision::end_kind;
  // The wall clock is read only for a connection whose token expires.
  const auto now_s = timers_.expires_at_s() ? common::now_us() / 1'000'000 : 0;
  const auto d = timers_.decide(now, now_s, {closing_ ? 0 : unsent_bytes(now)});
  if (d.warn_expiry) reply(render_token_expiring(*timers_.expires_at_s()));
  if (d.end == end_kind::slow_consumer) return close_slow_consumer();
  if (const auto e = session_timers::ending_for(d.end)) return end_by_timers(*e);
  if (d.tick_feed) handler_.tick(now);
  if (d.end == end_kind::drain) return close(close_code::going_away, "edge draining: reconnect", "drain", true);
  lease_.refresh(handler_.who().user_id, d.refresh_lease);
  if (d.ping) send_urgent(empty_ping());
}

void ws_session::end_by_timers(const session_timers::ending& e) {
  if (e.end_reason != nullptr)
    common::log_info("connection ended by its timers", {{"worker", worker_.id()}, {"reason", e.end_reason}});
  if (e.client_error != nullptr) svc_.metrics.client_error(e.client_error);
  if (e.error_message != nullptr) reply(render_error(e.client_error, e.error_message));
  if (e.close_code == 0) return kill(e.end_reason);
  close(e.close_code, e.close_reason, e.end_reason, e.error_message != nullptr);
}

void ws_session::authenticate_as(identity who) {
  if (svc_.leases == nullptr) return handler_.on_authenticated(std::move(who));
  // The tier-wide limit, as at the upgrade.
  take_connection_slot(svc_, socket_.get_executor(), who.user_id, [self = shared_from_this(), who](slot_outcome slot) {
    if (self->ending()) return self->svc_.leases->release_unused(who.user_id, slot.lease);
    if (slot.what == slot_outcome::kind::over_limit) return self->refuse_over_limit();
    // Granted, or unchecked (added by its first refresh).
    if (self->lease_.adopt(std::move(slot.lease))) self->timers_.lease_from(clock::now(), self->svc_.leases->ttl() / 3);
    self->handler_.on_authenticated(who);
  });
}

void ws_session::refuse_over_limit() {
  svc_.metrics.rejected_upgrade("max_connections");
  reply(render_error("max_connections", "Maximum connections exceeded"));
  close(close_code::max_connections, "maximum connections exceeded", "max_connections", true);
}

void ws_session::revoke(const std::string& user, const std::string& session, const std::string& reason) {
  if (ending() || !handler_.revoked_by(user, session)) return;
  // The lease goes at once, as on a drain: the user's slots are free when the API has answered.
  close(close_code::revoked, reason.empty() ? "revoked" : reason, "revoked", false);
}

void ws_session::drain(std::chrono::milliseconds delay) {
  if (ending() || !timers_.drain_at(clock::now() + delay)) return;
  reply(render_reconnect(delay.count()));
}

std::function<void(std::function<void()>)> ws_session::poster() {
  return [weak = weak_from_this(), ex = socket_.get_executor()](std::function<void()> fn) {
    net::post(ex, [weak, fn = std::move(fn)] {
      if (auto self = weak.lock(); self && !self->dead_) fn();
    });
  };
}

void ws_session::close(std::uint16_t code, std::string_view reason, const char* end_reason, bool keep_queued) {
  if (ending()) return;
  closing_ = true;
  // The slot is free as soon as the connection is ending: a client told to reconnect (drain) may
  // be back on another edge before this one's close handshake has finished.
  lease_.release(handler_.who().user_id);
  end_reason_ = end_reason;
  timers_.on_closing(clock::now() + svc_.limits.close_timeout);
  send_close(make_control_frame(ws_opcode::close, close_payload(code, reason)), keep_queued);
}

void ws_session::kill(const char* end_reason) {
  if (dead_) return;
  dead_ = true;
  if (end_reason != nullptr) end_reason_ = end_reason;
  boost::system::error_code ignored;
  socket_.shutdown(net::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  stop();
}

}  // namespace tickstream::edge
