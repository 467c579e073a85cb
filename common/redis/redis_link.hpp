#pragma once
// Internal to the Redis I/O shells (redis_client.cpp, redis_cluster_client.cpp), the only two
// files that include it: one connection to one Redis node on the caller's io_context, over TCP or
// TLS, with its pipeline. It holds Asio types, so it stays out of every public header.

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/redis/redis_pipeline.hpp"
#include "common/redis/resp.hpp"

namespace tickstream::common::detail {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// One script call, "<verb> <script> <numkeys> <keys...> <args...>", from its already encoded tail
// (numkeys, keys and args: argc - 2 bulk strings).
inline std::string format_script_call(std::string_view verb, std::string_view script, std::size_t argc,
                                      std::string_view tail) {
  std::string out;
  out.reserve(32 + script.size() + tail.size());
  append_resp_array_header(out, argc);
  append_resp_bulk(out, verb);
  append_resp_bulk(out, script);
  out += tail;
  return out;
}

// One connection's life, from resolving the host to the socket's close: a TCP or TLS stream, its
// pipeline, one read always pending and at most one write. The owner (the client's impl) is told
// when it is open, when bytes were read (it drains pipeline().next()), and once when it is closed.
// Threading: the Redis thread only. Pending operations hold the link alive (shared_from_this).
class redis_link : public std::enable_shared_from_this<redis_link> {
 public:
  struct hooks {
    std::function<void()> opened;
    std::function<void()> readable;
    std::function<void(const std::string&)> closed;
  };

  redis_link(asio::io_context& ioc, ssl::context* tls, bool subscriber, hooks h)
      : resolver_(ioc), timer_(ioc), pipeline_(subscriber), hooks_(std::move(h)) {
    if (tls != nullptr) {
      tls_.emplace(ioc, *tls);
    } else {
      socket_.emplace(ioc);
    }
  }

  redis_pipeline& pipeline() noexcept { return pipeline_; }
  bool closed() const noexcept { return closed_; }

  // Resolves and connects (and, with TLS, completes the handshake checking server_name) within
  // timeout; then opened, or closed with the reason.
  void open(const std::string& host, int port, const std::string& server_name, std::chrono::milliseconds timeout) {
    auto self = shared_from_this();
    timer_.expires_after(timeout);
    timer_.async_wait([self](error_code ec) {
      if (!ec && !self->closed_ && !self->open_) self->close("connect timed out");
    });
    if (tls_) {
      // SNI (for a name, not an address), and the name or address the certificate must carry.
      error_code not_an_address;
      (void)asio::ip::make_address(server_name, not_an_address);
      if (not_an_address && SSL_set_tlsext_host_name(tls_->native_handle(), server_name.c_str()) != 1) {
        return close("cannot set the TLS server name");
      }
      tls_->set_verify_callback(
          [check = ssl::host_name_verification(server_name)](bool preverified, ssl::verify_context& ctx) mutable {
            if (!preverified) return false;
            if (check(preverified, ctx)) return true;
            // Say why, rather than OpenSSL's "unspecified certificate verification error".
            X509_STORE_CTX_set_error(ctx.native_handle(), X509_V_ERR_HOSTNAME_MISMATCH);
            return false;
          });
    }
    resolver_.async_resolve(host, std::to_string(port), [self](error_code ec, const tcp::resolver::results_type& r) {
      if (self->closed_) return;
      if (ec) return self->close("cannot resolve: " + ec.message());
      asio::async_connect(self->lowest(), r, [self](error_code ec2, const tcp::endpoint&) {
        if (self->closed_) return;
        if (ec2) return self->close("connect failed: " + ec2.message());
        self->lowest().set_option(tcp::no_delay(true), ec2);
        if (!self->tls_) return self->on_open();
        self->tls_->async_handshake(ssl::stream_base::client, [self](error_code ec3) {
          if (self->closed_) return;
          if (ec3) return self->close("TLS handshake failed: " + self->tls_reason(ec3));
          self->on_open();
        });
      });
    });
  }

  // Writes whatever the pipeline holds, unless a write is in flight (its completion writes the rest).
  void flush() {
    if (writing_ || closed_ || !open_ || pipeline_.output().empty()) return;
    writing_ = true;
    out_.clear();
    out_.swap(pipeline_.output());
    auto on_written = [self = shared_from_this()](error_code ec, std::size_t) {
      self->writing_ = false;
      if (self->closed_) return;
      if (ec) return self->close("write failed: " + ec.message());
      self->flush();
    };
    if (tls_) {
      asio::async_write(*tls_, asio::buffer(out_), std::move(on_written));
    } else {
      asio::async_write(*socket_, asio::buffer(out_), std::move(on_written));
    }
  }

  // Closes the socket (pending operations complete as aborted) and tells the owner once.
  void close(const std::string& reason) {
    if (closed_) return;
    auto self = shared_from_this();  // the owner may drop its reference in closed()
    closed_ = true;
    timer_.cancel();
    resolver_.cancel();
    error_code ignored;
    lowest().close(ignored);
    if (hooks_.closed) hooks_.closed(reason);
  }

 private:
  tcp::socket& lowest() { return tls_ ? tls_->next_layer() : *socket_; }

  // e.g. "certificate verify failed: Hostname mismatch".
  std::string tls_reason(const error_code& ec) {
    std::string out = ec.message();
    const long verdict = SSL_get_verify_result(tls_->native_handle());
    if (verdict != X509_V_OK) {
      out += ": ";
      out += X509_verify_cert_error_string(verdict);
    }
    return out;
  }

  void on_open() {
    open_ = true;
    timer_.cancel();
    if (hooks_.opened) hooks_.opened();
    if (closed_) return;
    read();
    flush();
  }

  void read() {
    auto on_read = [self = shared_from_this()](error_code ec, std::size_t n) {
      if (self->closed_) return;
      if (ec) return self->close(ec == asio::error::eof ? "closed by Redis" : "read failed: " + ec.message());
      try {
        self->pipeline_.feed(std::string_view(self->in_.data(), n));
        if (self->hooks_.readable) self->hooks_.readable();
      } catch (const std::exception& e) {
        // A handler of a reply or message threw (on a worker's loop, one that goes on running):
        // what was read is in an unknown state, so the connection starts again (and resubscribes)
        // rather than stop being read.
        return self->close(std::string("a reply handler threw: ") + e.what());
      }
      if (self->closed_) return;
      self->read();
    };
    if (tls_) {
      tls_->async_read_some(asio::buffer(in_), std::move(on_read));
    } else {
      socket_->async_read_some(asio::buffer(in_), std::move(on_read));
    }
  }

  tcp::resolver resolver_;
  asio::steady_timer timer_;  // the connect timeout
  std::optional<tcp::socket> socket_;
  std::optional<ssl::stream<tcp::socket>> tls_;
  redis_pipeline pipeline_;
  hooks hooks_;
  std::array<char, 64 * 1024> in_{};
  std::string out_;  // being written
  bool open_ = false;
  bool writing_ = false;
  bool closed_ = false;
};

}  // namespace tickstream::common::detail
