#pragma once
// One client WebSocket connection after the opening handshake, pinned to one worker for life.
//
// The edge speaks the WebSocket framing itself (edge/ws_codec.hpp): it reads many client frames
// per read and writes every frame queued for the connection in one gathered write, where each
// frame is a buffer shared with all other sessions sending it. Kept alive by the shared_ptr
// captured in its pending operations; its destructor takes it out of the worker (RAII).

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "edge/auth/authenticator.hpp"
#include "edge/protocol/client_protocol.hpp"
#include "edge/fanout/conflation_buffer.hpp"
#include "edge/fanout/frame_sink.hpp"
#include "edge/portfolio/private_feed.hpp"
#include "edge/services.hpp"
#include "edge/protocol/ws_codec.hpp"

namespace tickstream::edge {

class worker;

class ws_session final : public frame_sink,
                         private private_feed::host,
                         public std::enable_shared_from_this<ws_session> {
 public:
  using clock = std::chrono::steady_clock;

  // lease: the connection lease held for an authenticated user (empty: none).
  ws_session(boost::asio::ip::tcp::socket&& socket, worker& w, services& svc, identity who, std::string lease = {});
  ~ws_session();

  // Sends the 101 response, then serves the connection. leftover: bytes the client sent after its
  // upgrade request.
  void start(std::string response, std::string_view leftover);

  // The user is at the tier-wide connection limit: an error frame, then close 4009.
  void refuse_over_limit();

  void send(const frame_ptr& f) override;
  void shutdown() override;
  void tick(clock::time_point now) override;
  void resubscribed(const std::string& route) override;
  void drain(std::chrono::milliseconds delay) override;
  void source_changed(const std::string& source, bool stale, std::int64_t since_us) override;

 private:
  void do_read();
  void on_read(const boost::system::error_code& ec, std::size_t n);
  void on_frame(ws_opcode op, std::string_view payload);
  // False when the message is over the client's rate (it is then dropped).
  bool take_message_token(clock::time_point now);
  void handle_message(std::string_view text);
  void handle_subscription(subscription_request& req);
  void handle_refresh(const refresh_request& req);
  void reply(std::string_view json);
  void fail(std::string code, std::string message);
  // The last ticks of symbols, as a snapshot frame (a subscribe without private channels).
  void send_price_snapshot(std::vector<std::string> symbols);
  // Whether anything this connection receives comes from source.
  bool depends_on(const std::string& source) const;
  void report_stale_sources();

  // private_feed::host
  void feed_deliver(frame_ptr f) override { send_out(f); }
  void feed_reply(std::string json) override;
  void feed_follow(const std::string& symbol, bool follow) override;
  std::function<void(std::function<void()>)> feed_poster() override;
  void feed_filter_prices(std::vector<std::pair<std::string, std::string>>& prices) override;

  // The outbound path: batching and conflation, then the queue.
  void send_out(const frame_ptr& f);
  void enqueue(frame_ptr f);
  // Control frames (ping, pong, close) go ahead of queued data, so a heartbeat is never stuck
  // behind a backlog of ticks.
  void enqueue_urgent(frame_ptr f);
  bool over_soft_bound() const noexcept;
  // Past the hard bound (queued plus held): closes with 4008 and returns true.
  bool over_hard_bound();
  void flush_held(clock::time_point now);
  void arm_batch_timer(clock::time_point due);
  void do_write();
  void on_write(const boost::system::error_code& ec);

  // Starts a close handshake; the socket closes when the client answers or after close_timeout.
  // keep_queued: send what is already queued first (an error explaining the close).
  void close(std::uint16_t code, std::string_view reason, const char* end_reason, bool keep_queued = false);
  // Closes the socket at once; pending operations end and the session is destroyed.
  void kill(const char* end_reason);

  boost::asio::ip::tcp::socket socket_;
  worker& worker_;
  services& svc_;
  const identity who_;  // fixed at the upgrade (expiry moves with "refresh")
  std::optional<std::int64_t> expires_at_s_;
  // Client message rate (token bucket).
  double tokens_;
  clock::time_point tokens_at_;
  std::size_t rate_violations_ = 0;
  clock::time_point last_rate_error_{};
  bool expiry_warned_ = false;
  std::string lease_;  // emptied once released
  void release_lease();
  clock::time_point lease_refreshed_;
  const session_limits& limits_;

  std::vector<char> rbuf_;
  std::size_t rlen_ = 0;
  client_frame_parser parser_;

  std::vector<frame_ptr> queue_;  // waiting to be written, from queue_head_
  std::size_t queue_head_ = 0;
  std::size_t queued_bytes_ = 0;
  std::vector<frame_ptr> inflight_;  // being written
  std::vector<boost::asio::const_buffer> iov_;
  conflation_buffer held_;  // held back by the batching window or the soft bound
  std::chrono::milliseconds window_;
  clock::time_point last_flush_{};
  std::optional<boost::asio::steady_timer> batch_timer_;  // created on first use
  bool batch_timer_armed_ = false;

  clock::time_point last_rx_;
  clock::time_point close_deadline_{};
  bool writing_ = false;
  bool ping_sent_ = false;
  bool registered_ = false;
  bool closing_ = false;      // a close frame is queued; nothing else will be sent
  bool peer_closed_ = false;  // the client's close frame arrived
  bool input_failed_ = false; // the client broke the protocol: close the TCP connection once our close is out
  bool dead_ = false;         // the socket is closed
  const char* end_reason_ = "closed_by_client";  // label for the disconnect metric
  // The user's private stream; created by the first subscribe to a private channel.
  std::unique_ptr<private_feed> feed_;
  // State most connections never need, allocated on first use (idle connections stay small).
  struct extras {
    // Symbols subscribed only to follow a position's price (the client did not ask for their ticks).
    std::vector<std::string> follow_only;
    // Snapshots with prices asked for and not yet rendered, and the symbols whose ticks went out
    // meanwhile (a snapshot must not hand the client an older price than one it already has).
    std::uint32_t price_snapshots_pending = 0;
    std::vector<std::string> ticked;
  };
  std::unique_ptr<extras> extras_;
  extras& more() {
    if (!extras_) extras_ = std::make_unique<extras>();
    return *extras_;
  }
  clock::time_point drain_close_at_ = clock::time_point::max();  // draining: close with 1001 then
};

}  // namespace tickstream::edge
