#pragma once
// One client WebSocket connection, pinned to one worker thread for life.
//
// Reads client messages one at a time and answers them; sends frames from a bounded queue with
// exactly one write in flight. Kept alive by the shared_ptr captured in its pending operations;
// its destructor takes it out of the worker's subscription index (RAII, no cleanup calls).

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <cstddef>
#include <deque>
#include <memory>
#include <string>

#include "edge/client_protocol.hpp"
#include "edge/frame_sink.hpp"
#include "edge/services.hpp"

namespace tickstream::edge {

class worker;

class ws_session final : public frame_sink, public std::enable_shared_from_this<ws_session> {
 public:
  ws_session(boost::beast::tcp_stream&& stream, worker& w, services& svc);
  ~ws_session();

  // Completes the WebSocket handshake for an upgrade request already read.
  void run(boost::beast::http::request<boost::beast::http::string_body> req);

  void send(const frame_ptr& f) override;
  void shutdown() override;

 private:
  void on_accept(boost::beast::error_code ec);
  void do_read();
  void on_read(boost::beast::error_code ec, std::size_t bytes);
  void do_write();
  void on_write(boost::beast::error_code ec, std::size_t bytes);
  // Sends a close frame once the write in flight (if any) has finished.
  void close(unsigned short code, std::string reason);
  void do_close();

  void handle_message(std::string_view text);
  void handle_subscription(subscription_request& req);
  void reply(std::string text);
  void fail(std::string code, std::string message);

  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  boost::beast::flat_buffer buffer_;
  worker& worker_;
  services& svc_;
  const session_limits& limits_;  // svc_.limits
  edge_metrics& metrics_;         // svc_.metrics

  std::deque<frame_ptr> queue_;  // front() is being written while writing_
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool registered_ = false;
  bool closing_ = false;       // no more frames are queued once set
  bool close_sent_ = false;
  unsigned short close_code_ = 1000;
  std::string close_reason_;
  std::string end_reason_ = "closed_by_client";  // label for the disconnect metric
};

}  // namespace tickstream::edge
