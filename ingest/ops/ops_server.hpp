#pragma once
// The ingest's operations endpoint: GET /metrics (Prometheus text), /healthz (the process is
// alive) and /readyz (Redis is reachable and the worker is not stopping). One thread, one request
// per connection: scrapes and probes are rare, and a slow client is cut off by a read timeout.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <prometheus/registry.h>

namespace tickstream::ingest {

class ops_server {
 public:
  // listen: "host:port". ready(why) says whether the worker is ready, and if not, why. Throws
  // std::invalid_argument or std::system_error when the address cannot be used.
  // before_scrape runs (on the server's thread) before each /metrics answer: gauges read then.
  ops_server(const std::string& listen, std::shared_ptr<prometheus::Registry> registry,
             std::function<bool(std::string& why)> ready, std::function<void()> before_scrape = {});
  ~ops_server();
  ops_server(const ops_server&) = delete;
  ops_server& operator=(const ops_server&) = delete;

  unsigned short port() const;

 private:
  void serve(boost::asio::ip::tcp::socket& socket);

  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::function<bool(std::string&)> ready_;
  std::function<void()> before_scrape_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace tickstream::ingest
