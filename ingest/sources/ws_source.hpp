#pragma once
// A live upstream source over WebSocket (ws:// or wss:// with certificate verification): connects,
// runs the source's handshake (source_protocol), hands every received message (text or binary
// frame) to the sink with its receive time, and on any failure reconnects with exponential
// backoff and jitter, re-authenticating and re-subscribing from scratch. A refused auth or
// subscription closes the connection and waits out the backoff rather than spin.
//
// Threading: everything runs on the io_context given; the sink is called there.

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "ingest/normalize/normalized.hpp"
#include "ingest/normalize/source_protocol.hpp"

namespace tickstream::ingest {

struct source_options {
  std::string url;  // ws://host[:port]/path or wss://host[:port]/path
  std::chrono::milliseconds reconnect_min{500};
  std::chrono::milliseconds reconnect_max{30'000};
  // Without any message (or pong) for this long the connection is considered dead; the adapter
  // pings at half of it.
  std::chrono::seconds idle_timeout{60};
};

class ws_source {
 public:
  // (source name, receive time µs, raw message, what the normalizer made of it)
  using sink = std::function<void(const std::string&, std::int64_t, std::string_view, normalized&&)>;

  ws_source(boost::asio::io_context& ioc, source_options options, std::unique_ptr<source_protocol> protocol,
            sink on_message);
  ~ws_source();
  ws_source(const ws_source&) = delete;
  ws_source& operator=(const ws_source&) = delete;

  void start();
  // Closes the connection and cancels reconnects; call on the io_context's thread or after it stopped.
  void stop();

  const std::string& name() const noexcept;
  bool connected() const noexcept;
  std::int64_t last_message_us() const noexcept;  // 0 before the first message
  std::uint64_t reconnects() const noexcept;

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace tickstream::ingest
