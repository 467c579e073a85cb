#pragma once
// A fake upstream WebSocket server for source tests: real WebSocket over loopback, scripted.
// Beast's WebSocket stream lives in fake_upstream.cpp, built once for every test that uses it.

#include <boost/asio/ip/tcp.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace tickstream::test {

namespace net = boost::asio;
using tcp = net::ip::tcp;

// The server's end of one WebSocket connection: blocking calls, each throws on a failure of the
// connection (the client went away, a read past its close).
class upstream_connection {
 public:
  // Takes an accepted TCP connection and answers its WebSocket handshake.
  explicit upstream_connection(tcp::socket socket);
  ~upstream_connection();
  upstream_connection(const upstream_connection&) = delete;
  upstream_connection& operator=(const upstream_connection&) = delete;

  // Sends one message, as text or binary frames per text() and binary().
  void write(std::string_view message);
  // Reads one whole message.
  std::string read_text();
  void text(bool on);
  void binary(bool on);
  // Closes the TCP connection without a WebSocket close handshake.
  void drop();

 private:
  struct stream;
  std::unique_ptr<stream> stream_;
};

// A fake upstream: accepts connections one after another and runs `script` on each (blocking
// WebSocket calls), on its own thread. The script's index says which connection it is.
class fake_upstream {
 public:
  using script = std::function<void(upstream_connection&, int index)>;

  // port: 0 picks a free one; a given port lets a test bring an upstream back where it was.
  explicit fake_upstream(script s, unsigned short port = 0);
  ~fake_upstream();
  fake_upstream(const fake_upstream&) = delete;
  fake_upstream& operator=(const fake_upstream&) = delete;

  std::string url(const std::string& path) const;
  unsigned short port() const;
  int connections() const;

 private:
  struct server;
  std::unique_ptr<server> server_;
};

}  // namespace tickstream::test
