#pragma once
// A small blocking WebSocket client for tests and tickstream-watch (not for load: see the load
// generator). One read is always outstanding in the background, so received frames queue up and
// next() can wait for one with a deadline without disturbing the stream.

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace tickstream::client {

struct ws_url {
  std::string host;
  std::string port;
  std::string target;  // path and query, e.g. "/ws"
  bool tls = false;    // wss://

  // Parses "ws://host:port/path" or "wss://..."; the port defaults to 80 (443) and the path to "/".
  static common::result<ws_url> parse(std::string_view url);
};

class ws_client {
 public:
  // Connects and completes the handshake within timeout. Extra request headers are optional;
  // deflate: offer permessage-deflate (Beast's implementation: messages compressed both ways).
  static common::result<std::unique_ptr<ws_client>> connect(
      const ws_url& url, std::chrono::milliseconds timeout,
      const std::vector<std::pair<std::string, std::string>>& headers = {}, bool deflate = false);
  ~ws_client();
  // The connection behind a client (plain or TLS; see connect_tls).
  struct transport;
  explicit ws_client(std::unique_ptr<transport> t);

  // Sends one text frame (or binary when binary is set). False if the connection has failed.
  bool send(std::string_view text, bool binary = false);
  // The next received text frame, waiting at most timeout; nullopt on timeout or once closed.
  std::optional<std::string> next(std::chrono::milliseconds timeout);
  // True once the server closed the connection (or it failed); close_code() tells how.
  bool closed() const noexcept;
  std::uint16_t close_code() const noexcept;
  // The X-Tickstream-Node header of the handshake response: which edge is serving this client.
  const std::string& node() const noexcept;
  // Sends a close frame and waits briefly for the server's.
  void close();

 private:
  std::unique_ptr<transport> t_;
};

struct http_reply {
  unsigned status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // The value of a response header (case-insensitive name), or empty.
  std::string header(std::string_view name) const;
};

// One HTTP/1.1 request (closing the connection after it): method "GET", "POST", "OPTIONS", ...
common::result<http_reply> http_request(const std::string& host, const std::string& port, std::string_view method,
                                        const std::string& target, std::chrono::milliseconds timeout,
                                        const std::vector<std::pair<std::string, std::string>>& headers = {},
                                        const std::string& body = {});
// One HTTP/1.1 GET.
common::result<http_reply> http_get(const std::string& host, const std::string& port, const std::string& target,
                                    std::chrono::milliseconds timeout,
                                    const std::vector<std::pair<std::string, std::string>>& headers = {});

}  // namespace tickstream::client
