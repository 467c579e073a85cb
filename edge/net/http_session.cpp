#include "edge/net/http_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "common/redis/keys.hpp"
#include "edge/auth/dev_login.hpp"
#include "edge/fanout/worker.hpp"
#include "edge/net/connection_slot.hpp"
#include "edge/net/deadline_call.hpp"
#include "edge/net/proxy_protocol.hpp"
#include "edge/net/ws_session.hpp"
#include "edge/portfolio/private_state_reader.hpp"
#include "edge/protocol/client_protocol.hpp"
#include "edge/protocol/deflate.hpp"
#include "edge/protocol/ws_codec.hpp"

namespace tickstream::edge {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

// Request headers beyond this are refused: no legitimate upgrade or probe needs more.
constexpr std::uint32_t max_header_bytes = 8 * 1024;
constexpr std::uint64_t max_body_bytes = 4 * 1024;

std::string_view path_of(std::string_view target) {
  const auto q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

std::string json_error(std::string_view code, std::string_view message) { return render_error(code, message); }

}  // namespace

http_session::http_session(boost::asio::ip::tcp::socket&& socket, worker& w, services& svc, port_role role)
    : stream_(std::move(socket)), worker_(w), svc_(svc), role_(role) {
  boost::system::error_code ec;
  const auto peer = stream_.socket().remote_endpoint(ec);
  if (!ec) client_address_ = peer.address().to_string();
}

void http_session::run() {
  boost::asio::dispatch(
      stream_.get_executor(),
      // The ops port is reached directly, never through the load balancer.
      beast::bind_front_handler(
          svc_.proxy_protocol && role_ != port_role::ops ? &http_session::do_read_proxy_header : &http_session::do_read,
          shared_from_this()));
}

void http_session::do_read_proxy_header() {
  stream_.expires_after(svc_.limits.handshake_timeout);
  stream_.async_read_some(buffer_.prepare(536 - buffer_.size()),
                          beast::bind_front_handler(&http_session::on_proxy_header, shared_from_this()));
}

void http_session::on_proxy_header(beast::error_code ec, std::size_t bytes) {
  if (ec) return;  // closed or timed out before saying anything
  buffer_.commit(bytes);
  const auto data = buffer_.cdata();
  const auto parsed = parse_proxy_header({static_cast<const char*>(data.data()), data.size()});
  if (!parsed) return do_read_proxy_header();  // more to come
  if (!*parsed) {
    // Not from our load balancer (or a broken one): nothing this connection says can be trusted.
    svc_.metrics.rejected_upgrade("bad_proxy_header");
    common::log_warn("connection refused: no valid PROXY protocol header",
                     {{"peer", client_address_}, {"reason", parsed->err().message}});
    stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
    return;
  }
  buffer_.consume(parsed->value().size);
  if (!parsed->value().client_address.empty()) client_address_ = parsed->value().client_address;
  do_read();
}

void http_session::do_read() {
  parser_.emplace();
  parser_->header_limit(max_header_bytes);
  parser_->body_limit(max_body_bytes);
  stream_.expires_after(svc_.limits.handshake_timeout);
  http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&http_session::on_read, shared_from_this()));
}

void http_session::on_read(beast::error_code ec, std::size_t) {
  if (ec == http::error::end_of_stream || ec == beast::error::timeout) {
    stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
    return;
  }
  if (ec) {
    svc_.metrics.rejected_upgrade("bad_request");
    respond(400, "application/json", json_error("bad_request", "malformed HTTP request: " + ec.message()), false);
    return;
  }
  auto& req = parser_->get();
  bool over_rate = false;
  if (!rate_checked_ && role_ != port_role::ops) {  // probes and scrapers are not clients
    rate_checked_ = true;
    if (!svc_.trusted_proxies.empty()) {
      client_address_ = forwarded_client(client_address_, req["X-Forwarded-For"], svc_.trusted_proxies);
    }
    const auto now_us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count();
    over_rate = svc_.connect_limiter != nullptr && !svc_.connect_limiter->admit(client_address_, now_us);
  }
  if (over_rate) {
    svc_.metrics.rejected_upgrade("too_many_connections");
    respond(429, "application/json",
            json_error("too_many_connections", "too many new connections from this address; retry in a second"), false,
            {{"Retry-After", "1"}});
    return;
  }
  const auto path = path_of(req.target());
  const bool keep_alive = req.keep_alive();
  head_ = req.method() == http::verb::head;
  const auto origin = req[http::field::origin];
  cors_origin_.clear();
  if (!origin.empty() && origin_allowed(svc_.auth, origin, {})) cors_origin_ = std::string(origin);

  // With an ops port, each port serves its own paths only.
  const bool ops_path =
      path == "/metrics" || path == "/healthz" || path == "/readyz" || path.starts_with("/api/admin/");
  if ((role_ == port_role::ops && !ops_path) || (role_ == port_role::clients && ops_path)) {
    return respond(404, "application/json",
                   json_error("not_found", role_ == port_role::ops ? "the ops port serves /metrics, /healthz, "
                                                                     "/readyz and /api/admin/ only"
                                                                   : "no such path on the client port"),
                   keep_alive);
  }
  if (path == "/ws") {
    if (svc_.draining != nullptr && svc_.draining->load()) {
      svc_.metrics.rejected_upgrade("draining");
      respond(503, "application/json",
              json_error("draining", "this edge is shutting down; reconnect through the load balancer"), false,
              {{"Retry-After", "1"}});
      return;
    }
    upgrade(req);
    return;
  }
  if (req.method() == http::verb::options && path.starts_with("/api/")) return serve_preflight(keep_alive);
  if (req.method() == http::verb::post && path == "/api/dev/login") {
    if (svc_.dev_login) return serve_dev_login(req, keep_alive);
    return respond(404, "application/json", json_error("not_found", "development sign-in is off"), keep_alive);
  }
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    respond(405, "application/json", json_error("method_not_allowed", "only GET is served"), keep_alive);
    return;
  }
  if (path == "/healthz") {
    const bool redis_up = svc_.redis.command_connected() && svc_.redis.subscriber_connected();
    respond(200, "application/json",
            std::string("{\"status\":\"ok\",\"redis\":\"") + (redis_up ? "up" : "down") + "\"}", keep_alive);
    return;
  }
  if (path == "/readyz") {
    std::string why;
    if (svc_.draining != nullptr && svc_.draining->load()) {
      why = "draining";
    } else if (svc_.ready && !svc_.ready(why)) {
      // why says which check failed
    }
    if (why.empty()) {
      respond(200, "application/json", R"({"status":"ready"})", keep_alive);
    } else {
      respond(503, "application/json", R"({"status":"not_ready","reason":")" + why + R"("})", keep_alive);
    }
    return;
  }
  if (path == "/api/admin/websocket-stats") {
    identify(req, [self = shared_from_this(), keep_alive](common::result<identity> who) {
      if (!who) return self->refuse(who.err(), keep_alive, "admin");
      if (!who->has_role("admin")) {
        self->svc_.metrics.rest_request("admin", 403);
        return self->respond(403, "application/json", json_error("forbidden", "the admin role is required"),
                             keep_alive);
      }
      self->svc_.metrics.rest_request("admin", 200);
      self->respond(200, "application/json", self->svc_.admin_stats ? self->svc_.admin_stats() : "{}", keep_alive,
                    {{"Cache-Control", "no-store"}});
    });
    return;
  }
  if (path == "/metrics") {
    respond(200, "text/plain; version=0.0.4", svc_.metrics.render(), keep_alive);
    return;
  }
  if (const auto endpoint = rest_endpoint_of(path)) {
    std::string target(req.target());
    identify(req, [self = shared_from_this(), e = *endpoint, target = std::move(target),
                   keep_alive](common::result<identity> who) {
      if (!who) return self->refuse(who.err(), keep_alive, rest_endpoint_name(e));
      if (is_private_endpoint(e) && who->anonymous()) {
        self->svc_.metrics.rest_request(std::string(rest_endpoint_name(e)), 401);
        return self->respond(401, "application/json",
                             json_error("missing_credentials", "this endpoint serves a user's own data: authenticate"),
                             keep_alive);
      }
      self->stream_.expires_after(self->svc_.limits.handshake_timeout);
      auto wanted = rest_state_request(e, who->user_id, target);
      if (!wanted) {
        self->svc_.metrics.rest_request(std::string(rest_endpoint_name(e)), 400);
        return self->respond(400, "application/json", json_error(wanted.err().code, wanted.err().message), keep_alive);
      }
      using body = std::optional<std::string>;
      const auto answer = [self, e, keep_alive](const body& b) {
        self->svc_.metrics.rest_request(std::string(rest_endpoint_name(e)), b ? 200 : 503);
        if (!b) {
          return self->respond(503, "application/json",
                               json_error("unavailable", "Redis cannot be reached; retry shortly"), keep_alive,
                               {{"Retry-After", "1"}});
        }
        self->respond(200, "application/json", *b, keep_alive, {{"Cache-Control", "no-store"}});
      };
      call_with_deadline<body>(
          self->stream_.get_executor(), self->svc_.redis_timeout,
          [self, e, sreq = wanted.value()](const std::function<void(body)>& deliver) {
            read_private_state(self->svc_.redis, sreq, [self, e, sreq, deliver](common::result<private_state> st) {
              std::size_t invalid = 0;
              body b = st ? body(render_rest(e, sreq, st.value(), invalid)) : std::nullopt;
              if (invalid > 0) {  // as the stream does (private_feed)
                self->svc_.metrics.upstream_invalid("bad_stored_state");
                common::log_warn("skipping stored private state that does not decode",
                                 {{"user", sreq.user_id}, {"entries", invalid}});
              }
              deliver(std::move(b));
            });
          },
          answer, [answer] { answer(std::nullopt); });
    });
    return;
  }
  respond(404, "application/json",
          json_error("not_found", "no such path; try /ws, /healthz, /metrics or /api/positions"), keep_alive);
}

void http_session::upgrade(const http::request<http::string_body>& req) {
  if (!beast::websocket::is_upgrade(req)) {
    svc_.metrics.rejected_upgrade("not_websocket");
    respond(426, "application/json", json_error("upgrade_required", "GET /ws must be a WebSocket upgrade request"),
            false);
    return;
  }
  if (req[http::field::sec_websocket_version] != "13") {
    svc_.metrics.rejected_upgrade("bad_version");
    respond(426, "application/json",
            json_error("unsupported_version", "only WebSocket version 13 (RFC 6455) is supported"), false,
            {{"Sec-WebSocket-Version", "13"}});
    return;
  }
  auto accept = websocket_accept_key(req[http::field::sec_websocket_key]);
  if (!accept) {
    svc_.metrics.rejected_upgrade("bad_key");
    respond(400, "application/json", json_error("bad_request", accept.err().message), false);
    return;
  }
  accept_key_ = std::move(accept).value();
  if (svc_.deflate) {
    if (auto agreed = negotiate_permessage_deflate(req[http::field::sec_websocket_extensions],
                                                   svc_.broadcast_deflate != nullptr)) {
      deflate_ = std::move(agreed).value();
    }
  }
  identify(req, [self = shared_from_this()](common::result<identity> who) {
    // No credentials at all: a browser may still authenticate with its first message.
    if (!who && who.err().code == "missing_credentials" && self->svc_.auth.in_band) {
      return self->accept_websocket(identity{}, {}, false, true);
    }
    if (!who) return self->refuse(who.err());
    self->finish_upgrade(std::move(who).value());
  });
}

void http_session::identify(const http::request<http::string_body>& req,
                            std::function<void(common::result<identity>)> then) {
  const auto now_s = common::now_us() / 1'000'000;
  // A session or token id the server API revoked is refused (401 "revoked") until its record
  // expires: one EXISTS, only for credentials that carry an id.
  then = [this, next = std::move(then)](common::result<identity> who) {
    if (!who || who->session_id.empty()) return next(std::move(who));
    using answer = common::result<identity>;
    auto pending = std::make_shared<identity>(std::move(who).value());
    call_with_deadline<answer>(
        stream_.get_executor(), svc_.redis_timeout,
        [this, pending](const std::function<void(answer)>& deliver) {
          svc_.redis.command(
              {"EXISTS", common::revoked_key(pending->session_id)},
              [deliver, pending](common::result<common::redis_reply> r) {
                if (!r) return deliver(answer(common::error{"unavailable", "revocations cannot be checked now"}));
                if (r->integer != 0) return deliver(answer(common::error{"revoked", "this session was revoked"}));
                deliver(answer(*pending));
              });
        },
        next,
        [next] {
          next(answer(common::error{"unavailable", "revocations cannot be checked now"}));
        });
  };
  auto step = authenticate(svc_.auth,
                           {req[http::field::authorization], req[http::field::cookie], req[http::field::origin],
                            req.target(), req["Sec-Fetch-Site"]},
                           now_s);
  if (!step) return then(std::move(step).err());
  if (step->who) return then(std::move(*step->who));
  // A session cookie: look the session up in Redis, then continue on this session's thread.
  stream_.expires_after(svc_.limits.handshake_timeout);
  using answer = common::result<identity>;
  const auto unavailable = [] { return answer(common::error{"unavailable", "sessions cannot be checked now"}); };
  call_with_deadline<answer>(
      stream_.get_executor(), svc_.redis_timeout,
      [this, id = step->session_id, now_s, unavailable](const std::function<void(answer)>& deliver) {
        svc_.redis.command({"HMGET", common::session_key(id), "user", "roles", "expires"},
                           [deliver, id, now_s, unavailable](common::result<common::redis_reply> r) {
                             if (!r || r->elements.size() != 3) return deliver(unavailable());
                             const auto field = [&](std::size_t i) -> std::optional<std::string> {
                               const auto& e = r->elements[i];
                               if (e.type != common::redis_reply::kind::string) return std::nullopt;
                               return e.str;
                             };
                             auto who = identity_from_session(field(0), field(1), field(2), now_s);
                             if (who) who->session_id = id;
                             deliver(std::move(who));
                           });
      },
      then, [then, unavailable] { then(unavailable()); });
}

void http_session::refuse(const common::error& why, bool keep_alive, std::string_view rest_endpoint) {
  const unsigned status = why.code == "forbidden_origin" ? 403 : why.code == "unavailable" ? 503 : 401;
  // Counted where the request belongs: a refused upgrade, or a REST request answered with an error.
  if (rest_endpoint.empty()) {
    svc_.metrics.rejected_upgrade(why.code);
  } else {
    svc_.metrics.rest_request(std::string(rest_endpoint), static_cast<int>(status));
  }
  common::log_info("request refused",
                   {{"reason", why.code}, {"request", rest_endpoint.empty() ? "upgrade" : rest_endpoint}});
  // (never the credential itself)
  respond(status, "application/json", json_error(why.code, why.message), keep_alive);
}

void http_session::finish_upgrade(identity who) {
  if (who.anonymous() || svc_.leases == nullptr) return accept_websocket(std::move(who), {}, false);
  // Take a connection lease for the user first (tier-wide limit), then continue here.
  const auto user = who.user_id;  // (who is moved into the callback)
  take_connection_slot(
      svc_, stream_.get_executor(), user, [self = shared_from_this(), who = std::move(who)](slot_outcome slot) mutable {
        self->accept_websocket(std::move(who), std::move(slot.lease), slot.what == slot_outcome::kind::over_limit);
      });
}

void http_session::accept_websocket(identity who, std::string lease, bool over_limit, bool awaiting_auth) {
  std::string response =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " +
      accept_key_ +
      "\r\nServer: tickstream-edge\r\n"
      "X-Tickstream-Node: " +
      svc_.node_id + "\r\n";
  if (deflate_) response += "Sec-WebSocket-Extensions: " + deflate_->response + "\r\n";
  response += "\r\n";
  // Bytes the client sent after its request belong to the WebSocket stream.
  const auto rest = buffer_.cdata();
  const std::string leftover(static_cast<const char*>(rest.data()), rest.size());
  stream_.expires_never();
  auto session =
      std::make_shared<ws_session>(stream_.release_socket(), worker_, svc_,
                                   session_start{std::move(who), std::move(lease), awaiting_auth, client_address_,
                                                 deflate_ ? deflate_->mode : deflate_mode::off});
  session->start(std::move(response), leftover);
  if (over_limit) session->refuse_over_limit();
}

void http_session::serve_preflight(bool keep_alive) {
  if (cors_origin_.empty()) {
    svc_.metrics.rest_request("preflight", 403);
    return respond(403, "application/json",
                   json_error("forbidden_origin", "this origin is not allowed to use the API from a browser"),
                   keep_alive);
  }
  svc_.metrics.rest_request("preflight", 204);
  respond(204, "text/plain", {}, keep_alive,
          {{"Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS"},
           {"Access-Control-Allow-Headers", "Authorization, Content-Type"},
           {"Access-Control-Max-Age", "600"}});
}

void http_session::serve_dev_login(const http::request<http::string_body>& req, bool keep_alive) {
  const auto origin = req[http::field::origin];
  if (!origin_allowed(svc_.auth, origin, req["Sec-Fetch-Site"]) && !origin.empty()) {
    svc_.metrics.rest_request("dev_login", 403);
    return respond(403, "application/json", json_error("forbidden_origin", "sign in from an allowed origin"),
                   keep_alive);
  }
  auto user = parse_dev_login(req.body());
  auto id = new_session_id();
  if (!user || id.empty()) {
    const int status = user ? 503 : 400;
    svc_.metrics.rest_request("dev_login", status);
    return respond(
        status, "application/json",
        user ? json_error("unavailable", "no random session id") : json_error(user.err().code, user.err().message),
        keep_alive);
  }
  const auto ttl = svc_.dev_login_ttl;
  const auto expires = common::now_us() / 1'000'000 + ttl.count();
  const auto key = common::session_key(id);
  const auto self = shared_from_this();
  const auto answer = [self, user = user.value(), id, expires, keep_alive](bool ok) {
    self->svc_.metrics.rest_request("dev_login", ok ? 200 : 503);
    if (!ok) {
      return self->respond(503, "application/json", json_error("unavailable", "Redis cannot be reached; retry shortly"),
                           keep_alive, {{"Retry-After", "1"}});
    }
    common::log_warn("development sign-in", {{"user", user}});
    self->set_cookie_ = session_cookie_header(self->svc_.auth.session_cookie, id, self->svc_.dev_login_ttl);
    self->respond(200, "application/json", render_authenticated(user, expires, self->svc_.node_id), keep_alive,
                  {{"Cache-Control", "no-store"}});
  };
  call_with_deadline<bool>(
      stream_.get_executor(), svc_.redis_timeout,
      [self, key, user = user.value(), expires, ttl](const std::function<void(bool)>& deliver) {
        // Two commands in one pipeline: the record and its expiry.
        self->svc_.redis.command({"HSET", key, "user", user, "roles", "", "expires", std::to_string(expires)});
        self->svc_.redis.command({"EXPIRE", key, std::to_string(ttl.count())},
                                 [deliver](const common::result<common::redis_reply>& r) { deliver(r.ok()); });
      },
      answer, [answer] { answer(false); });
}

void http_session::respond(unsigned status, const std::string& content_type, std::string body, bool keep_alive,
                           std::initializer_list<std::pair<const char*, const char*>> headers) {
  auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(status), 11);
  for (const auto& [k, v] : headers) res->set(k, v);
  res->set(http::field::server, "tickstream-edge");
  res->set(http::field::content_type, content_type);
  if (!cors_origin_.empty()) {
    // The allow-list's origins may read answers with the user's cookie (a page elsewhere may not).
    res->set(http::field::access_control_allow_origin, cors_origin_);
    res->set(http::field::access_control_allow_credentials, "true");
    res->set(http::field::vary, "Origin");
  }
  if (!set_cookie_.empty()) res->set(http::field::set_cookie, std::exchange(set_cookie_, {}));
  res->keep_alive(keep_alive);
  res->body() = std::move(body);
  res->prepare_payload();
  // HEAD: the same headers (Content-Length included), no body, so a keep-alive client stays in step.
  if (head_) res->body().clear();
  http::async_write(stream_, *res, [self = shared_from_this(), res, keep_alive](beast::error_code ec, std::size_t n) {
    self->on_write(keep_alive, ec, n);
  });
}

void http_session::on_write(bool keep_alive, beast::error_code ec, std::size_t) {
  if (ec) return;
  if (!keep_alive) {
    stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
    return;
  }
  do_read();
}

}  // namespace tickstream::edge
