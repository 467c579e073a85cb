#pragma once
// Accepts TCP connections and spreads them round-robin over the workers: each accepted socket
// belongs to its worker's io_context from the start, so a connection never changes thread.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>

#include <memory>
#include <vector>

#include "edge/auth/connect_rate_limiter.hpp"
#include "edge/net/services.hpp"

namespace tickstream::edge {

class worker;

class listener : public std::enable_shared_from_this<listener> {
 public:
  // Binds and listens at once; throws std::system_error if the address cannot be bound (a
  // start-up configuration error).
  listener(boost::asio::io_context& ioc, const boost::asio::ip::tcp::endpoint& endpoint, std::vector<worker*> workers,
           services& svc, port_role role = port_role::all);

  unsigned short port() const;
  void run();
  // Stops accepting; thread-safe.
  void stop();

 private:
  void do_accept();
  void accept_backlog();
  worker& next_worker();
  void serve(boost::asio::ip::tcp::socket socket, worker& target);
  void on_accept(boost::beast::error_code ec);

  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  std::vector<worker*> workers_;
  services& svc_;
  std::size_t next_ = 0;
  const port_role role_;
};

}  // namespace tickstream::edge
