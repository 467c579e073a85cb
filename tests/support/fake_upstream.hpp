#pragma once
// A fake upstream WebSocket server for source tests: real WebSocket over loopback, scripted.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace tickstream::test {

namespace net = boost::asio;
namespace websocket = boost::beast::websocket;
using tcp = net::ip::tcp;

// A fake upstream: accepts connections one after another and runs `script` on each (blocking
// WebSocket calls), on its own thread. The script's index says which connection it is.
class fake_upstream {
 public:
  using script = std::function<void(websocket::stream<tcp::socket>&, int index)>;

  // port: 0 picks a free one; a given port lets a test bring an upstream back where it was.
  explicit fake_upstream(script s, unsigned short port = 0)
      : script_(std::move(s)), acceptor_(ioc_, {net::ip::make_address("127.0.0.1"), port}) {
    thread_ = std::thread([this] {
      for (int i = 0; !stop_; ++i) {
        tcp::socket sock(ioc_);
        boost::system::error_code ec;
        acceptor_.accept(sock, ec);
        if (ec || stop_) return;
        connections_ = i + 1;
        try {
          websocket::stream<tcp::socket> ws(std::move(sock));
          ws.accept();
          script_(ws, i);
        } catch (const std::exception&) {
          // The client went away: fine, accept the next connection.
        }
      }
    });
  }
  ~fake_upstream() {
    stop_ = true;
    boost::system::error_code ec;
    // Wake a blocked accept by connecting once, before closing: closing the socket from this
    // thread would not interrupt an accept() already blocked in the kernel.
    const auto port = acceptor_.local_endpoint(ec).port();
    tcp::socket poke(ioc_);
    poke.connect({net::ip::make_address("127.0.0.1"), port}, ec);
    thread_.join();
    acceptor_.close(ec);
  }
  std::string url(const std::string& path) {
    port_ = acceptor_.local_endpoint().port();
    return "ws://127.0.0.1:" + std::to_string(port_) + path;
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  int connections() const { return connections_.load(); }

 private:
  script script_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

inline std::string read_text(websocket::stream<tcp::socket>& ws) {
  boost::beast::flat_buffer b;
  ws.read(b);
  return boost::beast::buffers_to_string(b.data());
}

}  // namespace tickstream::test
