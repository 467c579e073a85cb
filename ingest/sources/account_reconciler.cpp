#include "ingest/sources/account_reconciler.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

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
  net::steady_timer retry;                     // a cycle read again shortly (an order filled while it was read)
  std::map<std::string, std::string> counted;  // what ts:{u:<id>}:filled was last given
  bool running = false;
  bool stopped = false;
  std::atomic<std::uint64_t> done_cycles{0};

  impl(net::io_context& io, options o, common::redis_client& r, publish_fn p)
      : ioc(io), opt(std::move(o)), redis(r), publish(std::move(p)), timer(io), retry(io) {}

  // The first periodic cycle comes after a phase within the interval taken from the user id, the
  // next ones every interval: many accounts started together do not read the broker together.
  void schedule(bool first = false) {
    if (stopped) return;
    const auto ms = static_cast<std::size_t>(std::max<std::int64_t>(1, opt.interval.count()));
    const auto phase = static_cast<std::int64_t>(1 + std::hash<std::string>{}(opt.user_id) % ms);
    timer.expires_after(first ? std::chrono::milliseconds(phase) : opt.interval);
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

  // What is stored for the user: the account, the positions and the open orders (the values of
  // ts:{u:<id>}:acct, :pos and :orders).
  struct stored_state {
    std::optional<std::string> account;
    std::vector<std::string> positions;
    std::vector<std::string> orders;
    std::optional<common::error> failed;
    bool operator==(const stored_state& o) const {
      return account == o.account && positions == o.positions && orders == o.orders;
    }
  };

  // The replies of one cycle, in the order they are read, and the stored state read before them.
  struct replies {
    std::shared_ptr<const stored_state> stored_before;
    std::string orders_before, account, positions, orders_after;
  };

  void cycle() {
    if (running || stopped) return;
    running = true;
    // The stored state on either side of the broker's replies: if an event (a fill from the
    // stream) changed it meanwhile, the replies may be older than it and are not applied.
    // Orders on either side of the account and positions: if no order filled further in between,
    // the snapshot holds exactly the fills up to each order's filled quantity.
    auto rs = std::make_shared<replies>();
    read_stored([self = shared_from_this(), rs](std::shared_ptr<const stored_state> before) {
      rs->stored_before = std::move(before);
      self->get("/orders?status=all&limit=500&direction=desc", [self, rs](std::string orders_before) {
        rs->orders_before = std::move(orders_before);
        self->get("/account", [self, rs](std::string account) {
          rs->account = std::move(account);
          self->get("/positions", [self, rs](std::string positions) {
            rs->positions = std::move(positions);
            self->get("/orders?status=open&limit=500", [self, rs](std::string after) {
              rs->orders_after = std::move(after);
              self->read_stored([self, rs](const std::shared_ptr<const stored_state>& now) { self->apply(*rs, *now); });
            });
          });
        });
      });
    });
  }

  // GET <prefix><path>; then(body) on a 200, else the cycle fails (the step named by path).
  void get(const char* path, std::function<void(std::string)> then) {
    http_get(ioc, opt.rest_url + opt.path_prefix + path, opt.headers, opt.timeout,
             [self = shared_from_this(), path, then = std::move(then)](common::result<http_reply> r) {
               if (!r) return self->fail(path, r.err());
               if (r->status != 200) {
                 return self->fail(path, {"broker_refused", "HTTP " + std::to_string(r->status)});
               }
               then(std::move(r->body));
             });
  }

  // Reads the stored state, then(state) on the loop; the cycle fails if Redis does.
  void read_stored(std::function<void(std::shared_ptr<const stored_state>)> then) {
    auto st = std::make_shared<stored_state>();
    const auto& user = opt.user_id;
    const auto values = [](common::result<common::redis_reply>& r, std::vector<std::string>& into,
                           std::optional<common::error>& failed) {
      if (!r) {
        failed = r.err();
        return;
      }
      for (auto& e : r->elements) into.push_back(std::move(e.str));
    };
    redis.command({"GET", common::user_key(user, common::user_data::acct)},
                  [st](common::result<common::redis_reply> r) {
                    if (!r) {
                      st->failed = r.err();
                    } else if (r->type == common::redis_reply::kind::string) {
                      st->account = std::move(r->str);
                    }
                  });
    redis.command({"HVALS", common::user_key(user, common::user_data::pos)},
                  [st, values](common::result<common::redis_reply> r) { values(r, st->positions, st->failed); });
    redis.command(
        {"HVALS", common::user_key(user, common::user_data::orders)},
        [self = shared_from_this(), st, values, then = std::move(then)](common::result<common::redis_reply> r) mutable {
          // On the Redis thread: hand the result to the loop.
          values(r, st->orders, st->failed);
          net::post(self->ioc, [self, st, then = std::move(then)] {
            if (st->failed) return self->fail("redis", *st->failed);
            then(st);
          });
        });
  }

  void apply(const replies& rs, const stored_state& stored) {
    running = false;
    if (stopped) return;
    if (!(*rs.stored_before == stored)) {
      // An event was stored while the broker was read (a fill from the stream): the broker's
      // replies may not hold it yet, and applying them would undo it. Read again shortly.
      common::log_info("broker reconciliation: the stored state changed while the broker was read; reading again",
                       {{"user", opt.user_id}});
      retry_soon();
      return;
    }
    const auto& stored_account = stored.account;
    const auto& stored_positions = stored.positions;
    const auto& stored_orders = stored.orders;
    const auto now = common::now_us();
    auto before = parse_broker_orders(rs.orders_before, opt.user_id, now);
    if (!before) return fail("/orders", before.err());
    auto account = parse_broker_account(rs.account, opt.user_id, now);
    if (!account) return fail("/account", account.err());
    auto positions = parse_broker_positions(rs.positions, opt.user_id, now);
    if (!positions) return fail("/positions", positions.err());
    auto after = parse_broker_orders(rs.orders_after, opt.user_id, now);
    if (!after) return fail("/orders", after.err());
    const auto reads = compare_order_reads(before.value(), after.value());
    if (!reads.consistent) {
      // A fill landed while the snapshot was read: whether it holds it is unknown. Read again
      // shortly rather than store figures that may count a fill the stream also applies.
      common::log_info("broker reconciliation: an order filled while it was read; reading again",
                       {{"user", opt.user_id}});
      retry_soon();
      return;
    }
    // First say which fills the broker's figures hold (on the same connection, so before the
    // events below are stored): a stream fill among them does not move cash or position again.
    std::vector<std::string> hset{"HSET", common::user_key(opt.user_id, common::user_data::filled)};
    for (const auto& [order, filled] : reads.filled) {
      const auto it = counted.find(order);
      if (it != counted.end() && it->second == filled) continue;
      hset.push_back(order);
      hset.push_back(filled);
    }
    if (hset.size() > 2) {
      redis.command(hset, [](const common::result<common::redis_reply>&) {});
      redis.command({"PEXPIRE", common::user_key(opt.user_id, common::user_data::filled), "604800000"},
                    [](const common::result<common::redis_reply>&) {});
      counted = reads.filled;
    }
    auto events = reconcile(stored_account, stored_positions, account.value(), positions.value());
    auto orders = reconcile_orders(stored_orders, after.value(), before.value());
    for (auto& ev : orders.events) events.push_back(std::move(ev));
    for (const auto& ev : events) publish(ev);
    ++done_cycles;
    if (!events.empty()) {
      common::log_info("broker reconciliation corrected the stored state",
                       {{"user", opt.user_id}, {"events", events.size()}});
    }
    if (!orders.unknown.empty()) {
      common::log_warn("stored open orders the broker's recent orders do not show; left as they are",
                       {{"user", opt.user_id}, {"orders", orders.unknown.size()}});
    }
  }

  void retry_soon() {
    retry.expires_after(std::chrono::seconds(1));
    retry.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec && !self->stopped) self->cycle();
    });
  }
};

account_reconciler::account_reconciler(net::io_context& ioc, options o, common::redis_client& redis, publish_fn publish)
    : impl_(std::make_shared<impl>(ioc, std::move(o), redis, std::move(publish))) {}

account_reconciler::~account_reconciler() { stop(); }

void account_reconciler::start() {
  net::post(impl_->ioc, [self = impl_] {
    self->cycle();
    self->schedule(true);
  });
}

void account_reconciler::trigger() {
  net::post(impl_->ioc, [self = impl_] { self->cycle(); });
}

void account_reconciler::stop() {
  net::post(impl_->ioc, [self = impl_] {
    self->stopped = true;
    self->timer.cancel();
    self->retry.cancel();
  });
}

std::uint64_t account_reconciler::cycles() const noexcept { return impl_->done_cycles.load(); }

account_reconciler::options trading_api_options(const std::string& rest_url, const std::string& key,
                                                const std::string& secret, const std::string& user_id) {
  account_reconciler::options o;
  o.rest_url = rest_url;
  o.path_prefix = "/v2";
  o.headers = {{"APCA-API-KEY-ID", key}, {"APCA-API-SECRET-KEY", secret}};
  o.user_id = user_id;
  return o;
}

account_reconciler::options broker_api_options(const std::string& rest_url, const std::string& account_id,
                                               const std::string& key, const std::string& secret,
                                               const std::string& user_id) {
  account_reconciler::options o;
  o.rest_url = rest_url;
  o.path_prefix = "/v1/trading/accounts/" + account_id;
  o.headers = {{"Authorization", basic_authorization(key, secret)}};
  o.user_id = user_id;
  return o;
}

}  // namespace tickstream::ingest
