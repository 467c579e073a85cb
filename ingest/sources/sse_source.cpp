#include "ingest/sources/sse_source.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <array>
#include <random>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "ingest/sources/source_url.hpp"
#include "ingest/sources/tls_client_context.hpp"

namespace tickstream::ingest {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

// One connection attempt and its stream; reports to its owner through on_*.
template <class Stream>
struct connection : std::enable_shared_from_this<connection<Stream>> {
  std::shared_ptr<net::ssl::context> tls_ctx;  // outlives the stream (https only)
  tcp::resolver resolver;
  Stream stream;
  source_url url;
  sse_source_options opt;
  http::request<http::empty_body> req;
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  std::array<char, 16 * 1024> body{};
  std::function<void(const char*, const std::string&)> lost;  // step, reason
  std::function<void(unsigned)> headers_in;                   // the status
  std::function<void(std::string_view)> bytes_in;
  bool closed = false;

  template <class... Args>
  connection(net::io_context& ioc, std::shared_ptr<net::ssl::context> ctx, Args&&... args)
      : tls_ctx(std::move(ctx)), resolver(ioc), stream(std::forward<Args>(args)...) {
    parser.body_limit(boost::none);  // a stream has no end
  }

  void fail(const char* step, const beast::error_code& ec) {
    if (closed) return;
    closed = true;
    lost(step, ec == beast::error::timeout ? std::string("timed out") : ec.message());
  }

  void run() {
    resolver.async_resolve(url.host, url.port,
                           [self = this->shared_from_this()](beast::error_code ec, tcp::resolver::results_type r) {
                             if (ec) return self->fail("resolve", ec);
                             auto& layer = beast::get_lowest_layer(self->stream);
                             layer.expires_after(self->opt.connect_timeout);
                             layer.async_connect(r, [self](beast::error_code ec2, const tcp::endpoint&) {
                               if (ec2) return self->fail("connect", ec2);
                               self->handshake();
                             });
                           });
  }

  void handshake() {
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      if (!SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str())) {
        return fail("tls", beast::error_code(static_cast<int>(::ERR_get_error()), net::error::get_ssl_category()));
      }
      stream.set_verify_callback(net::ssl::host_name_verification(url.host));
      stream.async_handshake(net::ssl::stream_base::client, [self = this->shared_from_this()](beast::error_code ec) {
        if (ec) return self->fail("tls handshake", ec);
        self->write();
      });
    } else {
      write();
    }
  }

  void write() {
    http::async_write(stream, req, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->fail("write", ec);
      http::async_read_header(self->stream, self->buffer, self->parser, [self](beast::error_code ec2, std::size_t) {
        if (ec2) return self->fail("response", ec2);
        const auto status = self->parser.get().result_int();
        if (status != 200) {
          self->closed = true;
          self->lost("response", "HTTP " + std::to_string(status));
          return;
        }
        self->headers_in(status);
        self->read();
      });
    });
  }

  void read() {
    if (closed) return;
    auto& layer = beast::get_lowest_layer(stream);
    if (opt.idle_timeout.count() > 0) {
      layer.expires_after(opt.idle_timeout);
    } else {
      layer.expires_never();
    }
    parser.get().body().data = body.data();
    parser.get().body().size = body.size();
    http::async_read_some(stream, buffer, parser, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (self->closed) return;
      const auto n = self->body.size() - self->parser.get().body().size;
      if (n > 0) self->bytes_in(std::string_view(self->body.data(), n));
      if (ec == http::error::need_buffer) ec = {};
      if (ec) return self->fail("read", ec);
      if (self->parser.is_done()) {
        self->closed = true;
        self->lost("read", "the stream ended");
        return;
      }
      self->read();
    });
  }

  void close() {
    closed = true;
    resolver.cancel();
    beast::error_code ignored;
    beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(stream).close();
  }
};

}  // namespace

struct sse_source::impl : std::enable_shared_from_this<impl> {
  net::io_context& ioc;
  sse_source_options opt;
  std::function<std::string()> query;
  sinks out;
  net::steady_timer retry;
  sse_parser parser;
  std::function<void()> close_current;
  std::uint64_t generation = 0;  // of the current connection: older ones' callbacks are ignored
  int attempt = 0;
  bool stopped = false;
  std::atomic<bool> is_connected{false};
  std::atomic<std::int64_t> last_message{0};
  std::atomic<std::uint64_t> connect_count{0};
  std::mt19937_64 rng{std::random_device{}()};

  impl(net::io_context& io, sse_source_options o, std::function<std::string()> q, sinks s)
      : ioc(io), opt(std::move(o)), query(std::move(q)), out(std::move(s)), retry(io) {}

  void connect() {
    if (stopped) return;
    auto u = parse_source_url(opt.url, "http", "https");
    if (!u) {
      common::log_error("event stream URL must be http://host[:port]/path or https://...", {{"source", opt.name}});
      return;
    }
    const auto q = query();
    if (!q.empty()) u->target += (u->target.find('?') == std::string::npos ? "?" : "&") + q;
    parser.reset();
    const auto gen = ++generation;
    if (u->tls) {
      auto ctx = tls_client_context();
      auto& c = *ctx;
      launch<beast::ssl_stream<beast::tcp_stream>>(std::move(ctx), *u, gen, ioc, c);
    } else {
      launch<beast::tcp_stream>(nullptr, *u, gen, ioc);
    }
  }

  template <class Stream, class... Args>
  void launch(std::shared_ptr<net::ssl::context> ctx, const source_url& url, std::uint64_t gen, Args&&... args) {
    auto c = std::make_shared<connection<Stream>>(ioc, std::move(ctx), std::forward<Args>(args)...);
    c->url = url;
    c->opt = opt;
    c->req = {http::verb::get, c->url.target, 11};
    c->req.set(http::field::host, c->url.host);
    c->req.set(http::field::accept, "text/event-stream");
    c->req.set(http::field::cache_control, "no-cache");
    for (const auto& [k, v] : opt.headers) c->req.set(k, v);
    std::weak_ptr<impl> weak = shared_from_this();
    c->lost = [weak, gen](const char* step, const std::string& reason) {
      if (auto self = weak.lock(); self && self->generation == gen) self->on_lost(step, reason);
    };
    c->headers_in = [weak, gen](unsigned) {
      auto self = weak.lock();
      if (!self || self->generation != gen) return;
      self->attempt = 0;
      self->is_connected = true;
      ++self->connect_count;
      self->last_message = common::now_us();
      if (self->out.connected) self->out.connected();
    };
    c->bytes_in = [weak, gen](std::string_view bytes) {
      auto self = weak.lock();
      if (!self || self->generation != gen) return;
      self->on_bytes(bytes);
    };
    close_current = [w = std::weak_ptr<connection<Stream>>(c)] {
      if (auto conn = w.lock()) conn->close();
    };
    c->run();
  }

  void on_bytes(std::string_view bytes) {
    const auto recv_us = common::now_us();
    last_message = recv_us;
    sse_output o;
    parser.feed(bytes, o);
    const auto gen = generation;
    for (auto& p : o.problems) {
      if (out.problem) out.problem(p, recv_us);
    }
    for (const auto& c : o.comments) {
      if (out.comment) out.comment(c);
      if (generation != gen) return;  // the sink asked for a reconnect
    }
    for (auto& e : o.events) {
      if (out.event) out.event(std::move(e), recv_us);
      if (generation != gen) return;
    }
  }

  void drop() {
    ++generation;
    if (close_current) close_current();
    close_current = nullptr;
    is_connected = false;
  }

  void on_lost(const char* step, const std::string& reason) {
    drop();
    if (stopped) return;
    const auto min_ms = static_cast<std::uint64_t>(opt.reconnect_min.count());
    const auto max_ms = static_cast<std::uint64_t>(opt.reconnect_max.count());
    const std::uint64_t ceiling = std::min(max_ms, min_ms << std::min(attempt, 20));
    const auto delay = std::uniform_int_distribution<std::uint64_t>(ceiling / 2, ceiling)(rng);
    ++attempt;
    common::log_warn("event stream lost; reconnecting",
                     {{"source", opt.name}, {"step", step}, {"reason", reason}, {"retry_in_ms", delay}});
    retry.expires_after(std::chrono::milliseconds(delay));
    retry.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->connect();
    });
  }

  void stop() {
    stopped = true;
    retry.cancel();
    drop();
  }
};

sse_source::sse_source(net::io_context& ioc, sse_source_options options, std::function<std::string()> query, sinks s)
    : impl_(std::make_shared<impl>(ioc, std::move(options), std::move(query), std::move(s))) {}

sse_source::~sse_source() { impl_->stop(); }

void sse_source::start() {
  net::post(impl_->ioc, [i = impl_] { i->connect(); });
}

void sse_source::reconnect(const std::string& why) {
  impl_->attempt = 0;
  impl_->on_lost("consumer", why);
}

void sse_source::stop() { impl_->stop(); }

const std::string& sse_source::name() const noexcept { return impl_->opt.name; }
bool sse_source::connected() const noexcept { return impl_->is_connected.load(); }
std::int64_t sse_source::last_message_us() const noexcept { return impl_->last_message.load(); }
std::uint64_t sse_source::connects() const noexcept { return impl_->connect_count.load(); }

}  // namespace tickstream::ingest
