#pragma once
// One client WebSocket connection after the opening handshake, pinned to one worker for life:
// the socket's I/O and nothing else. Reads many client frames per read; its write side
// (session_writer) writes every frame queued for the connection in one gathered write, where each
// frame is a buffer shared with all other sessions sending it. What the messages mean is
// session_handler's; how frames wait is outbound_queue's; when timers fire is session_timers'.
//
// Kept alive by the shared_ptr captured in its pending operations; its destructor takes it out
// of the worker and frees its connection lease (RAII).

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "edge/auth/authenticator.hpp"
#include "edge/fanout/frame_sink.hpp"
#include "edge/net/read_buffer.hpp"
#include "edge/net/services.hpp"
#include "edge/net/session_handler.hpp"
#include "edge/net/session_lease.hpp"
#include "edge/net/session_output.hpp"
#include "edge/net/session_timers.hpp"
#include "edge/net/session_writer.hpp"
#include "edge/protocol/client_message_reader.hpp"

namespace tickstream::edge {

class worker;

// What the upgrade established about a connection.
struct session_start {
  identity who;
  std::string lease;                         // the user's connection lease (empty: none)
  bool awaiting_auth = false;                // opened without credentials, in-band authentication to come
  std::string address;                       // the client's, as the listener (or the load balancer) tells it
  deflate_mode deflate = deflate_mode::off;  // as permessage-deflate was negotiated
};

class ws_session final : public frame_sink,
                         private session_output,
                         private session_writer<ws_session>,
                         public std::enable_shared_from_this<ws_session> {
 public:
  using clock = std::chrono::steady_clock;

  ws_session(boost::asio::ip::tcp::socket&& socket, worker& w, services& svc, session_start start);
  ~ws_session();

  // Sends the 101 response, then serves the connection. leftover: bytes the client sent after its
  // upgrade request.
  void start(std::string response, std::string_view leftover);
  // The user is at the tier-wide connection limit: an error frame, then close 4009.
  void refuse_over_limit();

  // frame_sink
  void send(const frame_ptr& f) override {
    if (!ending()) handler_.on_event(f);
  }
  void write_queued() override { write_now(); }
  void shutdown() override { close(close_code::going_away, "edge shutting down", "edge_shutdown", false); }
  void tick(clock::time_point now) override;
  void resubscribed(const std::string&) override { handler_.resubscribed(); }
  void drain(std::chrono::milliseconds delay) override;
  void revoke(const std::string& user, const std::string& session, const std::string& reason) override;
  void entitlements_changed(const std::string& user, const std::string& plan) override {
    handler_.entitlements_changed(user, plan);
  }
  void source_changed(const std::string& source, bool stale, std::int64_t since_us) override {
    handler_.source_changed(source, stale, since_us);
  }

 private:
  void do_read();
  void on_readable(const boost::system::error_code& ec);  // readable with nothing buffered: one read
  void on_read(const boost::system::error_code& ec, std::size_t n);
  // A message (inflated) or a control frame from the client.
  void on_message(ws_opcode op, std::string_view payload);
  // session_writer's calls: the upgrade's response is written; our close frame is written.
  friend class session_writer<ws_session>;
  void on_open();
  void on_close_written();
  // The timers ended the connection (token expiry, idle, authentication timeout, close timeout).
  void end_by_timers(const session_timers::ending& e);
  // The client broke the protocol (1002) or sent too much (1009): counted, logged, closed.
  void refuse_input(const input_refusal& r);

  // session_output
  void deliver(const frame_ptr& f) override;
  void reply(std::string_view json, bool after_held = false) override;
  // Starts a close handshake; the socket closes when the client answers or after close_timeout.
  void close(std::uint16_t code, std::string_view reason, const char* end_reason, bool keep_queued) override;
  void credential_refreshed(std::optional<std::int64_t> expires_at_s) override { timers_.on_refreshed(expires_at_s); }
  void authenticate_as(identity who) override;
  std::function<void(std::function<void()>)> poster() override;
  bool ending() const noexcept override { return closing_ || dead_; }
  std::weak_ptr<const void> lifetime() const override { return weak_from_this(); }
  std::chrono::milliseconds batch_window() const noexcept override { return window(); }
  void set_batch_window(std::chrono::milliseconds w) override { set_window(w); }

  // Closes the socket at once; pending operations end and the session is destroyed.
  void kill(const char* end_reason);

  boost::asio::ip::tcp::socket socket_;
  worker& worker_;
  services& svc_;
  session_lease lease_;
  session_timers timers_;
  read_buffer rbuf_;
  client_message_reader reader_;
  bool registered_ = false;
  bool closing_ = false;       // a close frame is queued; nothing else will be sent
  bool peer_closed_ = false;   // the client's close frame arrived
  bool input_failed_ = false;  // the client broke the protocol: close the TCP connection once our close is out
  bool dead_ = false;          // the socket is closed
  const char* end_reason_ = "closed_by_client";  // label for the disconnect metric
  clock::time_point started_;
  session_handler handler_;  // last: it refers to the members above
};

extern template class session_writer<ws_session>;  // in session_writer.cpp

}  // namespace tickstream::edge
