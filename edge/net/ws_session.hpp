#pragma once
// One client WebSocket connection after the opening handshake, pinned to one worker for life:
// the socket's I/O and nothing else. Reads many client frames per read; writes every frame
// queued for the connection in one gathered write, where each frame is a buffer shared with all
// other sessions sending it. What the messages mean is session_handler's; how frames wait is
// outbound_queue's; when timers fire is session_timers'.
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
#include "edge/fanout/outbound_queue.hpp"
#include "edge/net/read_buffer.hpp"
#include "edge/net/services.hpp"
#include "edge/net/session_handler.hpp"
#include "edge/net/session_lease.hpp"
#include "edge/net/session_output.hpp"
#include "edge/net/session_timers.hpp"
#include "edge/net/write_batch.hpp"
#include "edge/protocol/client_message_reader.hpp"

namespace tickstream::edge {

class worker;

// What the upgrade established about a connection.
struct session_start {
  identity who;
  std::string lease;           // the user's connection lease (empty: none)
  bool awaiting_auth = false;  // opened without credentials, in-band authentication to come
  std::string address;         // the client's, as the listener (or the load balancer) tells it
  bool deflate = false;        // permessage-deflate negotiated
};

class ws_session final : public frame_sink, private session_output, public std::enable_shared_from_this<ws_session> {
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
  void on_read(const boost::system::error_code& ec, std::size_t n);
  // A message (inflated) or a control frame from the client.
  void on_message(ws_opcode op, std::string_view payload);
  void do_write();
  void on_write(const boost::system::error_code& ec);
  void arm_batch_timer(clock::time_point due);
  void on_batch_timer(const boost::system::error_code& ec);
  // Held events go out once the queue has room and their window has passed.
  void flush_held(clock::time_point now);
  // Acts on what the queue did with a frame: write it, wait for the window, or close (4008).
  void after_push(push_status s);
  // Bytes sent to the client and not yet taken by it: the kernel's send queue, the write in
  // flight and our queue (an upper bound: part of the write in flight is in the kernel's queue).
  std::size_t unsent_bytes(clock::time_point now);
  void close_slow_consumer();
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
  std::chrono::milliseconds batch_window() const noexcept override { return queue_.window(); }
  void set_batch_window(std::chrono::milliseconds w) override { queue_.set_window(w); }

  // Closes the socket at once; pending operations end and the session is destroyed.
  void kill(const char* end_reason);

  boost::asio::ip::tcp::socket socket_;
  worker& worker_;
  services& svc_;
  session_lease lease_;
  session_timers timers_;
  outbound_queue queue_;
  write_batch inflight_;                                    // being written
  std::size_t last_kernel_queue_ = 0;                       // the socket's send queue at the last sweep
  std::unique_ptr<boost::asio::steady_timer> batch_timer_;  // created on first use (idle connections never batch)
  read_buffer rbuf_;
  client_message_reader reader_;
  bool batch_timer_armed_ = false;
  bool wrote_since_sweep_ = false;  // a write started since unsent_bytes() last looked
  bool writing_ = false;
  bool registered_ = false;
  bool closing_ = false;       // a close frame is queued; nothing else will be sent
  bool peer_closed_ = false;   // the client's close frame arrived
  bool input_failed_ = false;  // the client broke the protocol: close the TCP connection once our close is out
  bool dead_ = false;          // the socket is closed
  const bool deflate_;         // permessage-deflate: frames at least deflate_threshold go compressed
  const char* end_reason_ = "closed_by_client";  // label for the disconnect metric
  clock::time_point started_;
  session_handler handler_;  // last: it refers to the members above
};

}  // namespace tickstream::edge
