#include "bench/ws_client_tls.hpp"

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>

#include "bench/ws_transport.hpp"

namespace tickstream::client {

namespace beast = boost::beast;
namespace ssl = boost::asio::ssl;

namespace {

// The transport owns its TLS context (a client makes one connection).
class tls_transport {
 public:
  explicit tls_transport(const tls_options& o) : ctx_(ssl::context::tls_client) {
    ctx_.set_verify_mode(o.insecure ? ssl::verify_none : ssl::verify_peer);
    if (o.ca_file.empty()) {
      ctx_.set_default_verify_paths();
    } else {
      ctx_.load_verify_file(o.ca_file);
    }
  }
  ssl::context ctx_;
};

}  // namespace

common::result<std::unique_ptr<ws_client>> connect_tls(const ws_url& url, std::chrono::milliseconds timeout,
                                                       const std::vector<std::pair<std::string, std::string>>& headers,
                                                       const tls_options& tls) {
  using stream = beast::ssl_stream<beast::tcp_stream>;
  auto holder = std::make_shared<tls_transport>(tls);
  struct owned final : ws_client::transport {
    std::shared_ptr<tls_transport> tls;  // outlives the stream that refers to its context
    basic_transport<stream> inner;
    explicit owned(std::shared_ptr<tls_transport> t) : tls(std::move(t)), inner(tls->ctx_) {}
    bool send(std::string_view text, bool binary) override { return inner.send(text, binary); }
    std::optional<std::string> next(std::chrono::milliseconds t) override { return inner.next(t); }
    bool closed() const noexcept override { return inner.closed(); }
    std::uint16_t close_code() const noexcept override { return inner.close_code(); }
    const std::string& node() const noexcept override { return inner.node(); }
    void close() override { inner.close(); }
  };
  auto t = std::make_unique<owned>(holder);
  const auto failed = t->inner.open(url, timeout, headers, [&](stream& s) {
    beast::error_code ec;
    // SNI, and the certificate must name the host (RFC 6125 matching by OpenSSL).
    if (!SSL_set_tlsext_host_name(s.native_handle(), url.host.c_str())) {
      return beast::error_code(static_cast<int>(::ERR_get_error()), boost::asio::error::get_ssl_category());
    }
    if (!tls.insecure) s.set_verify_callback(ssl::host_name_verification(url.host));
    bool done = false;
    s.async_handshake(ssl::stream_base::client, [&](beast::error_code e) {
      ec = e;
      done = true;
    });
    t->inner.run_until(timeout, [&] { return done; });
    return done ? ec : beast::error_code(boost::asio::error::timed_out);
  });
  if (!failed.empty()) {
    const auto colon = failed.find(": ");
    return common::error{failed.substr(0, colon), failed.substr(colon + 2)};
  }
  return std::make_unique<ws_client>(std::move(t));
}

}  // namespace tickstream::client
