#pragma once
// A fake Alpaca Broker API for tests: real HTTP over loopback, each connection on its own thread,
// every request checked for HTTP Basic auth.
//
// The trade events stream (GET /v2/events/trades, Server-Sent Events): it holds a list of events
// (id and data), and on each connection sends the events after the since_id it is given (none
// without one: live only, as Alpaca does), from `overlap` events before it, so a consumer must
// de-duplicate. Events go out in two writes each (the split lands mid-line), with heartbeat
// comments between them. `hold_after` stops sending after that many events until release() (or
// the client leaves), so a test can act in the middle of the stream; drop_streams() closes the
// open connections.
//
// The REST routes (GET /v1/trading/accounts/<id>/account, .../positions, .../orders?...): the
// body a test set for the request target with set() (a JSON reply, 200), 404 otherwise, one
// request per connection.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tickstream::test {

class fake_sse_broker {
 public:
  struct event {
    std::string id;
    std::string data;  // sent as one data line, or as many as it has lines
  };

  fake_sse_broker(std::string basic_auth, std::vector<event> events)
      : auth_(std::move(basic_auth)),
        events_(std::move(events)),
        acceptor_(ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] { serve(); });
  }
  ~fake_sse_broker() {
    stop_ = true;
    boost::system::error_code ec;
    boost::asio::ip::tcp::socket poke(ioc_);
    poke.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
    std::vector<std::thread> connections;
    {
      std::lock_guard lock(mu_);
      connections.swap(connections_);
    }
    for (auto& t : connections) t.join();
  }
  fake_sse_broker(const fake_sse_broker&) = delete;
  fake_sse_broker& operator=(const fake_sse_broker&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }
  // Events sent on one connection before it waits for release() (0: no wait).
  void hold_after(std::size_t n) { hold_after_ = n; }
  void release() { released_ = true; }
  // Closes every event stream connection open now (the client reconnects).
  void drop_streams() { ++generation_; }
  int overlap = 2;

  // The event stream's request targets seen, one per connection (e.g.
  // "/v2/events/trades?since_id=01J...").
  std::vector<std::string> targets() {
    std::lock_guard lock(mu_);
    return targets_;
  }
  // A REST route's reply: GET target answers 200 with body.
  void set(const std::string& target, std::string body) {
    std::lock_guard lock(mu_);
    bodies_[target] = std::move(body);
  }
  // REST requests answered (any status), and those of one target.
  std::size_t rest_requests() {
    std::lock_guard lock(mu_);
    return rest_requests_;
  }
  std::size_t rest_requests(const std::string& target) {
    std::lock_guard lock(mu_);
    const auto it = rest_targets_.find(target);
    return it == rest_targets_.end() ? 0 : it->second;
  }
  std::size_t sent() const { return sent_.load(); }  // events written, all connections

 private:
  void serve() {
    while (!stop_) {
      boost::asio::ip::tcp::socket sock(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(sock, ec);
      if (ec || stop_) return;
      std::lock_guard lock(mu_);
      connections_.emplace_back([this, s = std::move(sock)]() mutable { serve_one(s); });
    }
  }

  void serve_one(boost::asio::ip::tcp::socket& sock) {
    namespace http = boost::beast::http;
    boost::system::error_code ec;
    boost::beast::flat_buffer buf;
    http::request<http::empty_body> req;
    http::read(sock, buf, req, ec);
    if (ec) return;
    const std::string target(req.target());
    const bool events = target.starts_with("/v2/events/");
    {
      std::lock_guard lock(mu_);
      if (events) {
        targets_.push_back(target);
      } else {
        ++rest_requests_;
        ++rest_targets_[target];
      }
    }
    if (req[http::field::authorization] != auth_) {
      const std::string refused = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      boost::asio::write(sock, boost::asio::buffer(refused), ec);
      return;
    }
    if (!events) return serve_rest(sock, target);
    const auto generation = generation_.load();
    const auto dropped = [&] { return generation_.load() != generation; };
    std::size_t start = events_.size();  // live only
    if (const auto at = target.find("since_id="); at != std::string::npos) {
      const auto since = target.substr(at + 9);
      start = 0;
      for (std::size_t i = 0; i < events_.size(); ++i) {
        if (events_[i].id == since) start = i + 1 > static_cast<std::size_t>(overlap) ? i + 1 - overlap : 0;
      }
    }
    const std::string head =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n"
        ":heartbeat\r\n";
    boost::asio::write(sock, boost::asio::buffer(head), ec);
    for (std::size_t i = start; i < events_.size() && !ec && !stop_ && !dropped(); ++i) {
      if (hold_after_ != 0 && i == hold_after_) {
        while (!released_ && !stop_ && !ec && !dropped()) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
          boost::asio::write(sock, boost::asio::buffer(std::string(":heartbeat\n")), ec);
        }
      }
      std::string text = "id: " + events_[i].id + "\n";
      std::size_t from = 0;
      while (from <= events_[i].data.size()) {
        auto nl = events_[i].data.find('\n', from);
        if (nl == std::string::npos) nl = events_[i].data.size();
        text += "data: " + events_[i].data.substr(from, nl - from) + "\n";
        from = nl + 1;
      }
      text += "\n";
      const auto half = text.size() / 2;
      boost::asio::write(sock, boost::asio::buffer(text.data(), half), ec);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      boost::asio::write(sock, boost::asio::buffer(text.data() + half, text.size() - half), ec);
      if (!ec) ++sent_;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    // Then heartbeats until the client leaves (or the test drops the connection).
    while (!ec && !stop_ && !dropped()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      boost::asio::write(sock, boost::asio::buffer(std::string(": heartbeat\n")), ec);
    }
  }

  void serve_rest(boost::asio::ip::tcp::socket& sock, const std::string& target) {
    namespace http = boost::beast::http;
    http::response<http::string_body> res;
    res.version(11);
    {
      std::lock_guard lock(mu_);
      const auto it = bodies_.find(target);
      if (it == bodies_.end()) {
        res.result(http::status::not_found);
        res.body() = R"({"code":40410000,"message":"resource not found"})";
      } else {
        res.result(http::status::ok);
        res.body() = it->second;
      }
    }
    res.set(http::field::content_type, "application/json");
    res.keep_alive(false);
    res.prepare_payload();
    boost::system::error_code ec;
    http::write(sock, res, ec);
  }

  std::string auth_;
  std::vector<event> events_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::atomic<std::size_t> hold_after_{0};
  std::atomic<bool> released_{false};
  std::atomic<bool> stop_{false};
  std::atomic<int> generation_{0};
  std::atomic<std::size_t> sent_{0};
  std::mutex mu_;
  std::vector<std::string> targets_;
  std::map<std::string, std::string> bodies_;
  std::map<std::string, std::size_t> rest_targets_;
  std::size_t rest_requests_ = 0;
  std::vector<std::thread> connections_;
  std::thread thread_;
};

}  // namespace tickstream::test
