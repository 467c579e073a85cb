#include "ingest/sources/http_get.hpp"

#include <openssl/evp.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <memory>
#include <optional>

#include "ingest/sources/source_url.hpp"
#include "ingest/sources/tls_client_context.hpp"

namespace tickstream::ingest {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

// One request's state, kept alive by the pending operation's handler.
template <class Stream>
struct request_op : std::enable_shared_from_this<request_op<Stream>> {
  std::shared_ptr<net::ssl::context> tls_ctx;  // outlives the stream (https only)
  tcp::resolver resolver;
  Stream stream;
  source_url url;
  std::chrono::milliseconds timeout;
  http::request<http::empty_body> req;
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  std::function<void(common::result<http_reply>)> done;

  template <class... Args>
  request_op(net::io_context& ioc, std::shared_ptr<net::ssl::context> ctx, Args&&... args)
      : tls_ctx(std::move(ctx)), resolver(ioc), stream(std::forward<Args>(args)...) {}

  void fail(const char* step, const beast::error_code& ec) {
    if (!done) return;
    auto d = std::move(done);
    done = nullptr;
    if (ec == beast::error::timeout) return d(common::error{"timeout", std::string(step) + " timed out"});
    d(common::error{"http_failed", std::string(step) + ": " + ec.message()});
  }

  void run() {
    resolver.async_resolve(url.host, url.port,
                           [self = this->shared_from_this()](beast::error_code ec, tcp::resolver::results_type r) {
                             if (ec) return self->fail("resolve", ec);
                             auto& layer = beast::get_lowest_layer(self->stream);
                             layer.expires_after(self->timeout);
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
      http::async_read(self->stream, self->buffer, self->res, [self](beast::error_code ec2, std::size_t) {
        if (ec2) return self->fail("read", ec2);
        if (!self->done) return;
        auto d = std::move(self->done);
        self->done = nullptr;
        d(http_reply{self->res.result_int(), std::move(self->res.body())});
        beast::error_code ignored;
        beast::get_lowest_layer(self->stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
      });
    });
  }
};

template <class Stream, class... Args>
void start(net::io_context& ioc, std::shared_ptr<net::ssl::context> ctx, const source_url& url,
           const std::vector<std::pair<std::string, std::string>>& headers, std::chrono::milliseconds timeout,
           const std::function<void(common::result<http_reply>)>& done, Args&&... args) {
  auto op = std::make_shared<request_op<Stream>>(ioc, std::move(ctx), std::forward<Args>(args)...);
  op->url = url;
  op->timeout = timeout;
  op->done = done;
  op->req = {http::verb::get, op->url.target, 11};
  op->req.set(http::field::host, op->url.host);
  op->req.set(http::field::accept, "application/json");
  op->req.set(http::field::connection, "close");
  for (const auto& [k, v] : headers) op->req.set(k, v);
  op->run();
}

}  // namespace

void http_get(net::io_context& ioc, const std::string& url,
              const std::vector<std::pair<std::string, std::string>>& headers, std::chrono::milliseconds timeout,
              const std::function<void(common::result<http_reply>)>& done) {
  auto u = parse_source_url(url, "http", "https");
  if (!u) return done(common::error{"bad_url", "a REST URL must be http://host[:port]/path or https://..."});
  if (u->tls) {
    auto ctx = tls_client_context();
    auto& c = *ctx;
    start<beast::ssl_stream<beast::tcp_stream>>(ioc, std::move(ctx), *u, headers, timeout, done, ioc, c);
  } else {
    start<beast::tcp_stream>(ioc, nullptr, *u, headers, timeout, done, ioc);
  }
}

std::string basic_authorization(const std::string& key, const std::string& secret) {
  const std::string plain = key + ":" + secret;
  std::string out(4 * ((plain.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(plain.data()), static_cast<int>(plain.size()));
  out.resize(static_cast<std::size_t>(n));
  return "Basic " + out;
}

}  // namespace tickstream::ingest
