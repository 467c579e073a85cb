#include "ingest/sources/webhook_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <mutex>

#include "common/clock.hpp"
#include "common/event_codec.hpp"
#include "common/json_reader.hpp"
#include "common/log.hpp"
#include "ingest/sources/webhook_signature.hpp"

namespace tickstream::ingest {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr std::uint64_t max_body_bytes = 1024 * 1024;  // a generous batch of events
constexpr std::size_t max_events = 10'000;

std::string json_reply(std::string_view code, std::string_view message) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("error");
  w.String(code.data(), static_cast<rapidjson::SizeType>(code.size()));
  w.Key("message");
  w.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

// Decodes a body of one event or an array of events; on error, names the index.
common::result<std::vector<common::event>> decode_body(const std::string& body) {
  rapidjson::Document doc;
  if (auto err = common::parse_json(doc, body)) return std::move(*err);
  std::vector<common::event> out;
  const auto decode_one = [&](const rapidjson::Value& v, const std::string& where) -> std::optional<common::error> {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    v.Accept(w);  // numbers were kept as text: written back unchanged
    auto ev = common::decode_event(std::string_view(buf.GetString(), buf.GetSize()));
    if (!ev) {
      auto e = std::move(ev).err();
      e.message = where + e.message;
      return e;
    }
    out.push_back(std::move(ev).value());
    return std::nullopt;
  };
  if (doc.IsArray()) {
    if (doc.Size() > max_events) return common::error{"too_many_events", "at most 10000 events per request"};
    std::size_t i = 0;
    for (const auto& v : doc.GetArray()) {
      if (auto e = decode_one(v, "event " + std::to_string(i++) + ": ")) return std::move(*e);
    }
  } else if (auto e = decode_one(doc, "")) {
    return std::move(*e);
  }
  if (out.empty()) return common::error{"invalid_event", "the request holds no event"};
  return out;
}

}  // namespace

struct webhook_server::impl : std::enable_shared_from_this<webhook_server::impl> {
  struct session : std::enable_shared_from_this<session> {
    std::shared_ptr<impl> server;
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    std::optional<http::request_parser<http::string_body>> parser;

    net::steady_timer deadline;  // the answer of the request being handled, at redis_timeout

    session(std::shared_ptr<impl> s, tcp::socket sock)
        : server(std::move(s)), stream(std::move(sock)), deadline(stream.get_executor()) {}

    void read() {
      parser.emplace();
      parser->body_limit(max_body_bytes);
      parser->header_limit(16 * 1024);
      stream.expires_after(std::chrono::seconds(30));
      http::async_read(stream, buffer, *parser, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec == http::error::end_of_stream || ec == beast::error::timeout) return;
        if (ec == http::error::body_limit) {
          return self->respond(413, json_reply("too_large", "the body is over 1 MiB"), false);
        }
        if (ec) return self->respond(400, json_reply("bad_request", ec.message()), false);
        self->handle();
      });
    }

    void handle() {
      auto& req = parser->get();
      const bool keep = req.keep_alive();
      const auto target = std::string_view(req.target());
      if (target != "/v1/events") {
        const http_request_view view{std::string_view(req.method_string()), target,
                                     req[http::field::authorization],       req["X-Tickstream-Timestamp"],
                                     req["X-Tickstream-Signature"],         req.body()};
        auto reply = [self = shared_from_this(), keep](unsigned status, std::string body) {
          net::post(self->stream.get_executor(), [self, keep, status, body = std::move(body)]() mutable {
            self->respond(status, std::move(body), keep);
          });
        };
        if (server->routes && server->routes(view, std::move(reply))) return;
        return respond(404, json_reply("not_found", "no such endpoint (see docs/openapi.yaml)"), keep);
      }
      if (req.method() != http::verb::post) return respond(405, json_reply("method_not_allowed", "use POST"), keep);
      const auto& body = req.body();
      auto signed_ok = verify_webhook(server->secret, req["X-Tickstream-Timestamp"], req["X-Tickstream-Signature"],
                                      body, common::now_us() / 1'000'000);
      if (!signed_ok) {
        server->reject(signed_ok.err(), body);
        return respond(401, json_reply(signed_ok.err().code, signed_ok.err().message), keep);
      }
      auto events = decode_body(body);
      if (!events) {
        server->reject(events.err(), body);
        return respond(400, json_reply(events.err().code, events.err().message), keep);
      }
      admit(std::move(events).value(), keep, std::chrono::steady_clock::now() + server->redis_timeout);
    }

    // Nothing is queued for a Redis that cannot take it: a stalled one is answered 503 at once; a
    // disconnected one (ingest starting, Redis restarting) is waited for until the deadline.
    void admit(std::vector<common::event> events, bool keep, std::chrono::steady_clock::time_point until) {
      auto& pub = server->publisher;
      if (!pub.usable()) {
        if (pub.stalled() || std::chrono::steady_clock::now() >= until) {
          return respond(503, json_reply("unavailable", "Redis is unavailable; retry"), keep, true);
        }
        deadline.expires_after(std::chrono::milliseconds(20));
        deadline.async_wait(
            [self = shared_from_this(), events = std::move(events), keep, until](beast::error_code ec) mutable {
              if (!ec) self->admit(std::move(events), keep, until);
            });
        return;
      }
      std::size_t privates = 0;
      for (const auto& ev : events) privates += std::holds_alternative<common::price_update>(ev) ? 0 : 1;
      if (!pub.has_room_for_private(privates)) {
        return respond(503, json_reply("unavailable", "too many events are waiting for Redis; retry"), keep, true);
      }
      publish_all(std::move(events), keep, until);
    }

    // Answers once Redis has every event, or 503 at the deadline: completions are counted on the
    // Redis thread, the answer is given on ours, once.
    void publish_all(std::vector<common::event> events, bool keep, std::chrono::steady_clock::time_point until) {
      struct tally {
        std::atomic<std::size_t> left;
        std::atomic<std::size_t> duplicates{0};
        std::atomic<bool> failed{false};
        bool answered = false;  // on the session's thread only
      };
      auto t = std::make_shared<tally>();
      t->left = events.size();
      deadline.expires_at(until);
      deadline.async_wait([self = shared_from_this(), t, keep](beast::error_code ec) {
        if (ec || t->answered) return;
        t->answered = true;
        self->respond(503, json_reply("unavailable", "Redis did not take every event in time; retry"), keep, true);
      });
      const auto now = common::now_us();
      for (auto& ev : events) {
        // The application's own time is kept; ingest's receive time is now.
        std::visit(
            [now](auto& e) {
              if constexpr (std::is_same_v<std::decay_t<decltype(e)>, common::price_update>) {
                e.recv_time_us = now;
              } else {
                e.header.recv_time_us = now;
              }
            },
            ev);
        server->publisher.publish(ev, [self = shared_from_this(), t, keep,
                                       n = events.size()](event_publisher::outcome o) {
          using outcome = event_publisher::outcome;
          // A tick replaced by a newer one or too old to publish is taken: ticks are dropped by policy.
          if (o == outcome::failed || o == outcome::refused || o == outcome::abandoned) t->failed = true;
          if (o == outcome::duplicate) ++t->duplicates;
          if (--t->left != 0) return;
          // Not after stop(): the io_context may be gone by the time Redis answers (at shutdown,
          // unanswered commands complete when the Redis client stops).
          std::lock_guard lock(self->server->post_mu);
          if (self->server->closed) return;
          net::post(self->stream.get_executor(), [self, t, keep, n] {
            if (t->answered) return;
            t->answered = true;
            self->deadline.cancel();
            if (t->failed) {
              return self->respond(503, json_reply("unavailable", "Redis did not take every event; retry"), keep, true);
            }
            self->respond(200,
                          R"({"accepted":)" + std::to_string(n - t->duplicates) + R"(,"duplicates":)" +
                              std::to_string(t->duplicates.load()) + "}",
                          keep);
          });
        });
      }
    }

    void respond(unsigned status, std::string body, bool keep, bool retry_after = false) {
      auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(status), 11);
      res->set(http::field::content_type, "application/json");
      if (retry_after) res->set(http::field::retry_after, "1");
      res->keep_alive(keep);
      res->body() = std::move(body);
      res->prepare_payload();
      http::async_write(stream, *res, [self = shared_from_this(), res, keep](beast::error_code ec, std::size_t) {
        if (ec || !keep) {
          beast::error_code ignored;
          self->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
          return;
        }
        self->read();
      });
    }
  };

  net::io_context& ioc;
  tcp::acceptor acceptor;
  std::string secret;
  event_publisher& publisher;
  reject_fn reject;
  http_route_fn routes;
  std::chrono::milliseconds redis_timeout;
  std::mutex post_mu;   // guards closed against answers posted from the Redis thread
  bool closed = false;  // stop() was called: nothing more is posted to the io_context

  impl(net::io_context& io, const tcp::endpoint& ep, std::string s, event_publisher& p, reject_fn r, http_route_fn ro,
       std::chrono::milliseconds timeout)
      : ioc(io),
        acceptor(io, ep),
        secret(std::move(s)),
        publisher(p),
        reject(std::move(r)),
        routes(std::move(ro)),
        redis_timeout(timeout) {}

  void accept() {
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket sock) {
      if (!self->acceptor.is_open()) return;
      if (!ec) std::make_shared<session>(self, std::move(sock))->read();
      self->accept();
    });
  }
};

webhook_server::webhook_server(net::io_context& ioc, const std::string& listen, std::string secret,
                               event_publisher& publisher, reject_fn reject, http_route_fn routes,
                               std::chrono::milliseconds redis_timeout) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) throw std::invalid_argument("--webhook-listen must be host:port");
  const tcp::endpoint ep(net::ip::make_address(listen.substr(0, colon)),
                         static_cast<unsigned short>(std::stoi(listen.substr(colon + 1))));
  impl_ = std::make_shared<impl>(ioc, ep, std::move(secret), publisher, std::move(reject), std::move(routes),
                                 redis_timeout);
  impl_->accept();
}

webhook_server::~webhook_server() { stop(); }

unsigned short webhook_server::port() const { return impl_->acceptor.local_endpoint().port(); }

void webhook_server::stop() {
  {
    std::lock_guard lock(impl_->post_mu);
    impl_->closed = true;
  }
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
}

}  // namespace tickstream::ingest
