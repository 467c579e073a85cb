#include "edge/ws_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/websocket/error.hpp>

#include <unordered_set>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "common/symbol.hpp"
#include "edge/worker.hpp"

namespace tickstream::edge {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace http = beast::http;

ws_session::ws_session(beast::tcp_stream&& stream, worker& w, services& svc)
    : ws_(std::move(stream)), worker_(w), svc_(svc), limits_(svc.limits), metrics_(svc.metrics) {}

ws_session::~ws_session() {
  if (!registered_) return;
  worker_.remove_session(this);
  metrics_.connections.Decrement();
  metrics_.disconnect(end_reason_);
}

void ws_session::run(http::request<http::string_body> req) {
  // The WebSocket layer owns timeouts from here on; the TCP stream's own timer must be off.
  beast::get_lowest_layer(ws_).expires_never();
  websocket::stream_base::timeout t{};
  t.handshake_timeout = limits_.handshake_timeout;
  t.idle_timeout = limits_.idle_timeout;
  t.keep_alive_pings = true;
  ws_.set_option(t);
  ws_.set_option(websocket::stream_base::decorator([this](websocket::response_type& res) {
    res.set(http::field::server, "tickstream-edge");
    res.set("X-Tickstream-Node", svc_.node_id);
  }));
  ws_.read_message_max(limits_.max_message_bytes);
  ws_.async_accept(req, beast::bind_front_handler(&ws_session::on_accept, shared_from_this()));
}

void ws_session::on_accept(beast::error_code ec) {
  if (ec) {
    metrics_.rejected_upgrade("handshake_failed");
    common::log_info("websocket handshake failed", {{"reason", ec.message()}});
    return;
  }
  registered_ = true;
  worker_.add_session(this);
  metrics_.connections.Increment();
  metrics_.connections_accepted.Increment();
  do_read();
}

void ws_session::do_read() {
  ws_.async_read(buffer_, beast::bind_front_handler(&ws_session::on_read, shared_from_this()));
}

void ws_session::on_read(beast::error_code ec, std::size_t) {
  if (ec) {
    if (ec == websocket::error::message_too_big) {
      end_reason_ = "message_too_big";
      metrics_.client_error("message_too_big");
      common::log_warn("client message too big; closed with 1009",
                       {{"worker", worker_.id()}, {"limit_bytes", limits_.max_message_bytes}});
    } else if (ec == beast::error::timeout) {
      end_reason_ = "timeout";
    } else if (ec != websocket::error::closed && !closing_) {
      end_reason_ = "network_error";
    }
    return;  // no more reads; the session ends when its last operation completes
  }
  if (!ws_.got_text()) {
    fail("binary_not_supported", "send JSON text frames; binary frames are not accepted");
  } else {
    const auto data = buffer_.cdata();
    handle_message(std::string_view(static_cast<const char*>(data.data()), data.size()));
  }
  buffer_.consume(buffer_.size());
  do_read();
}

void ws_session::handle_message(std::string_view text) {
  auto msg = parse_client_message(text);
  if (!msg) {
    common::log_info("bad client message", {{"worker", worker_.id()}, {"code", msg.err().code},
                                            {"reason", msg.err().message}, {"excerpt", common::excerpt(text, 80)}});
    fail(msg.err().code, msg.err().message);
    return;
  }
  if (auto* sub = std::get_if<subscription_request>(&msg.value())) {
    handle_subscription(*sub);
  } else if (auto* ping = std::get_if<ping_request>(&msg.value())) {
    reply(render_pong(ping->id_json, common::now_us()));
  }
}

void ws_session::handle_subscription(subscription_request& req) {
  std::vector<rejection> rejected;
  for (auto& ch : req.channels) {
    rejected.push_back({std::move(ch), "channel_unavailable", "private channels are not served by this edge version"});
  }
  std::vector<std::string> symbols;
  std::unordered_set<std::string> seen;
  for (auto& raw : req.symbols) {
    auto sym = common::normalize_symbol(raw);
    if (!sym) {
      rejected.push_back({std::move(raw), sym.err().code, sym.err().message});
      continue;
    }
    if (!seen.insert(sym.value()).second) continue;
    symbols.push_back(std::move(sym).value());
  }

  if (!req.subscribe) {
    std::vector<std::string> removed;
    for (auto& s : symbols) {
      if (worker_.unsubscribe(this, s)) removed.push_back(std::move(s));
    }
    reply(render_unsubscribed(removed));
    return;
  }

  // The confirmation goes out once Redis has confirmed every accepted symbol, so a client may
  // rely on receiving every tick published after it reads "subscribed".
  struct confirmation {
    std::vector<std::string> accepted;
    std::vector<rejection> rejected;
    std::size_t remaining = 1;  // +1 guard until every symbol has been handed to the worker
  };
  auto pending = std::make_shared<confirmation>();
  pending->rejected = std::move(rejected);
  std::weak_ptr<ws_session> weak = shared_from_this();
  auto done = [weak, pending] {
    if (--pending->remaining != 0) return;
    if (auto self = weak.lock()) self->reply(render_subscribed(pending->accepted, pending->rejected));
  };
  for (auto& s : symbols) {
    if (worker_.subscription_count(this) >= limits_.max_subscriptions) {
      metrics_.client_error("too_many_subscriptions");
      pending->rejected.push_back({s, "too_many_subscriptions",
                                   "a connection may hold at most " + std::to_string(limits_.max_subscriptions) +
                                       " subscriptions"});
      continue;
    }
    pending->accepted.push_back(s);
    ++pending->remaining;
    worker_.subscribe(this, s, done);
  }
  done();  // drop the guard
}

void ws_session::reply(std::string text) { send(make_frame({}, std::move(text))); }

void ws_session::fail(std::string code, std::string message) {
  metrics_.client_error(code);
  reply(render_error(code, message));
}

void ws_session::send(const frame_ptr& f) {
  if (closing_) return;
  if (queue_.size() >= limits_.max_queued_frames || queued_bytes_ + f->bytes.size() > limits_.max_queued_bytes) {
    end_reason_ = "slow_consumer";
    common::log_warn("slow consumer: outbound queue full, closing with 4008",
                     {{"worker", worker_.id()}, {"queued_frames", queue_.size()}, {"queued_bytes", queued_bytes_}});
    close(close_slow_consumer, "slow consumer: outbound queue full");
    return;
  }
  queue_.push_back(f);
  queued_bytes_ += f->bytes.size();
  if (!writing_) do_write();
}

void ws_session::do_write() {
  writing_ = true;
  ws_.text(true);
  ws_.async_write(boost::asio::buffer(queue_.front()->bytes),
                  beast::bind_front_handler(&ws_session::on_write, shared_from_this()));
}

void ws_session::on_write(beast::error_code ec, std::size_t) {
  writing_ = false;
  queued_bytes_ -= queue_.front()->bytes.size();
  queue_.pop_front();
  if (ec) {
    // The stream is unusable; closing the socket also ends the pending read.
    queue_.clear();
    queued_bytes_ = 0;
    closing_ = true;
    beast::get_lowest_layer(ws_).close();
    return;
  }
  if (!queue_.empty()) {
    do_write();
  } else if (closing_ && !close_sent_) {
    do_close();
  }
}

void ws_session::shutdown() {
  end_reason_ = "edge_shutdown";
  close(static_cast<unsigned short>(websocket::close_code::going_away), "edge shutting down");
}

void ws_session::close(unsigned short code, std::string reason) {
  if (closing_) return;
  closing_ = true;
  close_code_ = code;
  close_reason_ = std::move(reason);
  // Keep only the frame being written; nothing else will be sent.
  while (queue_.size() > (writing_ ? 1U : 0U)) {
    queued_bytes_ -= queue_.back()->bytes.size();
    queue_.pop_back();
  }
  if (!writing_) do_close();
}

void ws_session::do_close() {
  close_sent_ = true;
  websocket::close_reason cr(close_code_);
  cr.reason = close_reason_;
  ws_.async_close(cr, [self = shared_from_this()](beast::error_code) {
    // The pending read completes with "closed"; the session then ends.
  });
}

}  // namespace tickstream::edge
