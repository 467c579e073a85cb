#include "edge/fanout/worker.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <random>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "edge/fanout/frame_sink.hpp"
#include "edge/fanout/guarded_call.hpp"

namespace tickstream::edge {

worker::worker(std::size_t id, route_registry& routes, std::chrono::milliseconds tick,
               std::chrono::milliseconds stale_after)
    : id_(id),
      routes_(routes),
      latency_({0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05,
                0.075,   0.1,    0.15,  0.2,   0.3,   0.5,   0.75,   1,    2,     5,    10},
               true),
      batch_sizes_({1, 2, 5, 10, 20, 50, 100, 200, 500, 1000}, false),
      tick_(tick),
      stale_after_(stale_after) {}

void worker::post_revoke(std::string user, std::string session, std::string reason) {
  boost::asio::post(ioc_, [this, user = std::move(user), session = std::move(session), reason = std::move(reason)] {
    revoke(user, session, reason);
  });
}

void worker::revoke(const std::string& user, const std::string& session, const std::string& reason) {
  // A visit of every session: a disconnect is rare, and a user's sessions are not indexed unless
  // they hold a private channel.
  const std::vector<frame_sink*> open(sessions_.begin(), sessions_.end());
  for (auto* s : open) s->revoke(user, session, reason);
}

template <class Fn>
void worker::in_round(Fn&& fn) {
  // The round's end comes even if a delivery throws (handlers do not, by design): the sessions
  // that asked to write are written, and write_soon() goes on posting outside rounds.
  try {
    std::forward<Fn>(fn)();
  } catch (...) {
    delivered();
    throw;
  }
  delivered();
}

void worker::post_broadcast(frame_ptr f) {
  boost::asio::post(ioc_, [this, f = std::move(f)] { in_round([&] { broadcast(f); }); });
}

void worker::broadcast(const frame_ptr& f) {
  write_due_ = true;
  const std::vector<frame_sink*> open(sessions_.begin(), sessions_.end());
  for (auto* s : open) s->send(f);
}

void worker::post_entitlements(std::string user, std::string plan) {
  boost::asio::post(ioc_, [this, user = std::move(user), plan = std::move(plan)] { entitlements_changed(user, plan); });
}

void worker::entitlements_changed(const std::string& user, const std::string& plan) {
  // A visit of every session, as for a disconnect: a change of entitlements is rare.
  const std::vector<frame_sink*> open(sessions_.begin(), sessions_.end());
  for (auto* s : open) s->entitlements_changed(user, plan);
}

void worker::post_drain(std::chrono::milliseconds window) {
  boost::asio::post(ioc_, [this, window] {
    std::mt19937_64 rng(std::random_device{}() ^ id_);
    std::uniform_int_distribution<std::int64_t> spread(0, std::max<std::int64_t>(0, window.count() - 1));
    const std::vector<frame_sink*> open(sessions_.begin(), sessions_.end());
    for (auto* s : open) s->drain(std::chrono::milliseconds(spread(rng)));
  });
}

worker::~worker() {
  guard_.reset();
  ioc_.stop();
  join();
  // I/O objects must go before their io_context, which is destroyed first.
  stop_timer_.reset();
  tick_timer_.reset();
  to_write_.clear();
}

void worker::start() {
  guard_.emplace(ioc_.get_executor());
  tick_timer_.emplace(ioc_);
  schedule_tick();
  thread_ = std::thread([this] {
    for (;;) {
      try {
        ioc_.run();
        return;
      } catch (const std::exception& e) {
        // Handlers do not throw by design; if one does, log it and keep serving the others.
        common::log_error("worker handler threw", {{"worker", id_}, {"what", e.what()}});
      }
    }
  });
}

void worker::stop(std::chrono::milliseconds grace) {
  boost::asio::post(ioc_, [this, grace] {
    stop_timer_.emplace(ioc_, grace);
    // Fires after grace, or when cancelled because the last session has closed.
    stop_timer_->async_wait([this](const boost::system::error_code&) { ioc_.stop(); });
    // Sessions remove themselves as they close; iterate over a copy.
    const std::vector<frame_sink*> open(sessions_.begin(), sessions_.end());
    for (auto* s : open) s->shutdown();
    guard_.reset();
    stopping_ = true;
    tick_timer_->cancel();  // close handshakes still time out: stop_timer_ bounds the wait
    if (open.empty()) stop_timer_->cancel();
  });
}

void worker::schedule_tick() {
  tick_timer_->expires_after(tick_);
  tick_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    write_memory_.trim();  // at each sweep: keep what the busiest moment since the last one needed
    sessions_.begin_sweep();
    sweep_step(std::chrono::steady_clock::now());
  });
}

void worker::sweep_step(std::chrono::steady_clock::time_point now) {
  // At most sweep_batch sessions per turn of the event loop: a worker holding tens of thousands of
  // connections reads and writes between the batches instead of stalling for the whole sweep.
  // Sessions that close meanwhile leave the roster, and the sweep goes on with the others.
  if (sessions_.sweep(sweep_batch, [now](frame_sink* s) { s->tick(now); })) {
    boost::asio::post(ioc_, [this, now] { sweep_step(now); });
    return;
  }
  check_sources(now);
  if (!stopping_) schedule_tick();
}

void worker::join() {
  if (thread_.joinable()) thread_.join();
}

void worker::post_deliver(std::vector<frame_ptr> frames) {
  boost::asio::post(ioc_, [this, frames = std::move(frames)] {
    in_round([&] {
      // A message that fails to deliver does not hold back the rest of its round (as with one
      // worker, where each message is delivered on its own).
      for (const auto& f : frames) guarded_call(id_, "worker handler threw", [&] { deliver(f); });
    });
  });
}

void worker::post_activate(std::string route, std::uint64_t generation) {
  boost::asio::post(ioc_, [this, route = std::move(route), generation] { activate(route, generation); });
}

void worker::post_refuse(std::string route, std::uint64_t generation) {
  boost::asio::post(ioc_, [this, route = std::move(route), generation] { refuse(route, generation); });
}

void worker::post_source_status(std::string source, bool connected) {
  boost::asio::post(ioc_, [this, source = std::move(source), connected] { source_status(source, connected); });
}

void worker::source_status(const std::string& source, bool connected) {
  const auto now = std::chrono::steady_clock::now();
  auto [it, added] = sources_.try_emplace(source);
  auto& h = it->second;
  // A source first heard of while down starts its stale clock now.
  if (added) {
    h.last_good = now;
    h.last_good_us = common::now_us();
  }
  if (!connected) return;
  h.last_good = now;
  h.last_good_us = common::now_us();
  if (h.stale) {
    h.stale = false;
    common::log_info("source fresh again", {{"worker", id_}, {"source", source}});
    notify_sources(source, false, h.last_good_us);
  }
}

void worker::check_sources(std::chrono::steady_clock::time_point now) {
  for (auto& [source, h] : sources_) {
    if (h.stale || now - h.last_good < stale_after_) continue;
    h.stale = true;
    common::log_warn("source stale: no good heartbeat",
                     {{"worker", id_}, {"source", source}, {"stale_after_ms", stale_after_.count()}});
    notify_sources(source, true, h.last_good_us);
  }
}

void worker::notify_sources(const std::string& source, bool stale, std::int64_t since_us) {
  const std::vector<frame_sink*> open(sessions_.begin(), sessions_.end());
  for (auto* s : open) s->source_changed(source, stale, since_us);
}

const std::string* worker::tick_source(std::string_view symbol) const {
  const auto it = symbols_.find(symbol);
  return it == symbols_.end() || it->second.source.empty() ? nullptr : &it->second.source;
}

std::vector<std::pair<std::string, std::int64_t>> worker::stale_sources() const {
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (const auto& [source, h] : sources_) {
    if (h.stale) out.emplace_back(source, h.last_good_us);
  }
  return out;
}

void worker::add_session(frame_sink* s) {
  sessions_.add(s);
  session_count_.store(sessions_.size(), std::memory_order_relaxed);
}

void worker::remove_session(frame_sink* s) {
  index_.remove_all(s, [this](const std::string& symbol) { release(symbol); });
  subscriptions_.store(index_.pair_count(), std::memory_order_relaxed);
  sessions_.remove(s);
  session_count_.store(sessions_.size(), std::memory_order_relaxed);
  if (stop_timer_ && sessions_.empty()) stop_timer_->cancel();  // stopping, and the last one is gone
}

void worker::subscribe(frame_sink* s, const std::string& symbol, std::function<void()> on_active,
                       std::function<void()> on_refused) {
  const bool first = index_.add(symbol, s);
  subscriptions_.store(index_.pair_count(), std::memory_order_relaxed);
  auto it = symbols_.find(symbol);
  if (it == symbols_.end()) it = symbols_.emplace(symbol, symbol_state{next_generation_++, false, {}, {}}).first;
  if (first) routes_.acquire(symbol, id_, it->second.generation);
  if (!on_active) return;
  if (it->second.active) {
    on_active();
  } else {
    it->second.waiters.push_back({s, std::move(on_active), std::move(on_refused)});
  }
}

bool worker::unsubscribe(frame_sink* s, const std::string& symbol) {
  if (!index_.contains(symbol, s)) return false;
  // s stops waiting for this symbol: answer its pending subscribe now, so that its "subscribed"
  // never follows its "unsubscribed".
  if (const auto it = symbols_.find(symbol); it != symbols_.end()) {
    auto& waiters = it->second.waiters;
    std::vector<std::function<void()>> mine;
    for (auto w = waiters.begin(); w != waiters.end();) {
      if (w->sink == s) {
        mine.push_back(std::move(w->on_active));
        w = waiters.erase(w);
      } else {
        ++w;
      }
    }
    for (auto& fn : mine) fn();
  }
  if (index_.remove(symbol, s)) release(symbol);
  subscriptions_.store(index_.pair_count(), std::memory_order_relaxed);
  return true;
}

void worker::release(const std::string& symbol) {
  const auto it = symbols_.find(symbol);
  if (it == symbols_.end()) return;
  // Anyone still waiting gave up the symbol before Redis confirmed it: let them proceed, so every
  // subscribe request is answered.
  auto waiters = std::move(it->second.waiters);
  symbols_.erase(it);
  routes_.release(symbol, id_);
  for (auto& w : waiters) w.on_active();
}

void worker::activate(const std::string& symbol, std::uint64_t generation) {
  const auto it = symbols_.find(symbol);
  // Released meanwhile, or confirmed for an earlier acquisition.
  if (it == symbols_.end() || it->second.generation != generation) return;
  if (it->second.active) {
    // Confirmed again after a reconnect: a user's sessions check their stream for a gap.
    if (is_user_route(symbol)) index_.for_each(symbol, [&symbol](frame_sink* s) { s->resubscribed(symbol); });
    return;
  }
  it->second.active = true;
  auto waiters = std::move(it->second.waiters);
  it->second.waiters.clear();
  for (auto& w : waiters) w.on_active();
}

void worker::refuse(const std::string& symbol, std::uint64_t generation) {
  const auto it = symbols_.find(symbol);
  if (it == symbols_.end() || it->second.generation != generation) return;
  // Redis refused the route's channel (an ACL): no session here can have it. The channel table
  // has let go of this worker already; each pending subscribe hears the refusal.
  auto waiters = std::move(it->second.waiters);
  symbols_.erase(it);
  std::vector<frame_sink*> holding;
  index_.for_each(symbol, [&holding](frame_sink* s) { holding.push_back(s); });
  for (auto* s : holding) index_.remove(symbol, s);
  subscriptions_.store(index_.pair_count(), std::memory_order_relaxed);
  for (auto& w : waiters) (w.on_refused ? w.on_refused : w.on_active)();
}

void worker::deliver(const frame_ptr& f) {
  write_due_ = true;
  if (f->kind == frame_kind::tick && !f->source.empty()) {
    if (const auto it = symbols_.find(f->key); it != symbols_.end() && it->second.source != f->source) {
      it->second.source = f->source;
    }
  }
  index_.for_each(f->route, [&f](frame_sink* s) { s->send(f); });
}

void worker::write_soon(std::shared_ptr<frame_sink> s) {
  to_write_.push_back(std::move(s));
  if (write_due_) return;
  // Not in a round of deliveries (a reply to a resume, say): written in a handler of its own.
  write_due_ = true;
  boost::asio::post(ioc_, [this] { write_queued(); });
}

void worker::write_queued() {
  write_due_ = false;
  std::swap(to_write_, writing_);
  // One session's failure does not leave the others' frames unwritten (nor the list held).
  for (const auto& s : writing_) guarded_call(id_, "session write threw", [&] { s->write_queued(); });
  writing_.clear();
}

void worker::wrote(const std::vector<frame_ptr>& frames, std::size_t bytes, bool ok) {
  std::int64_t now_us = 0;
  for (const auto& f : frames) {
    if (f->recv_time_us <= 0 || !ok) continue;
    if (now_us == 0) now_us = common::now_us();
    observe_latency(static_cast<double>(std::max<std::int64_t>(0, now_us - f->recv_time_us)) / 1e6, now_us / 1'000'000);
  }
  count_sent(frames.size(), bytes);
}

}  // namespace tickstream::edge
