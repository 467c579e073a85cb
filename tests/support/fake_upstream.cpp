#include "tests/support/fake_upstream.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <atomic>
#include <exception>
#include <thread>

namespace tickstream::test {

namespace websocket = boost::beast::websocket;

struct upstream_connection::stream {
  explicit stream(tcp::socket socket) : ws(std::move(socket)) {}
  websocket::stream<tcp::socket> ws;
};

upstream_connection::upstream_connection(tcp::socket socket) : stream_(std::make_unique<stream>(std::move(socket))) {
  stream_->ws.accept();
}

upstream_connection::~upstream_connection() = default;

void upstream_connection::write(std::string_view message) { stream_->ws.write(net::buffer(message)); }

std::string upstream_connection::read_text() {
  boost::beast::flat_buffer b;
  stream_->ws.read(b);
  return boost::beast::buffers_to_string(b.data());
}

void upstream_connection::text(bool on) { stream_->ws.text(on); }

void upstream_connection::binary(bool on) { stream_->ws.binary(on); }

void upstream_connection::drop() { stream_->ws.next_layer().close(); }

struct fake_upstream::server {
  server(script s, unsigned short port)
      : run(std::move(s)), acceptor(ioc, {net::ip::make_address("127.0.0.1"), port}) {}

  void serve() {
    for (int i = 0; !stop; ++i) {
      tcp::socket sock(ioc);
      boost::system::error_code ec;
      acceptor.accept(sock, ec);
      if (ec || stop) return;
      connections = i + 1;
      try {
        upstream_connection connection(std::move(sock));
        run(connection, i);
      } catch (const std::exception&) {
        // The client went away: fine, accept the next connection.
      }
    }
  }

  script run;
  net::io_context ioc;
  tcp::acceptor acceptor;
  std::atomic<bool> stop{false};
  std::atomic<int> connections{0};
  std::thread thread;
};

fake_upstream::fake_upstream(script s, unsigned short port) : server_(std::make_unique<server>(std::move(s), port)) {
  server_->thread = std::thread([this] { server_->serve(); });
}

fake_upstream::~fake_upstream() {
  server_->stop = true;
  boost::system::error_code ec;
  // Wake a blocked accept by connecting once, before closing: closing the socket from this
  // thread would not interrupt an accept() already blocked in the kernel.
  const auto port = server_->acceptor.local_endpoint(ec).port();
  tcp::socket poke(server_->ioc);
  poke.connect({net::ip::make_address("127.0.0.1"), port}, ec);
  server_->thread.join();
  server_->acceptor.close(ec);
}

std::string fake_upstream::url(const std::string& path) const {
  return "ws://127.0.0.1:" + std::to_string(port()) + path;
}

unsigned short fake_upstream::port() const { return server_->acceptor.local_endpoint().port(); }

int fake_upstream::connections() const { return server_->connections.load(); }

}  // namespace tickstream::test
