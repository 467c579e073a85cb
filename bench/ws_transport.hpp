#pragma once
// The machinery behind ws_client, for a plain or a TLS WebSocket stream: one read always
// outstanding, received frames queued, every call run to completion with a deadline. Internal to
// bench/ (ws_client.cpp instantiates the plain stream, ws_client_tls.cpp the TLS one).

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "bench/ws_client.hpp"

namespace tickstream::client {

// Records every text frame the process's clients receive (TICKSTREAM_FRAME_LOG_DIR, tests).
void record_received_frame(std::string_view text);

struct ws_client::transport {
  virtual ~transport() = default;
  virtual bool send(std::string_view text, bool binary) = 0;
  virtual std::optional<std::string> next(std::chrono::milliseconds timeout) = 0;
  virtual bool closed() const noexcept = 0;
  virtual std::uint16_t close_code() const noexcept = 0;
  virtual const std::string& node() const noexcept = 0;
  virtual void close() = 0;
};

template <class Stream>
class basic_transport final : public ws_client::transport {
 public:
  template <class... Args>
  explicit basic_transport(Args&&... args) : ws_(ioc_, std::forward<Args>(args)...) {}
  ~basic_transport() override {
    if (!closed_) boost::beast::get_lowest_layer(ws_).close();
  }

  boost::asio::io_context& context() noexcept { return ioc_; }
  boost::beast::websocket::stream<Stream>& stream() noexcept { return ws_; }

  // Connects to url's host and completes the WebSocket handshake within timeout; secure, if set,
  // runs the TLS handshake in between. Returns the error text, empty on success.
  std::string open(const ws_url& url, std::chrono::milliseconds timeout,
                   const std::vector<std::pair<std::string, std::string>>& headers,
                   const std::function<boost::beast::error_code(Stream&)>& secure = {}) {
    namespace beast = boost::beast;
    boost::asio::ip::tcp::resolver resolver(ioc_);
    beast::error_code ec;
    const auto endpoints = resolver.resolve(url.host, url.port, ec);
    if (ec) return "resolve_failed: " + ec.message();
    auto& tcp_layer = beast::get_lowest_layer(ws_);
    tcp_layer.expires_after(timeout);
    bool done = false;
    tcp_layer.async_connect(endpoints, [&](beast::error_code e, const boost::asio::ip::tcp::endpoint&) {
      ec = e;
      done = true;
    });
    run_until(timeout + std::chrono::milliseconds(100), [&] { return done; });
    if (!done || ec) return "connect_failed: " + (done ? ec.message() : std::string("timed out"));
    if (secure) {
      if (const auto tls = secure(ws_.next_layer())) return "tls_failed: " + tls.message();
    }
    ws_.set_option(beast::websocket::stream_base::decorator([headers](beast::websocket::request_type& req) {
      for (const auto& [k, v] : headers) req.set(k, v);
    }));
    beast::websocket::response_type res;
    done = false;
    ws_.async_handshake(res, url.host + ":" + url.port, url.target, [&](beast::error_code e) {
      ec = e;
      done = true;
    });
    run_until(timeout + std::chrono::milliseconds(100), [&] { return done; });
    if (!done || ec) {
      return "handshake_failed: " + (done ? ec.message() : std::string("timed out")) + " (HTTP " +
             std::to_string(res.result_int()) + ")" + (res.body().empty() ? "" : ": " + res.body());
    }
    tcp_layer.expires_never();
    if (const auto it = res.find("X-Tickstream-Node"); it != res.end()) node_ = std::string(it->value());
    start_read();
    return {};
  }

  bool send(std::string_view text, bool binary) override {
    if (closed_) return false;
    ws_.binary(binary);
    bool done = false;
    boost::beast::error_code ec;
    ws_.async_write(boost::asio::buffer(text.data(), text.size()), [&](boost::beast::error_code e, std::size_t) {
      ec = e;
      done = true;
    });
    run_until(std::chrono::seconds(10), [&] { return done; });
    return done && !ec;
  }

  std::optional<std::string> next(std::chrono::milliseconds timeout) override {
    run_until(timeout, [&] { return !received_.empty() || closed_; });
    if (received_.empty()) return std::nullopt;
    auto out = std::move(received_.front());
    received_.pop_front();
    return out;
  }

  bool closed() const noexcept override { return closed_; }
  std::uint16_t close_code() const noexcept override { return code_; }
  const std::string& node() const noexcept override { return node_; }

  void close() override {
    if (closed_) return;
    bool done = false;
    ws_.async_close(boost::beast::websocket::close_code::normal, [&](boost::beast::error_code) { done = true; });
    run_until(std::chrono::seconds(2), [&] { return done && closed_; });
  }

  // Runs handlers until pred() holds or the deadline passes.
  template <class Pred>
  bool run_until(std::chrono::milliseconds timeout, Pred pred) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return false;
      ioc_.restart();
      ioc_.run_one_for(deadline - now);
    }
    return true;
  }

 private:
  void start_read() {
    ws_.async_read(buffer_, [this](boost::beast::error_code ec, std::size_t) {
      if (ec) {
        closed_ = true;
        code_ = static_cast<std::uint16_t>(ws_.reason().code);
        return;
      }
      received_.push_back(boost::beast::buffers_to_string(buffer_.data()));
      if (ws_.got_text()) record_received_frame(received_.back());
      buffer_.consume(buffer_.size());
      start_read();
    });
  }

  boost::asio::io_context ioc_;  // first: the stream is built on it
  boost::beast::websocket::stream<Stream> ws_;
  boost::beast::flat_buffer buffer_;
  std::deque<std::string> received_;
  bool closed_ = false;
  std::uint16_t code_ = 0;
  std::string node_;
};

}  // namespace tickstream::client
