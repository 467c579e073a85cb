#pragma once
// A plain HTTP connection: answers /healthz and /metrics, and hands a GET /ws upgrade to a new
// ws_session on the same worker. Every request must arrive within the handshake timeout.

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/result.hpp"
#include "edge/auth/authenticator.hpp"
#include "edge/net/services.hpp"
#include "edge/portfolio/rest_api.hpp"
#include "edge/protocol/deflate.hpp"

namespace tickstream::edge {

class worker;

class http_session : public std::enable_shared_from_this<http_session> {
 public:
  http_session(boost::asio::ip::tcp::socket&& socket, worker& w, services& svc, port_role role = port_role::all);
  // Starts reading on the socket's own worker thread.
  void run();

 private:
  // With --proxy-protocol: the load balancer's header first, naming the client.
  void do_read_proxy_header();
  void on_proxy_header(boost::beast::error_code ec, std::size_t bytes);
  void do_read();
  void on_read(boost::beast::error_code ec, std::size_t bytes);
  void upgrade(const boost::beast::http::request<boost::beast::http::string_body>& req);
  // Authenticates req as the WebSocket upgrade does (token, cookie, session in Redis); then runs
  // on this session's thread with the identity or the reason it was refused.
  void identify(const boost::beast::http::request<boost::beast::http::string_body>& req,
                std::function<void(common::result<identity>)> then);
  // GET /api/...: the REST fallback (edge/rest_api.hpp).
  void serve_rest(rest_endpoint e, std::string target, bool keep_alive);
  // Accepts the WebSocket for an authenticated (or, on an open edge, anonymous) client.
  void finish_upgrade(identity who);
  // Sends the 101 and hands the socket to a ws_session (which, over the limit, is told so and closed).
  // awaiting_auth: no credentials, in-band authentication to come.
  void accept_websocket(identity who, std::string lease, bool over_limit, bool awaiting_auth = false);
  // OPTIONS /api/...: a browser's CORS pre-flight.
  void serve_preflight(bool keep_alive);
  // POST /api/dev/login (--dev-login only).
  void serve_dev_login(const boost::beast::http::request<boost::beast::http::string_body>& req, bool keep_alive);
  // rest_endpoint: the REST endpoint refused (counted there), or empty for the WebSocket upgrade.
  void refuse(const common::error& why, bool keep_alive = false, std::string_view rest_endpoint = {});
  void respond(unsigned status, const std::string& content_type, std::string body, bool keep_alive,
               std::initializer_list<std::pair<const char*, const char*>> headers = {});
  void on_write(bool keep_alive, boost::beast::error_code ec, std::size_t bytes);

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  worker& worker_;
  services& svc_;
  std::string accept_key_;
  std::optional<deflate_agreement> deflate_;  // the agreed permessage-deflate parameters (none: none)
  // The request's Origin when it is on the allow-list: REST answers carry CORS headers for it.
  std::string cors_origin_;
  std::string set_cookie_;  // a Set-Cookie for the next response (dev login)
  const port_role role_;
  std::string client_address_;  // the TCP peer, or who the load balancer says it carries
  bool rate_checked_ = false;   // the connection rate is checked at the first request
  bool head_ = false;           // the request is HEAD: answer with the headers of a GET and no body
};

}  // namespace tickstream::edge
