#include "bench/ws_client.hpp"
#include "bench/ws_transport.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
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
  ws_url out;
  if (url.starts_with("wss://")) {
    out.tls = true;
    url.remove_prefix(6);
  } else if (url.starts_with("ws://")) {
    url.remove_prefix(5);
  } else {
    return common::error{"bad_url", "URL must start with ws:// or wss://"};
  }
  const auto slash = url.find('/');
  const auto authority = url.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  const auto colon = authority.rfind(':');
  if (colon == std::string_view::npos) {
    out.host = std::string(authority);
    out.port = out.tls ? "443" : "80";
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

namespace {

// With TICKSTREAM_FRAME_LOG_DIR set, every HTTP answer http_request() receives is appended to
// <dir>/http-<pid>.jsonl as {"method","target","status","content_type","body"}, so a test run
// can check every real response against docs/openapi.yaml (clients/contract/validate-http.mjs).
class http_log {
 public:
  static http_log& instance() {
    static http_log log;
    return log;
  }
  void record(std::string_view method, std::string_view target, unsigned status, std::string_view content_type,
              std::string_view body) {
    if (!out_) return;
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    const auto field = [&w](const char* k, std::string_view v) {
      w.Key(k);
      w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    };
    w.StartObject();
    field("method", method);
    field("target", target);
    w.Key("status");
    w.Uint(status);
    field("content_type", content_type);
    field("body", body);
    w.EndObject();
    std::lock_guard lock(mu_);
    std::fwrite(buf.GetString(), 1, buf.GetSize(), out_);
    std::fputc('\n', out_);
    std::fflush(out_);
  }

 private:
  http_log() {
    const char* dir = std::getenv("TICKSTREAM_FRAME_LOG_DIR");
    if (dir == nullptr || *dir == '\0') return;
    const auto path = std::string(dir) + "/http-" + std::to_string(::getpid()) + ".jsonl";
    out_ = std::fopen(path.c_str(), "a");
  }
  ~http_log() {
    if (out_) std::fclose(out_);
  }
  std::mutex mu_;
  std::FILE* out_ = nullptr;
};

}  // namespace

void record_received_frame(std::string_view text) { frame_log::instance().record(text); }

ws_client::ws_client(std::unique_ptr<transport> t) : t_(std::move(t)) {}

ws_client::~ws_client() = default;

common::result<std::unique_ptr<ws_client>> ws_client::connect(
    const ws_url& url, std::chrono::milliseconds timeout,
    const std::vector<std::pair<std::string, std::string>>& headers, bool deflate) {
  if (url.tls) return common::error{"bad_url", "wss:// needs connect_tls (bench/ws_client_tls.hpp)"};
  auto t = std::make_unique<basic_transport<beast::tcp_stream>>();
  if (deflate) {
    websocket::permessage_deflate opt;
    opt.client_enable = true;
    t->stream().set_option(opt);
  }
  if (auto failed = t->open(url, timeout, headers); !failed.empty()) {
    const auto colon = failed.find(": ");
    return common::error{failed.substr(0, colon), failed.substr(colon + 2)};
  }
  return std::make_unique<ws_client>(std::move(t));
}

bool ws_client::send(std::string_view text, bool binary) { return t_->send(text, binary); }
std::optional<std::string> ws_client::next(std::chrono::milliseconds timeout) { return t_->next(timeout); }
bool ws_client::closed() const noexcept { return t_->closed(); }
std::uint16_t ws_client::close_code() const noexcept { return t_->close_code(); }
const std::string& ws_client::node() const noexcept { return t_->node(); }
void ws_client::close() { t_->close(); }

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
  http_log::instance().record(method, target, out.status, res[http::field::content_type], out.body);
  return out;
}

}  // namespace tickstream::client
