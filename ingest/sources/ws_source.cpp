#include "ingest/sources/ws_source.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <deque>
#include <random>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "ingest/sources/source_url.hpp"
#include "ingest/sources/tls_client_context.hpp"

namespace tickstream::ingest {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

namespace {

// The URL as logs may show it: credentials in the query (Finnhub's ?token=) are cut off.
std::string loggable(std::string_view url) { return std::string(url.substr(0, url.find('?'))); }

}  // namespace

struct ws_source::impl : std::enable_shared_from_this<ws_source::impl> {
  // One connection attempt and its life; a new one is made for every reconnect.
  template <class Stream>
  struct connection : std::enable_shared_from_this<connection<Stream>> {
    std::shared_ptr<impl> owner;
    Stream ws;
    beast::flat_buffer buffer;
    std::deque<std::string> outbox;
    bool writing = false;
    bool done = false;

    template <class... Args>
    explicit connection(std::shared_ptr<impl> o, Args&&... args)
        : owner(std::move(o)), ws(std::forward<Args>(args)...) {}

    void fail(const char* step, const beast::error_code& ec) {
      if (done) return;
      done = true;
      owner->on_connection_lost(step, ec.message());
    }

    void start(const tcp::resolver::results_type& endpoints) {
      auto& tcp_layer = beast::get_lowest_layer(ws);
      tcp_layer.expires_after(std::chrono::seconds(10));
      tcp_layer.async_connect(endpoints, [self = this->shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
        if (ec) return self->fail("connect", ec);
        self->after_connect();
      });
    }

    void after_connect() {
      if constexpr (std::is_same_v<Stream, tls_ws>) {
        auto& tls = ws.next_layer();
        if (!SSL_set_tlsext_host_name(tls.native_handle(), owner->url.host.c_str())) {
          return fail("tls", beast::error_code(static_cast<int>(::ERR_get_error()), net::error::get_ssl_category()));
        }
        tls.set_verify_callback(net::ssl::host_name_verification(owner->url.host));
        tls.async_handshake(net::ssl::stream_base::client, [self = this->shared_from_this()](beast::error_code ec) {
          if (ec) return self->fail("tls handshake", ec);
          self->websocket_handshake();
        });
      } else {
        websocket_handshake();
      }
    }

    void websocket_handshake() {
      beast::get_lowest_layer(ws).expires_never();
      websocket::stream_base::timeout t = websocket::stream_base::timeout::suggested(beast::role_type::client);
      t.idle_timeout = owner->options.idle_timeout;
      t.keep_alive_pings = true;
      ws.set_option(t);
      ws.read_message_max(16 * 1024 * 1024);
      ws.async_handshake(owner->url.host, owner->url.target, [self = this->shared_from_this()](beast::error_code ec) {
        if (ec) return self->fail("websocket handshake", ec);
        self->owner->on_open(self);
        self->read();
      });
    }

    void read() {
      ws.async_read(buffer, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec) return self->fail("read", ec);
        const auto data = self->buffer.cdata();
        self->owner->on_message(self, std::string_view(static_cast<const char*>(data.data()), data.size()));
        self->buffer.consume(self->buffer.size());
        if (!self->done) self->read();
      });
    }

    void send(std::string text) {
      outbox.push_back(std::move(text));
      if (!writing) write_next();
    }

    void write_next() {
      if (outbox.empty() || done) return;
      writing = true;
      ws.text(true);
      ws.async_write(net::buffer(outbox.front()), [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
        self->writing = false;
        self->outbox.pop_front();
        if (ec) return self->fail("write", ec);
        self->write_next();
      });
    }

    void close() {
      if (done) return;
      done = true;
      beast::get_lowest_layer(ws).close();
    }
  };

  // Without permessage-deflate (the providers' feeds are not offered it): the compressing code
  // paths are not instantiated.
  using plain_ws = websocket::stream<beast::tcp_stream, false>;
  using tls_ws = websocket::stream<beast::ssl_stream<beast::tcp_stream>, false>;

  net::io_context& ioc;
  source_options options;
  source_url url;
  std::unique_ptr<source_protocol> protocol;
  sink deliver;
  std::shared_ptr<net::ssl::context> tls_ctx;  // the process's one (wss:// only)
  tcp::resolver resolver;
  net::steady_timer retry;
  std::shared_ptr<connection<plain_ws>> plain;
  std::shared_ptr<connection<tls_ws>> secure;
  int attempt = 0;
  bool stopped = false;
  std::mt19937_64 rng{std::random_device{}()};
  std::atomic<bool> is_connected{false};
  std::atomic<std::int64_t> last_message{0};
  std::atomic<std::uint64_t> reconnect_count{0};

  impl(net::io_context& io, source_options o, std::unique_ptr<source_protocol> p, sink s)
      : ioc(io), options(std::move(o)), protocol(std::move(p)), deliver(std::move(s)), resolver(io), retry(io) {
    auto u = parse_source_url(options.url, "ws", "wss");
    if (!u)
      throw std::invalid_argument("source URL must be ws://host[:port]/path or wss://...: " + loggable(options.url));
    url = std::move(*u);
    if (url.tls) tls_ctx = tls_client_context();
  }

  void connect() {
    if (stopped) return;
    resolver.async_resolve(url.host, url.port,
                           [self = shared_from_this()](beast::error_code ec, const tcp::resolver::results_type& r) {
                             if (self->stopped) return;
                             if (ec) return self->on_connection_lost("resolve", ec.message());
                             if (self->url.tls) {
                               self->secure = std::make_shared<connection<tls_ws>>(self, self->ioc, *self->tls_ctx);
                               self->secure->start(r);
                             } else {
                               self->plain = std::make_shared<connection<plain_ws>>(self, self->ioc);
                               self->plain->start(r);
                             }
                           });
  }

  template <class Conn>
  void on_open(const std::shared_ptr<Conn>& c) {
    is_connected = true;
    if (attempt > 0) ++reconnect_count;
    attempt = 0;
    common::log_info("source connected", {{"source", protocol->name()}, {"url", loggable(options.url)}});
    for (auto& m : protocol->on_open()) c->send(std::move(m));
  }

  template <class Conn>
  void on_message(const std::shared_ptr<Conn>& c, std::string_view raw) {
    const auto recv_us = common::now_us();
    last_message = recv_us;
    auto n = protocol->normalize(raw, recv_us);
    for (const auto& notice : n.notices) {
      for (auto& m : protocol->on_notice(notice)) c->send(std::move(m));
    }
    bool fatal = false;
    for (const auto& p : n.problems) fatal |= source_protocol::is_fatal(p);
    deliver(protocol->name(), recv_us, raw, std::move(n));
    if (fatal) {
      c->close();
      on_connection_lost("protocol", "the source refused authentication or subscription");
    }
  }

  void on_connection_lost(const char* step, const std::string& reason) {
    is_connected = false;
    if (stopped) return;
    const auto min_ms = static_cast<std::uint64_t>(options.reconnect_min.count());
    const auto max_ms = static_cast<std::uint64_t>(options.reconnect_max.count());
    const std::uint64_t ceiling = std::min(max_ms, min_ms << std::min(attempt, 20));
    const auto delay = std::uniform_int_distribution<std::uint64_t>(ceiling / 2, ceiling)(rng);
    ++attempt;
    common::log_warn("source connection lost; reconnecting",
                     {{"source", protocol->name()}, {"step", step}, {"reason", reason}, {"retry_in_ms", delay}});
    retry.expires_after(std::chrono::milliseconds(delay));
    retry.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->connect();
    });
  }

  void stop() {
    stopped = true;
    retry.cancel();
    resolver.cancel();
    if (plain) plain->close();
    if (secure) secure->close();
    // Break the connection <-> owner cycle; pending handlers keep a closing connection alive.
    plain.reset();
    secure.reset();
    is_connected = false;
  }
};

ws_source::ws_source(net::io_context& ioc, source_options options, std::unique_ptr<source_protocol> protocol,
                     sink on_message)
    : impl_(std::make_shared<impl>(ioc, std::move(options), std::move(protocol), std::move(on_message))) {}

ws_source::~ws_source() { impl_->stop(); }

void ws_source::start() {
  net::post(impl_->ioc, [i = impl_] { i->connect(); });
}

void ws_source::stop() { impl_->stop(); }

const std::string& ws_source::name() const noexcept { return impl_->protocol->name(); }
bool ws_source::connected() const noexcept { return impl_->is_connected.load(); }
std::int64_t ws_source::last_message_us() const noexcept { return impl_->last_message.load(); }
std::uint64_t ws_source::reconnects() const noexcept { return impl_->reconnect_count.load(); }

}  // namespace tickstream::ingest
