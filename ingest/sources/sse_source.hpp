#pragma once
// A live upstream over Server-Sent Events (http:// or https:// with certificate verification):
// GET <url>?<query> with Accept: text/event-stream and the headers given, the body decoded as it
// arrives (sse_parser, chunked or not) and every event, comment and problem handed to the sinks
// with its receive time. Any failure (connect, TLS, a status other than 200, the stream ending, no
// byte for idle_timeout) reconnects with exponential backoff and jitter; the query is asked for
// again at each connect, so a replayable stream resumes where its consumer says.
//
// Threading: everything runs on the io_context given; the sinks are called there. Asio headers
// stay in the .cpp.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "ingest/sources/sse_parser.hpp"

namespace boost::asio {
class io_context;
}

namespace tickstream::ingest {

struct sse_source_options {
  std::string name;                                          // the source's name in logs and heartbeats
  std::string url;                                           // http(s)://host[:port]/path, without a query
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Authorization (never logged)
  std::chrono::milliseconds reconnect_min{500};
  std::chrono::milliseconds reconnect_max{30'000};
  std::chrono::milliseconds connect_timeout{10'000};  // resolve, connect, TLS, response header
  // No byte at all (data or heartbeat comment) for this long: the connection is dead (0: off).
  std::chrono::milliseconds idle_timeout{0};
};

class sse_source {
 public:
  struct sinks {
    std::function<void(sse_event&&, std::int64_t recv_us)> event;
    std::function<void(const std::string&)> comment;
    std::function<void(const common::error&, std::int64_t recv_us)> problem;
    std::function<void()> connected;  // a 200 arrived: events follow
  };

  // query() is called at each connect ("" for none, else e.g. "since_id=01G...").
  sse_source(boost::asio::io_context& ioc, sse_source_options options, std::function<std::string()> query, sinks s);
  ~sse_source();
  sse_source(const sse_source&) = delete;
  sse_source& operator=(const sse_source&) = delete;

  void start();
  // Drops the connection and connects again after the shortest backoff (on the io_context's thread).
  void reconnect(const std::string& why);
  // Closes the connection and cancels reconnects; call on the io_context's thread or after it stopped.
  void stop();

  const std::string& name() const noexcept;
  bool connected() const noexcept;
  std::int64_t last_message_us() const noexcept;  // 0 before the first byte
  std::uint64_t connects() const noexcept;        // responses with 200 so far

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace tickstream::ingest
