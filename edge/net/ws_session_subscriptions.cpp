// ws_session, continued: subscriptions, the private stream's host side (snapshots, P&L follows)
// and source staleness. Same class and threading as edge/ws_session.cpp: all on the session's worker.
#include <algorithm>
#include <unordered_set>

#include "common/log.hpp"
#include "common/symbol.hpp"
#include "edge/portfolio/private_state_reader.hpp"
#include "edge/fanout/worker.hpp"
#include "edge/net/ws_session.hpp"

namespace tickstream::edge {

namespace net = boost::asio;

void ws_session::handle_subscription(subscription_request& req) {
  std::vector<rejection> rejected;
  std::vector<std::string> channels;
  std::uint8_t bits = 0;
  for (auto& ch : req.channels) {
    const auto bit = channel_bit_of(std::string_view(ch));
    if (bit == 0) {
      rejected.push_back({std::move(ch), "unknown_channel", "channels are positions, orders, account and trades"});
    } else if (who_.anonymous()) {
      rejected.push_back({std::move(ch), "unauthenticated", "private channels need an authenticated connection"});
    } else if ((bits & bit) == 0) {
      bits |= bit;
      channels.push_back(std::move(ch));
    }
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
  // Whether s is subscribed for P&L only; take_over removes it from that list (the client's now).
  const auto follow_only = [this](const std::string& s, bool take_over = false) {
    if (!extras_) return false;
    auto& list = extras_->follow_only;
    const auto it = std::find(list.begin(), list.end(), s);
    if (it == list.end()) return false;
    if (take_over) list.erase(it);
    return true;
  };

  if (!req.subscribe) {
    std::vector<std::string> removed;
    for (auto& s : symbols) {
      if (follow_only(s)) continue;  // not the client's
      if (feed_ && feed_->follows(s) && worker_.is_subscribed(this, s)) {
        more().follow_only.push_back(s);  // the ticks keep coming for P&L, no longer to the client
        removed.push_back(std::move(s));
      } else if (worker_.unsubscribe(this, s)) {
        removed.push_back(std::move(s));
      }
    }
    std::vector<std::string> removed_channels;
    const std::uint8_t held = feed_ ? feed_->bits() : 0;
    for (auto& ch : channels) {
      if ((held & channel_bit_of(std::string_view(ch))) != 0) removed_channels.push_back(std::move(ch));
    }
    if (held != 0 && feed_->drop(bits) == 0) worker_.unsubscribe(this, user_route(who_.user_id));
    reply(render_unsubscribed(removed, removed_channels));
    return;
  }
  if (req.batch_ms) {
    // A client may widen its window, never narrow it below the server's.
    window_ = std::max(limits_.batch_window, std::chrono::milliseconds(*req.batch_ms));
  }

  // The confirmation goes out once Redis has confirmed every accepted symbol, so a client may
  // rely on receiving every tick published after it reads "subscribed". Then the snapshot.
  struct confirmation {
    std::vector<std::string> accepted;
    std::vector<std::string> channels;
    std::vector<rejection> rejected;
    std::size_t remaining = 1;  // +1 guard until every symbol has been handed to the worker
    std::uint64_t ticket = 0;   // the private feed's, when channels were subscribed
    std::optional<std::int64_t> since;
    bool snapshot = true;
  };
  auto pending = std::make_shared<confirmation>();
  pending->rejected = std::move(rejected);
  pending->channels = std::move(channels);
  pending->since = req.since;
  pending->snapshot = req.snapshot;
  std::weak_ptr<ws_session> weak = shared_from_this();
  auto done = [weak, pending] {
    if (--pending->remaining != 0) return;
    auto self = weak.lock();
    if (!self || self->closing_ || self->dead_) return;
    self->reply(render_subscribed(pending->accepted, pending->channels, pending->rejected, self->window_.count()));
    if (pending->ticket != 0) {
      self->feed_->sync(pending->ticket, pending->since, pending->accepted, pending->snapshot);
    } else if (pending->snapshot && !pending->accepted.empty()) {
      self->send_price_snapshot(std::move(pending->accepted));
    }
    self->report_stale_sources();
  };
  // Private channels share one subscription: the user's own route (no other can be named).
  // (Subscribing to a route already held changes nothing and confirms once it is active.)
  if (bits != 0) {
    if (!feed_) feed_ = std::make_unique<private_feed>(static_cast<private_feed::host&>(*this), svc_, who_.user_id);
    pending->ticket = feed_->hold(bits);
    ++pending->remaining;
    worker_.subscribe(this, user_route(who_.user_id), done);
  }
  for (auto& s : symbols) {
    if (follow_only(s, true)) {
      // already followed for P&L: now the client's too
    } else if (worker_.subscription_count(this) - (extras_ ? extras_->follow_only.size() : 0) >=
                   limits_.max_subscriptions &&
               !worker_.is_subscribed(this, s)) {
      svc_.metrics.client_error("too_many_subscriptions");
      pending->rejected.push_back({s, "too_many_subscriptions",
                                   "a connection may hold at most " + std::to_string(limits_.max_subscriptions) +
                                       " subscriptions"});
      continue;
    }
    pending->accepted.push_back(s);
    ++pending->remaining;
    worker_.subscribe(this, s, done);
  }
  // (Ticks reach this session only through posted handlers, so none can slip in before this.)
  if (req.snapshot && !pending->accepted.empty()) ++more().price_snapshots_pending;
  done();  // drop the guard
}

void ws_session::send_price_snapshot(std::vector<std::string> symbols) {
  state_request req;
  req.symbols = std::move(symbols);
  read_private_state(svc_.redis, std::move(req),
                     [post = feed_poster(), this](common::result<private_state> r) {
                       post([this, r = std::move(r)]() mutable {
                         if (!r) {
                           // The ticks themselves are flowing; only the starting prices are missing.
                           common::log_warn("could not read last ticks for a snapshot",
                                            {{"worker", worker_.id()}, {"reason", r.err().message}});
                           std::vector<std::pair<std::string, std::string>> none;
                           feed_filter_prices(none);  // keeps the count of pending snapshots
                           return;
                         }
                         feed_filter_prices(r->prices);
                         std::vector<std::string> prices;
                         for (auto& [symbol, tick] : r->prices) prices.push_back(std::move(tick));
                         snapshot_parts parts;
                         parts.prices = &prices;
                         feed_reply(render_snapshot(parts));
                       });
                     });
}

void ws_session::feed_reply(std::string json) {
  // Anything held for batching was delivered before this message: it goes first.
  if (!held_.empty() && !closing_) enqueue(held_.take());
  reply(json);
}

void ws_session::feed_follow(const std::string& symbol, bool follow) {
  auto& list = more().follow_only;
  const auto it = std::find(list.begin(), list.end(), symbol);
  if (follow) {
    if (worker_.is_subscribed(this, symbol)) return;  // the client's own subscription carries it
    list.push_back(symbol);
    worker_.subscribe(this, symbol, nullptr);
  } else if (it != list.end()) {
    list.erase(it);
    worker_.unsubscribe(this, symbol);
  }
}

std::function<void(std::function<void()>)> ws_session::feed_poster() {
  return [weak = weak_from_this(), ex = socket_.get_executor()](std::function<void()> fn) {
    net::post(ex, [weak, fn = std::move(fn)] {
      if (auto self = weak.lock(); self && !self->dead_) fn();
    });
  };
}

void ws_session::feed_filter_prices(std::vector<std::pair<std::string, std::string>>& prices) {
  auto& x = more();
  std::erase_if(prices, [&x](const auto& p) { return std::find(x.ticked.begin(), x.ticked.end(), p.first) != x.ticked.end(); });
  if (x.price_snapshots_pending > 0 && --x.price_snapshots_pending == 0) x.ticked.clear();
}

bool ws_session::depends_on(const std::string& source) const {
  if (feed_ && feed_->depends_on(source)) return true;
  bool found = false;
  worker_.for_each_subscription(const_cast<ws_session*>(this), [&](const std::string& key) {
    if (found || is_user_route(key)) return;
    if (const auto* src = worker_.tick_source(key); src != nullptr && *src == source) found = true;
  });
  return found;
}

void ws_session::report_stale_sources() {
  for (const auto& [source, since_us] : worker_.stale_sources()) {
    if (depends_on(source)) reply(render_stale(source, since_us));
  }
}

void ws_session::source_changed(const std::string& source, bool stale, std::int64_t since_us) {
  if (closing_ || dead_ || !depends_on(source)) return;
  svc_.metrics.source_transition(source, stale);
  reply(stale ? render_stale(source, since_us) : render_fresh(source));
}

void ws_session::resubscribed(const std::string&) {
  if (feed_) feed_->on_resubscribed();
}

}  // namespace tickstream::edge
