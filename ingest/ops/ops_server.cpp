#include "ingest/ops/ops_server.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <stdexcept>

#include <prometheus/text_serializer.h>

#include "common/log.hpp"
#include "common/process_metrics.hpp"

namespace tickstream::ingest {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

tcp::endpoint parse_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) throw std::invalid_argument("expected host:port, got '" + listen + "'");
  const auto port = std::stoi(listen.substr(colon + 1));
  if (port < 0 || port > 65535) throw std::invalid_argument("port out of range in '" + listen + "'");
  const auto host = listen.substr(0, colon);
  return {net::ip::make_address(host.empty() ? "0.0.0.0" : host), static_cast<unsigned short>(port)};
}

}  // namespace

ops_server::ops_server(const std::string& listen, std::shared_ptr<prometheus::Registry> registry,
                       std::function<bool(std::string& why)> ready, std::function<void()> before_scrape)
    : acceptor_(ioc_, parse_listen(listen)),
      registry_(std::move(registry)),
      ready_(std::move(ready)),
      before_scrape_(std::move(before_scrape)) {
  thread_ = std::thread([this] {
    while (!stop_) {
      tcp::socket socket(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (stop_) return;
      if (ec) continue;
      serve(socket);
    }
  });
}

ops_server::~ops_server() {
  stop_ = true;
  boost::system::error_code ec;
  const auto ep = acceptor_.local_endpoint(ec);
  // Wake the blocked accept with one connection, then close.
  tcp::socket poke(ioc_);
  poke.connect({net::ip::make_address("127.0.0.1"), ep.port()}, ec);
  thread_.join();
  acceptor_.close(ec);
}

unsigned short ops_server::port() const { return acceptor_.local_endpoint().port(); }

void ops_server::serve(tcp::socket& socket) {
  // A client that sends nothing must not hold the one thread: 2 s to send the request.
  timeval tv{2, 0};
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  boost::beast::flat_buffer buffer;
  http::request<http::string_body> req;
  boost::system::error_code ec;
  http::read(socket, buffer, req, ec);
  if (ec) return;
  http::response<http::string_body> res{http::status::ok, req.version()};
  res.set(http::field::server, "tickstream-ingest");
  res.set(http::field::content_type, "application/json");
  res.keep_alive(false);
  const auto target = std::string(req.target().substr(0, req.target().find('?')));
  if (req.method() != http::verb::get) {
    res.result(http::status::method_not_allowed);
    res.body() = R"({"type":"error","code":"method_not_allowed","message":"only GET is served"})";
  } else if (target == "/metrics") {
    res.set(http::field::content_type, "text/plain; version=0.0.4");
    if (before_scrape_) before_scrape_();
    auto families = registry_->Collect();
    for (auto& f : common::process_metric_families()) families.push_back(std::move(f));
    res.body() = prometheus::TextSerializer().Serialize(families);
  } else if (target == "/healthz") {
    res.body() = R"({"status":"ok"})";
  } else if (target == "/readyz") {
    std::string why;
    if (ready_(why)) {
      res.body() = R"({"status":"ready"})";
    } else {
      res.result(http::status::service_unavailable);
      res.body() = R"({"status":"not_ready","reason":")" + why + R"("})";
    }
  } else {
    res.result(http::status::not_found);
    res.body() = R"({"type":"error","code":"not_found","message":"try /metrics, /healthz or /readyz"})";
  }
  res.prepare_payload();
  http::write(socket, res, ec);
  socket.shutdown(tcp::socket::shutdown_both, ec);
}

}  // namespace tickstream::ingest
