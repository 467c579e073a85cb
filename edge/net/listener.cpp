#include "edge/net/listener.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/beast/core/bind_handler.hpp>

#include <chrono>

#include "common/log.hpp"
#include "edge/fanout/worker.hpp"
#include "edge/net/http_session.hpp"

namespace tickstream::edge {

namespace net = boost::asio;

listener::listener(net::io_context& ioc, const net::ip::tcp::endpoint& endpoint, std::vector<worker*> workers,
                   services& svc, port_role role)
    : acceptor_(ioc), retry_timer_(ioc), workers_(std::move(workers)), svc_(svc), role_(role) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(net::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(net::socket_base::max_listen_connections);
  acceptor_.non_blocking(true);
}

unsigned short listener::port() const { return acceptor_.local_endpoint().port(); }

void listener::run() { do_accept(); }

void listener::stop() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ec;
    self->acceptor_.close(ec);
    self->retry_timer_.cancel();
  });
}

worker& listener::next_worker() {
  auto& target = *workers_[next_];
  next_ = (next_ + 1) % workers_.size();
  return target;
}

void listener::serve(net::ip::tcp::socket socket, worker& target) {
  boost::system::error_code ec;
  socket.set_option(net::ip::tcp::no_delay(true), ec);
  // (The connection rate is checked once the client's address is known: behind a load balancer
  // it comes from the PROXY header or X-Forwarded-For, not from this socket.)
  std::make_shared<http_session>(std::move(socket), target, svc_, role_)->run();
}

void listener::do_accept() {
  auto& target = next_worker();
  acceptor_.async_accept(target.context(),
                         [self = shared_from_this(), &target](boost::beast::error_code ec, net::ip::tcp::socket s) {
                           if (!ec) {
                             self->serve(std::move(s), target);
                             self->accept_backlog();
                           }
                           self->on_accept(ec);
                         });
}

void listener::accept_backlog() {
  // The accept completion may have waited behind a busy worker's fan-out: take every connection
  // already waiting (up to a bound), so bursts of connects do not overflow the listen backlog.
  for (int i = 0; i < 256; ++i) {
    auto& target = next_worker();
    boost::system::error_code ec;
    net::ip::tcp::socket s(target.context());
    acceptor_.accept(s, ec);
    if (ec) return;  // would_block: nothing more waiting (other errors: the async accept sees them)
    serve(std::move(s), target);
  }
}

void listener::on_accept(boost::beast::error_code ec) {
  if (!acceptor_.is_open()) return;  // stopped
  if (ec && ec != net::error::connection_aborted) {
    // Out of file descriptors or memory, say: retrying at once would spin; wait a little.
    common::log_warn("accept failed, pausing", {{"reason", ec.message()}});
    retry_timer_.expires_after(std::chrono::milliseconds(100));
    retry_timer_.async_wait([self = shared_from_this()](boost::beast::error_code wec) {
      if (!wec) self->do_accept();
    });
    return;
  }
  do_accept();
}

}  // namespace tickstream::edge
