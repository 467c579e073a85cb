#include "ingest/sources/account_reconciler.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "common/redis/keys.hpp"
#include "ingest/normalize/broker_reconciler.hpp"
#include "ingest/sources/http_get.hpp"

namespace tickstream::ingest {

namespace net = boost::asio;

struct account_reconciler::impl : std::enable_shared_from_this<impl> {
  net::io_context& ioc;
  options opt;
  common::redis_client& redis;
  publish_fn publish;
  net::steady_timer timer;
  bool running = false;
  bool stopped = false;
  std::atomic<std::uint64_t> done_cycles{0};

  impl(net::io_context& io, options o, common::redis_client& r, publish_fn p)
      : ioc(io), opt(std::move(o)), redis(r), publish(std::move(p)), timer(io) {}

  std::vector<std::pair<std::string, std::string>> headers() const {
    return {{"APCA-API-KEY-ID", opt.key}, {"APCA-API-SECRET-KEY", opt.secret}};
  }

  void schedule() {
    if (stopped) return;
    timer.expires_after(opt.interval);
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->stopped) return;
      self->cycle();
      self->schedule();
    });
  }

  void fail(const char* step, const common::error& e) {
    running = false;
    common::log_warn("broker reconciliation failed; retrying at the next interval",
                     {{"user", opt.user_id}, {"step", step}, {"code", e.code}, {"reason", e.message}});
  }

  void cycle() {
    if (running || stopped) return;
    running = true;
    get("/v2/account", [self = shared_from_this()](std::string account) {
      self->get("/v2/positions", [self, account = std::move(account)](std::string positions) mutable {
        self->read_stored(std::move(account), std::move(positions));
      });
    });
  }

  // GET path; then(body) on a 200, else the cycle fails.
  void get(const char* path, std::function<void(std::string)> then) {
    http_get(ioc, opt.rest_url + path, headers(), opt.timeout,
             [self = shared_from_this(), path, then = std::move(then)](common::result<http_reply> r) {
               if (!r) return self->fail(path, r.err());
               if (r->status != 200) {
                 return self->fail(path, {"broker_refused", "HTTP " + std::to_string(r->status)});
               }
               then(std::move(r->body));
             });
  }

  void read_stored(std::string account_body, std::string positions_body) {
    struct stored {
      std::optional<std::string> account;
      std::optional<common::error> failed;
    };
    auto st = std::make_shared<stored>();
    const auto& user = opt.user_id;
    redis.command({"GET", common::user_key(user, common::user_data::acct)},
                  [st](common::result<common::redis_reply> r) {
                    if (!r) {
                      st->failed = r.err();
                    } else if (r->type == common::redis_reply::kind::string) {
                      st->account = std::move(r->str);
                    }
                  });
    redis.command({"HVALS", common::user_key(user, common::user_data::pos)},
                  [self = shared_from_this(), st, a = std::move(account_body),
                   p = std::move(positions_body)](common::result<common::redis_reply> r) mutable {
                    // On the Redis thread: hand the result to the loop.
                    std::vector<std::string> positions;
                    if (!r) {
                      st->failed = r.err();
                    } else {
                      for (auto& e : r->elements) positions.push_back(std::move(e.str));
                    }
                    net::post(self->ioc, [self, st, a = std::move(a), p = std::move(p),
                                          positions = std::move(positions)]() mutable {
                      if (st->failed) return self->fail("redis", *st->failed);
                      self->apply(a, p, st->account, positions);
                    });
                  });
  }

  void apply(const std::string& account_body, const std::string& positions_body,
             const std::optional<std::string>& stored_account, const std::vector<std::string>& stored_positions) {
    running = false;
    if (stopped) return;
    const auto now = common::now_us();
    auto account = parse_broker_account(account_body, opt.user_id, now);
    if (!account) return fail("/v2/account", account.err());
    auto positions = parse_broker_positions(positions_body, opt.user_id, now);
    if (!positions) return fail("/v2/positions", positions.err());
    const auto events = reconcile(stored_account, stored_positions, account.value(), positions.value());
    for (const auto& ev : events) publish(ev);
    ++done_cycles;
    if (!events.empty()) {
      common::log_info("broker reconciliation corrected the stored state",
                       {{"user", opt.user_id}, {"events", events.size()}});
    }
  }
};

account_reconciler::account_reconciler(net::io_context& ioc, options o, common::redis_client& redis, publish_fn publish)
    : impl_(std::make_shared<impl>(ioc, std::move(o), redis, std::move(publish))) {}

account_reconciler::~account_reconciler() { stop(); }

void account_reconciler::start() {
  net::post(impl_->ioc, [self = impl_] {
    self->cycle();
    self->schedule();
  });
}

void account_reconciler::trigger() {
  net::post(impl_->ioc, [self = impl_] { self->cycle(); });
}

void account_reconciler::stop() {
  net::post(impl_->ioc, [self = impl_] {
    self->stopped = true;
    self->timer.cancel();
  });
}

std::uint64_t account_reconciler::cycles() const noexcept { return impl_->done_cycles.load(); }

}  // namespace tickstream::ingest
