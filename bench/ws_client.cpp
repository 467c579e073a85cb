#include "bench/ws_client.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace tickstream::client {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

common::result<ws_url> ws_url::parse(std::string_view url) {
  constexpr std::string_view scheme = "ws://";
  if (url.substr(0, scheme.size()) != scheme) return common::error{"bad_url", "URL must start with ws://"};
  url.remove_prefix(scheme.size());
  ws_url out;
  const auto slash = url.find('/');
  const auto authority = url.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  const auto colon = authority.rfind(':');
  if (colon == std::string_view::npos) {
    out.host = std::string(authority);
    out.port = "80";
  } else {
    out.host = std::string(authority.substr(0, colon));
    out.port = std::string(authority.substr(colon + 1));
  }
  if (out.host.empty() || out.port.empty()) return common::error{"bad_url", "URL needs a host and port"};
  return out;
}

namespace {

// With TICKSTREAM_FRAME_LOG_DIR set, every text frame any client of this process receives is
// appended to <dir>/frames-<pid>.txt as "<- <json>", so a test run can check every frame the edge
// sent against the protocol's schemas (clients/contract/validate-frames.mjs).
class frame_log {
 public:
  static frame_log& instance() {
    static frame_log log;
    return log;
  }
  void record(std::string_view text) {
    if (!out_) return;
    std::lock_guard lock(mu_);
    std::fputs("<- ", out_);
    std::fwrite(text.data(), 1, text.size(), out_);
    std::fputc('\n', out_);
    std::fflush(out_);
  }

 private:
  frame_log() {
    const char* dir = std::getenv("TICKSTREAM_FRAME_LOG_DIR");
    if (dir == nullptr || *dir == '\0') return;
    const auto path = std::string(dir) + "/frames-" + std::to_string(::getpid()) + ".txt";
    out_ = std::fopen(path.c_str(), "a");
  }
  ~frame_log() {
    if (out_) std::fclose(out_);
  }
  std::mutex mu_;
  std::FILE* out_ = nullptr;
};

}  // namespace

struct ws_client::impl {
  net::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  beast::flat_buffer buffer;
  std::deque<std::string> received;
  bool is_closed = false;
  std::uint16_t code = 0;
  std::string node;

  void start_read() {
    ws.async_read(buffer, [this](beast::error_code ec, std::size_t) {
      if (ec) {
        is_closed = true;
        code = static_cast<std::uint16_t>(ws.reason().code);
        return;
      }
      received.push_back(beast::buffers_to_string(buffer.data()));
      if (ws.got_text()) frame_log::instance().record(received.back());
      buffer.consume(buffer.size());
      start_read();
    });
  }

  // Runs handlers until pred() holds or the deadline passes.
  template <class Pred>
  bool run_until(std::chrono::milliseconds timeout, Pred pred) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return false;
      ioc.restart();
      ioc.run_one_for(deadline - now);
    }
    return true;
  }
};

ws_client::ws_client(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

ws_client::~ws_client() {
  if (!impl_->is_closed) beast::get_lowest_layer(impl_->ws).close();
}

common::result<std::unique_ptr<ws_client>> ws_client::connect(
    const ws_url& url, std::chrono::milliseconds timeout,
    const std::vector<std::pair<std::string, std::string>>& headers) {
  auto p = std::make_unique<impl>();
  beast::error_code ec;
  tcp::resolver resolver(p->ioc);
  const auto endpoints = resolver.resolve(url.host, url.port, ec);
  if (ec) return common::error{"resolve_failed", ec.message()};
  auto& tcp_layer = beast::get_lowest_layer(p->ws);
  tcp_layer.expires_after(timeout);
  bool done = false;
  tcp_layer.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) {
    ec = e;
    done = true;
  });
  p->run_until(timeout + std::chrono::milliseconds(100), [&] { return done; });
  if (!done || ec) return common::error{"connect_failed", done ? ec.message() : "timed out"};

  p->ws.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
    for (const auto& [k, v] : headers) req.set(k, v);
  }));
  websocket::response_type res;
  done = false;
  p->ws.async_handshake(res, url.host + ":" + url.port, url.target, [&](beast::error_code e) {
    ec = e;
    done = true;
  });
  p->run_until(timeout + std::chrono::milliseconds(100), [&] { return done; });
  if (!done || ec) {
    return common::error{"handshake_failed",
                         (done ? ec.message() : std::string("timed out")) + " (HTTP " +
                             std::to_string(res.result_int()) + ")" + (res.body().empty() ? "" : ": " + res.body())};
  }
  tcp_layer.expires_never();
  if (const auto it = res.find("X-Tickstream-Node"); it != res.end()) p->node = std::string(it->value());
  p->start_read();
  return std::unique_ptr<ws_client>(new ws_client(std::move(p)));
}

bool ws_client::send(std::string_view text, bool binary) {
  if (impl_->is_closed) return false;
  impl_->ws.binary(binary);
  bool done = false;
  beast::error_code ec;
  impl_->ws.async_write(net::buffer(text.data(), text.size()), [&](beast::error_code e, std::size_t) {
    ec = e;
    done = true;
  });
  impl_->run_until(std::chrono::seconds(10), [&] { return done; });
  return done && !ec;
}

std::optional<std::string> ws_client::next(std::chrono::milliseconds timeout) {
  impl_->run_until(timeout, [&] { return !impl_->received.empty() || impl_->is_closed; });
  if (impl_->received.empty()) return std::nullopt;
  auto out = std::move(impl_->received.front());
  impl_->received.pop_front();
  return out;
}

bool ws_client::closed() const noexcept { return impl_->is_closed; }

std::uint16_t ws_client::close_code() const noexcept { return impl_->code; }

const std::string& ws_client::node() const noexcept { return impl_->node; }

void ws_client::close() {
  if (impl_->is_closed) return;
  bool done = false;
  impl_->ws.async_close(websocket::close_code::normal, [&](beast::error_code) { done = true; });
  impl_->run_until(std::chrono::seconds(2), [&] { return done && impl_->is_closed; });
}

std::string http_reply::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (beast::iequals(k, name)) return v;
  }
  return {};
}

common::result<http_reply> http_get(const std::string& host, const std::string& port, const std::string& target,
                                    std::chrono::milliseconds timeout,
                                    const std::vector<std::pair<std::string, std::string>>& headers) {
  return http_request(host, port, "GET", target, timeout, headers);
}

common::result<http_reply> http_request(const std::string& host, const std::string& port, std::string_view method,
                                        const std::string& target, std::chrono::milliseconds timeout,
                                        const std::vector<std::pair<std::string, std::string>>& headers,
                                        const std::string& body) {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  tcp::resolver resolver(ioc);
  beast::error_code ec;
  const auto endpoints = resolver.resolve(host, port, ec);
  if (ec) return common::error{"resolve_failed", ec.message()};
  stream.expires_after(timeout);
  stream.connect(endpoints, ec);
  if (ec) return common::error{"connect_failed", ec.message()};
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, host);
  for (const auto& [name, value] : headers) req.set(name, value);
  req.keep_alive(false);
  req.body() = body;
  if (!body.empty() || req.method() == http::verb::post) req.prepare_payload();
  http::write(stream, req, ec);
  if (ec) return common::error{"write_failed", ec.message()};
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(stream, buf, res, ec);
  if (ec && ec != http::error::end_of_stream) return common::error{"read_failed", ec.message()};
  http_reply out{res.result_int(), res.body(), {}};
  for (const auto& f : res) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  return out;
}

}  // namespace tickstream::client
