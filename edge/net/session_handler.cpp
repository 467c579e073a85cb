#include "edge/net/session_handler.hpp"

#include <algorithm>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "common/redis/keys.hpp"
#include "common/symbol.hpp"
#include "edge/fanout/frame_sink.hpp"
#include "edge/fanout/worker.hpp"
#include "edge/net/subscription_plan.hpp"
#include "edge/portfolio/private_state_reader.hpp"
#include "edge/protocol/private_channels.hpp"
#include "edge/protocol/ws_codec.hpp"

namespace tickstream::edge {
session_handler::session_handler(session_output& out, frame_sink& sink, worker& w, services& svc, identity who,
                                 bool awaiting_auth, std::string address)
    : out_(out),
      sink_(sink),
      worker_(w),
      svc_(svc),
      who_(std::move(who)),
      awaiting_auth_(awaiting_auth),
      address_(std::move(address)),
      messages_(svc.limits.max_messages_per_second, svc.limits.max_rate_violations, clock::now()) {}

session_handler::~session_handler() {
  if (svc_.quota != nullptr) svc_.quota->give_back(address_, quota_held_);
  if (opened_ && svc_.census != nullptr) svc_.census->disconnected(who_.user_id);
}

void session_handler::opened() {
  opened_ = true;
  if (svc_.census != nullptr) svc_.census->connected(who_.user_id);
}

void session_handler::on_binary() {
  svc_.metrics.client_error("binary_not_supported");
  out_.reply(render_error("binary_not_supported", "send JSON text frames; binary frames are not accepted"));
}

// --- messages -------------------------------------------------------------------------------

void session_handler::on_text(std::string_view text, clock::time_point now) {
  if (!take_message_token(now)) return;
  auto msg = parse_client_message(text);
  if (!msg) {
    // Credentials are never logged: a broken auth or refresh message may still carry a token.
    const bool secret = text.find("token") != std::string_view::npos || text.find("eyJ") != std::string_view::npos;
    common::log_info("bad client message", {{"worker", worker_.id()},
                                            {"code", msg.err().code},
                                            {"reason", msg.err().message},
                                            {"excerpt", secret ? std::string("(withheld: it may hold a credential)")
                                                               : common::excerpt(text, 80)}});
    return fail(msg.err().code, msg.err().message);
  }
  if (auto* ping = std::get_if<ping_request>(&msg.value())) {
    out_.reply(render_pong(ping->id_json, common::now_us(), svc_.node_id));
  } else if (auto* auth = std::get_if<auth_message>(&msg.value())) {
    handle_auth(*auth);
  } else if (awaiting_auth_) {
    fail("auth_required", R"(authenticate first: send {"type":"auth","token":"<JWT>"})");
  } else if (auto* sub = std::get_if<subscription_request>(&msg.value())) {
    // The records are read before the first subscribe is planned (not at the upgrade: a
    // connection that never subscribes costs Redis nothing).
    if (!records_) load_records();
    if (records_ && records_->loading) {
      // Answered in order once the connection's entitlements are known (a few milliseconds).
      if (records_->deferred.size() >= 64) return fail("unavailable", "entitlements are being read; retry");
      records_->deferred.push_back(std::move(*sub));
      return;
    }
    sub->subscribe ? handle_subscribe(*sub) : handle_unsubscribe(*sub);
  } else if (auto* refresh = std::get_if<refresh_request>(&msg.value())) {
    handle_refresh(*refresh);
  }
}

namespace {

// Whether the back end revoked a token's session id (server API disconnect): one EXISTS, answered
// on the session's thread through post (so not at all once the session is gone). A token
// without an id is never revoked.
void check_revoked(services& svc, const std::string& session_id, std::function<void(std::function<void()>)> post,
                   std::function<void(common::result<bool>)> then) {
  if (session_id.empty()) return then(false);
  svc.redis.command({"EXISTS", common::revoked_key(session_id)},
                    [post = std::move(post), then = std::move(then)](common::result<common::redis_reply> r) {
                      common::result<bool> revoked =
                          r ? common::result<bool>(r->integer != 0)
                            : common::result<bool>(common::error{"unavailable", "revocations cannot be checked now"});
                      post([then, revoked = std::move(revoked)] { then(revoked); });
                    });
}

}  // namespace

void session_handler::handle_auth(const auth_message& msg) {
  if (!awaiting_auth_) return fail("already_authenticated", "this connection is already authenticated");
  awaiting_auth_ = false;  // one attempt: a connection does not get to guess tokens
  auto id = svc_.auth.jwt->verify(msg.token, common::now_us() / 1'000'000);
  if (!id) {
    common::log_info("in-band authentication refused", {{"worker", worker_.id()}, {"reason", id.err().code}});
    fail(id.err().code, id.err().message);
    return out_.close(close_code::auth_failed, "authentication failed", "auth_failed", true);
  }
  // A revoked session may not sign in in-band either.
  check_revoked(svc_, id->session_id, out_.poster(),
                [this, who = identity{id->user_id, id->roles, id->expires_at_s, id->session_id, id->entitled}](
                    common::result<bool> revoked) {
                  if (revoked && !revoked.value()) return out_.authenticate_as(who);
                  const auto& why = revoked ? common::error{"revoked", "this session was revoked"} : revoked.err();
                  common::log_info("in-band authentication refused", {{"worker", worker_.id()}, {"reason", why.code}});
                  fail(why.code, why.message);
                  out_.close(close_code::auth_failed, "authentication failed", "auth_failed", true);
                });
}

void session_handler::on_authenticated(identity who) {
  who_ = std::move(who);
  if (opened_ && svc_.census != nullptr) svc_.census->connected(who_.user_id);
  if (records_) records_->claimed = who_.entitled;
  out_.credential_refreshed(who_.expires_at_s);
  out_.reply(render_authenticated(who_.user_id, who_.expires_at_s, svc_.node_id));
}

bool session_handler::take_message_token(clock::time_point now) {
  const auto answer = messages_.admit(now);
  if (answer == message_rate::verdict::take) return true;
  svc_.metrics.client_error("rate_limited");
  if (answer == message_rate::verdict::close) {
    common::log_warn("client exceeds its message rate persistently; closing with 1008", {{"worker", worker_.id()}});
    out_.close(close_code::policy_violation, "message rate exceeded", "rate_limited", true);
  } else if (answer == message_rate::verdict::drop_and_tell) {
    const auto rate = static_cast<int>(svc_.limits.max_messages_per_second);
    out_.reply(
        render_error("rate_limited", "more than " + std::to_string(rate) + " messages a second; this one was dropped"));
  }
  return false;
}

void session_handler::handle_refresh(const refresh_request& req) {
  if (svc_.auth.jwt == nullptr || who_.anonymous()) {
    return fail("refresh_not_supported", "this connection is not authenticated with a JWT");
  }
  auto id = svc_.auth.jwt->verify(req.token, common::now_us() / 1'000'000);
  if (!id) return fail(id.err().code, id.err().message);  // the connection keeps its old expiry
  if (id->user_id != who_.user_id) return fail("wrong_subject", "a refreshed token must be for the same user");
  // A revoked token does not extend the connection (it keeps its old expiry).
  check_revoked(svc_, id->session_id, out_.poster(), [this, expires = id->expires_at_s](common::result<bool> revoked) {
    if (!revoked) return fail(revoked.err().code, revoked.err().message);
    if (revoked.value()) return fail("revoked", "this token's session was revoked");
    out_.credential_refreshed(expires);
    out_.reply(render_refreshed(expires.value_or(0)));
  });
}

void session_handler::release_quota(std::size_t n) {
  n = std::min(n, quota_held_);
  quota_held_ -= n;
  if (svc_.quota != nullptr) svc_.quota->give_back(address_, n);
}

void session_handler::fail(const std::string& code, std::string_view message) {
  svc_.metrics.client_error(code);
  out_.reply(render_error(code, message));
}

// --- subscriptions --------------------------------------------------------------------------

namespace {

subscription_holdings holdings_of(const worker& w, frame_sink* sink, const identity& who, std::uint8_t bits,
                                  const std::vector<std::string>* follow_only, const private_feed* feed,
                                  const services& svc) {
  subscription_holdings h;
  h.anonymous = who.anonymous();
  h.channel_bits = bits;
  w.for_each_subscription(sink, [&h](const std::string& key) { h.keys.push_back(key); });
  if (follow_only != nullptr) h.follow_only = *follow_only;
  if (feed != nullptr) {
    for (const auto& key : h.keys) {
      if (feed->follows(key)) h.followed.push_back(key);
    }
  }
  h.max_subscriptions = who.anonymous() ? std::min(svc.limits.max_subscriptions, svc.limits.max_anonymous_subscriptions)
                                        : svc.limits.max_subscriptions;
  if (svc.max_channels > 0 && svc.channels_held) {
    const auto held_now = svc.channels_held();
    h.channel_room = svc.max_channels > held_now ? svc.max_channels - held_now : 0;
  }
  h.server_window = svc.limits.batch_window;
  h.entitled = who.entitled      ? who.entitled.get()
               : who.anonymous() ? svc.anonymous_entitled.get()
                                 : svc.default_entitled.get();
  return h;
}

}  // namespace

bool session_handler::is_follow_only(const std::string& symbol) const {
  return extras_ &&
         std::find(extras_->follow_only.begin(), extras_->follow_only.end(), symbol) != extras_->follow_only.end();
}

void session_handler::handle_unsubscribe(subscription_request& req) {
  const auto plan = unsubscribe_now(req);
  out_.reply(render_unsubscribed(plan.symbols, plan.channels, req.topics.empty() ? nullptr : &plan.topics));
}

unsubscribe_plan session_handler::unsubscribe_now(subscription_request& req) {
  const std::uint8_t held = feed_ ? feed_->bits() : 0;
  auto plan = plan_unsubscribe(
      req, holdings_of(worker_, &sink_, who_, held, extras_ ? &extras_->follow_only : nullptr, feed_.get(), svc_));
  for (const auto& s : plan.to_follow) more().follow_only.push_back(s);
  for (const auto& s : plan.to_release) worker_.unsubscribe(&sink_, s);
  release_quota(plan.to_follow.size() + plan.to_release.size());
  if (held != 0 && feed_->drop(plan.channel_bits) == 0) worker_.unsubscribe(&sink_, user_route(who_.user_id));
  for (const auto& t : plan.topics) release_topic(t);
  return plan;
}

// --- entitlements ---------------------------------------------------------------------------

void session_handler::load_records() {
  if (!svc_.entitlement_records || who_.anonymous()) return;
  if (!records_) {
    records_ = std::make_unique<records_state>();
    records_->claimed = who_.entitled;  // nothing merged into it yet
  }
  records_->loading = true;
  const auto generation = ++records_->generation;
  read_entitlement_records(svc_.redis, who_.user_id,
                           [post = out_.poster(), this, generation](common::result<entitlement_records> r) {
                             post([this, generation, r = std::move(r)] { records_arrived(generation, r); });
                           });
}

void session_handler::records_arrived(std::uint64_t generation, const common::result<entitlement_records>& r) {
  auto& rec = *records_;
  if (generation != rec.generation) return;  // a later read is on its way
  rec.loading = false;
  rec.failed = !r;
  if (!r) {
    // Closed rather than open: the token's claim only, until a read succeeds (tick retries).
    common::log_warn("could not read entitlement records",
                     {{"worker", worker_.id()}, {"code", r.err().code}, {"reason", r.err().message}});
    who_.entitled = rec.claimed ? rec.claimed : std::make_shared<const entitlements>(std::vector<std::string>{});
  } else {
    rec.plan = r->plan;
    who_.entitled = merge_entitlements(rec.claimed, r.value(), svc_.default_entitled);
  }
  drop_unentitled();
  for (auto& req : std::exchange(rec.deferred, {})) {
    if (out_.ending()) break;
    req.subscribe ? handle_subscribe(req) : handle_unsubscribe(req);
  }
}

void session_handler::entitlements_changed(const std::string& user, const std::string& plan) {
  // (Before its first subscribe a connection has read nothing and holds nothing.)
  if (!svc_.entitlement_records || who_.anonymous() || out_.ending() || !records_) return;
  if (!user.empty() && user != who_.user_id) return;
  if (!plan.empty() && plan != records_->plan) return;
  load_records();
}

void session_handler::drop_unentitled() {
  const auto* entitled = who_.entitled ? who_.entitled.get() : svc_.default_entitled.get();
  if (entitled == nullptr) return;  // everything
  subscription_request gone;
  gone.subscribe = false;
  worker_.for_each_subscription(&sink_, [&](const std::string& key) {
    if (is_user_route(key)) return;
    if (is_topic_route(key)) {
      if (!entitled->allows(std::string_view(key).substr(3))) gone.topics.push_back(key.substr(3));
    } else if (!is_follow_only(key) && !entitled->allows(key)) {
      gone.symbols.push_back(key);
    }
  });
  if (gone.symbols.empty() && gone.topics.empty()) return;
  common::log_info("entitlements narrowed: releasing subscriptions",
                   {{"worker", worker_.id()}, {"symbols", gone.symbols.size()}, {"topics", gone.topics.size()}});
  svc_.metrics.client_error("not_entitled");
  const auto plan = unsubscribe_now(gone);
  out_.reply(render_unsubscribed(plan.symbols, {}, &plan.topics, "not_entitled"));
}

void session_handler::handle_subscribe(subscription_request& req) {
  const auto route = user_route(who_.user_id);
  auto held = holdings_of(worker_, &sink_, who_, feed_ ? feed_->bits() : 0, extras_ ? &extras_->follow_only : nullptr,
                          feed_.get(), svc_);
  if (svc_.quota != nullptr) held.address_room = svc_.quota->room(address_);
  if (held.channel_room != no_limit) {
    for (const auto& raw : req.symbols) {
      if (auto s = common::normalize_symbol(raw); s && worker_.holds(s.value())) held.worker_holds.push_back(s.value());
    }
    for (const auto& raw : req.topics) {
      if (worker_.holds(topic_route(raw))) held.worker_holds.push_back(topic_route(raw));
    }
  }
  auto plan = plan_subscribe(req, held, route);
  if (svc_.quota != nullptr) {
    const auto n = plan.new_symbols + plan.taken_over.size();
    svc_.quota->take(address_, n);
    quota_held_ += n;
  }
  if (plan.window) out_.set_batch_window(*plan.window);
  for (const auto& s : plan.taken_over) std::erase(more().follow_only, s);

  // The confirmation goes out once Redis has confirmed every accepted symbol, so a client may
  // rely on receiving every tick published after it reads "subscribed". Then the snapshot.
  struct confirmation {
    subscribe_plan plan;
    std::size_t remaining = 1;  // +1 guard until every symbol has been handed to the worker
    std::uint64_t ticket = 0;   // the private feed's, when channels were subscribed
    std::optional<std::int64_t> since;
    bool snapshot = true;
    std::vector<std::string> refused;  // symbols (and topics) whose Redis channel was refused (an ACL)
    bool route_refused = false;        // the user's private channel was refused
    bool with_topics = false;          // the request named topics: the answer lists them
  };
  auto pending = std::make_shared<confirmation>();
  pending->since = req.since;
  pending->snapshot = req.snapshot;
  pending->with_topics = !req.topics.empty();
  const auto bits = plan.channel_bits;
  pending->plan = std::move(plan);
  // The worker may run this after the connection is gone (a waiter of a symbol others still hold).
  auto done = [this, pending, alive = out_.lifetime()] {
    if (--pending->remaining != 0) return;
    const auto keep = alive.lock();
    if (!keep || out_.ending()) return;
    auto& p = pending->plan;
    refuse_unavailable(p, pending->refused, pending->route_refused);
    if (pending->route_refused) pending->ticket = 0;
    out_.reply(render_subscribed(p.symbols, p.channels, p.rejected, out_.batch_window().count(),
                                 pending->with_topics ? &p.topics : nullptr));
    read_retained(pending->snapshot ? p.topics : std::vector<std::string>{});
    if (pending->ticket != 0) {
      feed_->sync(pending->ticket, pending->since, p.symbols, pending->snapshot);
    } else if (pending->snapshot && !p.symbols.empty()) {
      send_price_snapshot(p.symbols);
    }
    report_stale_sources();
  };
  // Private channels share one subscription: the user's own route (no other can be named).
  // (Subscribing to a route already held changes nothing and confirms once it is active.)
  if (bits != 0) {
    if (!feed_) {
      feed_ =
          std::make_unique<private_feed>(static_cast<private_feed::host&>(*this),
                                         private_feed::context{[&redis = svc_.redis](state_request r, auto cb) {
                                                                 read_private_state(redis, std::move(r), std::move(cb));
                                                               },
                                                               svc_.metrics},
                                         who_.user_id);
    }
    pending->ticket = feed_->hold(bits);
    ++pending->remaining;
    worker_.subscribe(&sink_, route, done, [pending, done] {
      pending->route_refused = true;
      done();
    });
  }
  const auto& symbols = pending->plan.symbols;
  for (const auto& s : symbols) {
    ++pending->remaining;
    worker_.subscribe(&sink_, s, done, [pending, done, s] {
      pending->refused.push_back(s);
      done();
    });
  }
  for (const auto& t : pending->plan.topics) {
    // Its live messages wait for its retained one (read once Redis has confirmed the channel).
    if (req.snapshot) hold_topic(topic_route(t));
    ++pending->remaining;
    worker_.subscribe(&sink_, topic_route(t), done, [pending, done, t] {
      pending->refused.push_back(t);
      done();
    });
  }
  for (const auto& r : pending->plan.rejected) {
    if (r.code == "too_many_subscriptions" || r.code == "too_many_channels") svc_.metrics.client_error(r.code);
  }
  // (Ticks reach this session only through posted handlers, so none can slip in before this.)
  if (req.snapshot && !symbols.empty()) ++more().price_snapshots_pending;
  done();  // drop the guard
}

void session_handler::refuse_unavailable(subscribe_plan& p, const std::vector<std::string>& refused,
                                         bool route_refused) {
  // Redis refused these channels (an ACL): the worker no longer holds them for this session, so
  // they move from the granted lists to the rejected one; everything else stands.
  constexpr std::string_view why = "the tier cannot carry this channel right now (Redis refused it)";
  std::size_t symbols = 0;
  for (const auto& s : refused) {
    if (std::erase(p.symbols, s) != 0) {
      ++symbols;
    } else if (std::erase(p.topics, s) != 0) {
      release_topic(s);
    }
    p.rejected.push_back({s, "unavailable", std::string(why)});
    svc_.metrics.client_error("unavailable");
  }
  release_quota(symbols);  // they no longer count against the client's address
  if (route_refused) {
    for (const auto& c : p.channels) {
      p.rejected.push_back({c, "unavailable", std::string(why)});
      svc_.metrics.client_error("unavailable");
    }
    p.channels.clear();
    if (feed_) feed_->drop(feed_->bits());
  }
}

void session_handler::send_price_snapshot(std::vector<std::string> symbols) {
  state_request req;
  req.symbols = std::move(symbols);
  read_private_state(svc_.redis, std::move(req), [post = out_.poster(), this](common::result<private_state> r) {
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

// --- topics ---------------------------------------------------------------------------------

void session_handler::hold_topic(const std::string& route) {
  auto& holds = more().topic_holds;
  auto it = std::find_if(holds.begin(), holds.end(), [&](const auto& h) { return h.route == route; });
  if (it == holds.end()) it = holds.insert(holds.end(), extras::topic_hold{route, 0, {}, {}});
  ++it->reads;
}

void session_handler::read_retained(const std::vector<std::string>& topics) {
  // One GET per topic (each topic has its own hash tag), answered on this session's thread.
  for (const auto& t : topics) {
    svc_.redis.command(
        {"GET", common::topic_last_key(t)}, [post = out_.poster(), this, t](common::result<common::redis_reply> r) {
          std::optional<std::string> payload;
          if (r && r->type == common::redis_reply::kind::string) payload = r->str;
          if (!r)
            common::log_warn("could not read a topic's retained message", {{"topic", t}, {"reason", r.err().message}});
          post([this, t, payload = std::move(payload)] { retained_arrived(t, payload); });
        });
  }
}

void session_handler::retained_arrived(const std::string& topic, const std::optional<std::string>& payload) {
  if (!extras_) return;
  const auto route = topic_route(topic);
  auto& holds = extras_->topic_holds;
  const auto it = std::find_if(holds.begin(), holds.end(), [&](const auto& h) { return h.route == route; });
  if (it == holds.end() || it->reads == 0) return;  // unsubscribed meanwhile
  --it->reads;
  auto held = std::exchange(it->held, {});
  // A live message that is the retained one (published while it was read) carries it already.
  const bool live_has_it = payload && std::any_of(held.begin(), held.end(), [&](const frame_ptr& f) {
                             return f->payload() == std::string_view(*payload);
                           });
  if (payload && !live_has_it && payload->size() > 1 && payload->back() == '}') {
    // Delivered as published, marked: {...,"retained":true}.
    std::string marked = payload->substr(0, payload->size() - 1) + R"(,"retained":true})";
    out_.deliver(make_text_frame(frame_kind::topic, topic, marked, route));
    it->retained_payload = *payload;
  }
  for (const auto& f : held) out_.deliver(f);
  if (it->reads == 0 && (it->retained_payload.empty() || !held.empty())) holds.erase(it);
}

bool session_handler::pass_topic_message(const frame_ptr& f) {
  if (!extras_ || extras_->topic_holds.empty()) return true;
  auto& holds = extras_->topic_holds;
  const auto it = std::find_if(holds.begin(), holds.end(), [&](const auto& h) { return h.route == f->route; });
  if (it == holds.end()) return true;
  if (it->reads > 0) {
    // Bounded: a topic far busier than its retained read is slow delivers in order without it.
    if (it->held.size() < 1000) {
      it->held.push_back(f);
      return false;
    }
    for (const auto& h : std::exchange(it->held, {})) out_.deliver(h);
    holds.erase(it);
    return true;
  }
  // The first live message after a retained one: not the same one twice.
  const bool repeat = f->payload() == std::string_view(it->retained_payload);
  holds.erase(it);
  return !repeat;
}

void session_handler::release_topic(const std::string& topic) {
  const auto route = topic_route(topic);
  worker_.unsubscribe(&sink_, route);
  if (extras_) std::erase_if(extras_->topic_holds, [&](const auto& h) { return h.route == route; });
}

// --- events ---------------------------------------------------------------------------------

void session_handler::on_event(const frame_ptr& f) {
  // The user's stored events go through the feed: sequence checks, channel filter, P&L.
  if (is_private(f->kind)) {
    if (feed_) feed_->on_event(f);
    return;
  }
  if (f->kind == frame_kind::topic && !pass_topic_message(f)) return;
  if (f->kind == frame_kind::tick) {
    if (feed_ && feed_->follows(f->key)) feed_->on_tick(*f);
    if (extras_) {
      auto& x = *extras_;
      if (is_follow_only(f->key)) return;
      if (x.price_snapshots_pending > 0 && std::find(x.ticked.begin(), x.ticked.end(), f->key) == x.ticked.end()) {
        x.ticked.push_back(f->key);
      }
    }
  }
  out_.deliver(f);
}

void session_handler::tick(clock::time_point now) {
  if (feed_) feed_->tick(now);
  if (records_ && records_->failed && !records_->loading) load_records();
}

void session_handler::resubscribed() {
  if (feed_) feed_->on_resubscribed();
}

void session_handler::feed_follow(const std::string& symbol, bool follow) {
  auto& list = more().follow_only;
  const auto it = std::find(list.begin(), list.end(), symbol);
  if (follow) {
    if (worker_.is_subscribed(&sink_, symbol)) return;  // the client's own subscription carries it
    list.push_back(symbol);
    worker_.subscribe(&sink_, symbol, nullptr);
  } else if (it != list.end()) {
    list.erase(it);
    worker_.unsubscribe(&sink_, symbol);
  }
}

void session_handler::feed_filter_prices(std::vector<std::pair<std::string, std::string>>& prices) {
  auto& x = more();
  std::erase_if(prices,
                [&x](const auto& p) { return std::find(x.ticked.begin(), x.ticked.end(), p.first) != x.ticked.end(); });
  if (x.price_snapshots_pending > 0 && --x.price_snapshots_pending == 0) x.ticked.clear();
}

// --- sources --------------------------------------------------------------------------------

bool session_handler::depends_on(const std::string& source) const {
  if (feed_ && feed_->depends_on(source)) return true;
  bool found = false;
  worker_.for_each_subscription(&sink_, [&](const std::string& key) {
    if (found || is_user_route(key)) return;
    if (const auto* src = worker_.tick_source(key); src != nullptr && *src == source) found = true;
  });
  return found;
}

void session_handler::report_stale_sources() {
  for (const auto& [source, since_us] : worker_.stale_sources()) {
    if (depends_on(source)) out_.reply(render_stale(source, since_us));
  }
}

void session_handler::source_changed(const std::string& source, bool stale, std::int64_t since_us) {
  if (out_.ending() || !depends_on(source)) return;
  svc_.metrics.source_transition(source, stale);
  out_.reply(stale ? render_stale(source, since_us) : render_fresh(source));
}

}  // namespace tickstream::edge
