#include "ingest/sources/broker_event_stream.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/log.hpp"
#include "ingest/sources/event_cursor.hpp"
#include "ingest/sources/http_get.hpp"

namespace tickstream::ingest {

namespace net = boost::asio;

namespace {

// A ULID (or any id) is safe in a query as it is; anything else is percent-encoded.
std::string query_escape(std::string_view v) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : v) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace

struct broker_event_stream::impl : std::enable_shared_from_this<impl> {
  net::io_context& ioc;
  options opt;
  common::redis_client& redis;
  account_lookup users;
  publish_fn publish;
  reject_fn reject;
  event_cursor cursor;
  std::unique_ptr<sse_source> source;
  net::steady_timer retry;
  bool stopped = false;
  std::uint64_t connections = 0;  // on the loop's thread

  impl(net::io_context& io, options o, common::redis_client& r, account_lookup u, publish_fn p, reject_fn j)
      : ioc(io),
        opt(std::move(o)),
        redis(r),
        users(std::move(u)),
        publish(std::move(p)),
        reject(std::move(j)),
        retry(io) {}

  void make_source() {
    sse_source_options so;
    so.name = std::string(broker_events_source);
    so.url = opt.url + "/v2/events/trades";
    so.headers = {{"Authorization", basic_authorization(opt.key, opt.secret)}};
    so.reconnect_min = opt.reconnect_min;
    so.reconnect_max = opt.reconnect_max;
    so.idle_timeout = opt.idle_timeout;
    std::weak_ptr<impl> weak = shared_from_this();
    sse_source::sinks s;
    s.event = [weak](sse_event&& e, std::int64_t recv_us) {
      if (auto self = weak.lock()) self->on_event(e, recv_us);
    };
    s.comment = [weak](const std::string& c) {
      if (auto self = weak.lock()) self->on_comment(c);
    };
    s.problem = [weak](const common::error& e, std::int64_t recv_us) {
      if (auto self = weak.lock()) self->reject(e, {}, recv_us);
    };
    s.connected = [weak] {
      if (auto self = weak.lock()) {
        // What was in flight on the last connection completes (or not) on its own; the stream
        // starts again from the kept cursor, and the store drops what it already has.
        self->cursor.restart();
        ++self->connections;
        common::log_info("broker event stream connected", {{"since_id", self->cursor.committed()}});
      }
    };
    source = std::make_unique<sse_source>(
        ioc, std::move(so),
        [weak]() -> std::string {
          auto self = weak.lock();
          if (!self || self->cursor.committed().empty()) return {};
          return "since_id=" + query_escape(self->cursor.committed());
        },
        std::move(s));
  }

  // Reads the kept cursor; connects once Redis has answered (retried every second until then).
  void read_cursor() {
    if (stopped) return;
    redis.command({"GET", opt.cursor_key}, [weak = weak_from_this()](common::result<common::redis_reply> r) {
      auto self = weak.lock();
      if (!self) return;
      net::post(self->ioc, [self, r = std::move(r)]() mutable {
        if (self->stopped) return;
        if (!r || r->type == common::redis_reply::kind::error) {
          common::log_warn("cannot read the broker event stream's cursor from Redis; retrying",
                           {{"key", self->opt.cursor_key}, {"reason", r ? r->str : r.err().message}});
          self->retry.expires_after(std::chrono::seconds(1));
          self->retry.async_wait([self](const boost::system::error_code& ec) {
            if (!ec) self->read_cursor();
          });
          return;
        }
        if (r->type == common::redis_reply::kind::string) self->cursor = event_cursor(r->str);
        common::log_info(
            "broker event stream starting",
            {{"since_id", self->cursor.committed().empty() ? std::string("(live only)") : self->cursor.committed()}});
        self->source->start();
      });
    });
  }

  void on_comment(const std::string& c) {
    if (c.find("dropped") == std::string::npos) return;  // heartbeats and the like
    common::log_warn("the broker dropped events for this consumer; reading again from the kept cursor",
                     {{"comment", c}, {"since_id", cursor.committed()}});
    source->reconnect("the broker dropped events");
  }

  void on_event(const sse_event& e, std::int64_t recv_us) {
    auto ev = normalize_broker_trade_event(e.data, e.id, users, recv_us);
    for (const auto& p : ev.out.problems) reject(p, e.data, recv_us);
    if (!ev.ours || ev.out.events.empty()) {
      // Nothing to store (another worker's account, or unusable): the cursor may pass it.
      cursor.begin(std::move(ev.event_id), 0);
      if (const auto moved = cursor.settle()) save(*moved);
      return;
    }
    const auto ticket = cursor.begin(ev.event_id, static_cast<int>(ev.out.events.size()));
    for (const auto& out : ev.out.events) {
      publish(out, [weak = weak_from_this(), ticket](bool ok) {
        auto self = weak.lock();
        if (!self) return;
        net::post(self->ioc, [self, ticket, ok] { self->completed(ticket, ok); });
      });
    }
  }

  void completed(std::uint64_t ticket, bool ok) {
    if (stopped) return;
    const bool was_failed = cursor.failed();
    if (const auto moved = cursor.complete(ticket, ok)) save(*moved);
    if (cursor.failed() && !was_failed) {
      common::log_warn("a broker event could not be stored; reading the stream again from the kept cursor",
                       {{"since_id", cursor.committed()}});
      source->reconnect("an event was not stored");
    }
  }

  void save(const std::string& id) {
    if (id.empty()) return;
    redis.command({"SET", opt.cursor_key, id}, [key = opt.cursor_key](common::result<common::redis_reply> r) {
      if (!r || r->type == common::redis_reply::kind::error) {
        common::log_warn("cannot keep the broker event stream's cursor in Redis", {{"key", key}});
      }
    });
  }
};

broker_event_stream::broker_event_stream(net::io_context& ioc, options o, common::redis_client& redis,
                                         account_lookup users, publish_fn publish, reject_fn reject)
    : impl_(std::make_shared<impl>(ioc, std::move(o), redis, std::move(users), std::move(publish), std::move(reject))) {
  impl_->make_source();
}

broker_event_stream::~broker_event_stream() {
  impl_->stopped = true;
  impl_->source->stop();
}

void broker_event_stream::start() {
  net::post(impl_->ioc, [i = impl_] { i->read_cursor(); });
}

void broker_event_stream::stop() {
  net::post(impl_->ioc, [i = impl_] {
    i->stopped = true;
    i->retry.cancel();
    i->source->stop();
  });
}

const sse_source& broker_event_stream::source() const noexcept { return *impl_->source; }

std::uint64_t broker_event_stream::connections() const noexcept { return impl_->connections; }

}  // namespace tickstream::ingest
