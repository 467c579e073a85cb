#include "ingest/publish/event_publisher.hpp"

#include <memory>
#include <optional>

#include "common/clock.hpp"
#include "common/event_codec.hpp"
#include "common/log.hpp"
#include "common/redis/keys.hpp"

namespace tickstream::ingest {

namespace {

// Failures are logged for the first 20 and then every 1000th: a Redis that refuses every write
// must not flood the log (each is counted).
bool log_this_failure(std::uint64_t n) { return n <= 20 || n % 1000 == 0; }

}  // namespace

// Outcomes gathered under the lock and reported after it is released: ticks that were conflated
// or expired.
struct event_publisher::settle {
  std::vector<std::pair<outcome, item>> items;
  void add(outcome o, item&& it) { items.emplace_back(o, std::move(it)); }
};

event_publisher::event_publisher(common::redis_client& redis, options opts)
    : redis_(redis),
      store_(redis, opts.history_len),
      observe_(std::move(opts.observe)),
      limits_(opts.limits),
      queue_(opts.limits) {}

event_publisher::event_publisher(common::redis_client& redis, std::size_t max_in_flight, std::int64_t history_len)
    : event_publisher(redis, options{publish_queue_limits{.max_in_flight = max_in_flight}, history_len, {}}) {}

std::int64_t event_publisher::now_us() const { return common::now_us(); }

admission event_publisher::publish(const common::event& ev, const done_handler& done) {
  settle s;
  admission a;
  publish_kind kind = publish_kind::private_event;
  {
    std::unique_lock lock(mu_);
    if (const auto* tick = std::get_if<common::price_update>(&ev)) {
      kind = publish_kind::tick;
      item replaced;
      a = queue_.push_tick(tick->symbol, tick->recv_time_us, item{ev, done}, &replaced);
      if (a == admission::conflated) s.add(outcome::dropped, std::move(replaced));
    } else {
      a = queue_.push(publish_kind::private_event, item{ev, done});
    }
    if (a != admission::refused) pump_locked(lock, s);
  }
  if (a == admission::refused) report(outcome::refused, kind, done);
  for (auto& [o, it] : s.items) report(o, publish_kind::tick, it.done);
  return a;
}

void event_publisher::dead_letter(const std::string& source, const common::error& problem, std::string_view input,
                                  std::int64_t recv_us) {
  dead_letter_args d{{"XADD", std::string(common::dead_letter_stream), "MAXLEN", "~", std::to_string(dead_letter_len),
                      "*", "source", source, "code", problem.code, "reason", problem.message, "excerpt",
                      common::excerpt(input, 512), "recv_us", std::to_string(recv_us)},
                     source};
  settle s;
  admission a;
  {
    std::unique_lock lock(mu_);
    a = queue_.push(publish_kind::dead_letter, item{std::move(d), {}});
    if (a != admission::refused) pump_locked(lock, s);
  }
  if (a == admission::refused) report(outcome::refused, publish_kind::dead_letter, {});
  for (auto& [o, it] : s.items) report(o, publish_kind::tick, it.done);
}

void event_publisher::pump() {
  settle s;
  {
    std::unique_lock lock(mu_);
    pump_locked(lock, s);
  }
  for (auto& [o, it] : s.items) report(o, publish_kind::tick, it.done);
}

// Sends under the lock, so that commands reach Redis in the order next() handed them out (a
// user's private events keep their order whichever thread pumps).
void event_publisher::pump_locked(std::unique_lock<std::mutex>&, settle& s) {
  const auto now = now_us();
  const bool up = redis_.command_connected();
  std::vector<item> expired;
  while (auto r = queue_.next(now, up, &expired)) send(r->id, r->kind, std::move(r->item));
  for (auto& e : expired) s.add(outcome::dropped, std::move(e));
}

void event_publisher::send(std::uint64_t id, publish_kind kind, item&& it) {
  if (kind == publish_kind::dead_letter) {
    auto& d = std::get<dead_letter_args>(it.what);
    redis_.command(d.args, [this, id, source = d.source](const common::result<common::redis_reply>& r) {
      if (!r) {
        common::log_warn("keeping a dead letter failed",
                         {{"source", source}, {"code", r.err().code}, {"reason", r.err().message}});
      }
      on_reply(id, publish_kind::dead_letter, r ? outcome::published : outcome::failed, {});
    });
    return;
  }
  auto& ev = std::get<common::event>(it.what);
  if (kind == publish_kind::private_event) {
    store_.store(std::move(ev), [this, id, done = std::move(it.done)](common::result<std::int64_t> r) {
      if (!r) {
        std::lock_guard lock(mu_);
        if (log_this_failure(counters_.failed + 1)) {
          common::log_warn("storing a private event failed", {{"code", r.err().code}, {"reason", r.err().message}});
        }
      }
      on_reply(id, publish_kind::private_event,
               !r               ? outcome::failed
               : r.value() == 0 ? outcome::duplicate
                                : outcome::published,
               done);
    });
    return;
  }
  const auto& tick = std::get<common::price_update>(ev);
  std::string payload = common::encode_event(tick);
  // SET before PUBLISH: whoever hears the message and then reads the key sees this tick or newer.
  // Both replies count: a refused SET (OOM) leaves the last price unstored though the PUBLISH went
  // out. The replies arrive in order on the Redis thread, so the SET's is known at the PUBLISH's.
  auto set_failed = std::make_shared<std::optional<common::error>>();
  redis_.command({"SET", common::market_last_key(tick.symbol), payload, "EX", std::to_string(last_tick_ttl_s)},
                 [set_failed](const common::result<common::redis_reply>& r) {
                   if (!r) *set_failed = r.err();
                 });
  redis_.command({"PUBLISH", common::market_channel(tick.symbol), std::move(payload)},
                 [this, id, set_failed, symbol = tick.symbol,
                  done = std::move(it.done)](const common::result<common::redis_reply>& r) {
                   std::optional<common::error> problem = *set_failed;
                   if (!r) problem = r.err();
                   if (problem) {
                     std::lock_guard lock(mu_);
                     if (log_this_failure(counters_.failed + 1)) {
                       common::log_warn("publishing a tick failed",
                                        {{"symbol", symbol}, {"code", problem->code}, {"reason", problem->message}});
                     }
                   }
                   on_reply(id, publish_kind::tick, problem ? outcome::failed : outcome::published, done);
                 });
}

void event_publisher::on_reply(std::uint64_t id, publish_kind kind, outcome o, const done_handler& done) {
  settle s;
  {
    std::unique_lock lock(mu_);
    queue_.on_reply(id);
    // Dead letters are not events: one Redis did not keep is logged, not an event lost.
    if (kind != publish_kind::dead_letter) {
      if (o == outcome::published) ++counters_.published;
      if (o == outcome::duplicate) ++counters_.duplicates;
      if (o == outcome::failed) ++counters_.failed;
    }
    pump_locked(lock, s);
  }
  cv_.notify_all();
  report(o, kind, done);
  for (auto& [so, it] : s.items) report(so, publish_kind::tick, it.done);
}

void event_publisher::report(outcome o, publish_kind kind, const done_handler& done) {
  if (observe_) observe_(o, kind);
  if (done) done(o);
}

void event_publisher::probe() {
  std::lock_guard lock(mu_);
  if (queue_.in_flight() > 0 || !redis_.command_connected()) return;
  const auto id = queue_.track(now_us());
  redis_.command({"PING"}, [this, id](const common::result<common::redis_reply>&) {
    {
      std::unique_lock l(mu_);
      queue_.on_reply(id);
      settle s;
      pump_locked(l, s);
      l.unlock();
      for (auto& [o, it] : s.items) report(o, publish_kind::tick, it.done);
    }
    cv_.notify_all();
  });
}

bool event_publisher::usable() const {
  std::lock_guard lock(mu_);
  return queue_.usable(now_us(), redis_.command_connected());
}

bool event_publisher::stalled() const {
  std::lock_guard lock(mu_);
  return redis_.command_connected() && !queue_.usable(now_us(), true);
}

bool event_publisher::has_room_for_private(std::size_t n) const {
  std::lock_guard lock(mu_);
  return queue_.has_room_for_private(n);
}

bool event_publisher::wait_for_room(const std::function<bool()>& stopping) {
  std::unique_lock lock(mu_);
  for (;;) {
    if (stopping()) return false;
    settle s;
    pump_locked(lock, s);
    if (queue_.waiting() == 0 && queue_.in_flight() < queue_.limits().max_in_flight &&
        queue_.usable(now_us(), redis_.command_connected())) {
      return true;
    }
    // Woken by every reply; the timeout notices a reconnect with nothing in flight, and stop().
    cv_.wait_for(lock, std::chrono::milliseconds(20));
  }
}

bool event_publisher::wait_idle(const std::function<bool()>& stopping) {
  std::unique_lock lock(mu_);
  while (!queue_.idle()) {
    if (stopping()) return false;
    settle s;
    pump_locked(lock, s);
    if (!s.items.empty()) {
      lock.unlock();
      for (auto& [o, it] : s.items) report(o, publish_kind::tick, it.done);
      lock.lock();
      continue;
    }
    cv_.wait_for(lock, std::chrono::milliseconds(20));
  }
  return true;
}

bool event_publisher::flush(std::chrono::milliseconds limit) {
  const bool forever = limit == std::chrono::milliseconds::max();
  const auto deadline = std::chrono::steady_clock::now() + (forever ? std::chrono::milliseconds(0) : limit);
  std::unique_lock lock(mu_);
  while (!queue_.idle()) {
    settle s;
    pump_locked(lock, s);
    if (!s.items.empty()) {
      lock.unlock();
      for (auto& [o, it] : s.items) report(o, publish_kind::tick, it.done);
      lock.lock();
      continue;
    }
    if (!forever && std::chrono::steady_clock::now() >= deadline) break;
    cv_.wait_for(lock, std::chrono::milliseconds(20));
  }
  auto left = queue_.take_waiting();
  const auto unanswered = queue_.in_flight();
  const auto kind_of = [](const item& it) {
    if (!std::holds_alternative<common::event>(it.what)) return publish_kind::dead_letter;
    return std::holds_alternative<common::price_update>(std::get<common::event>(it.what)) ? publish_kind::tick
                                                                                          : publish_kind::private_event;
  };
  // The unanswered ones fail when the Redis client stops; the waiting ones are given up here.
  std::size_t events_left = 0;
  for (const auto& it : left) events_left += kind_of(it) == publish_kind::dead_letter ? 0 : 1;
  counters_.abandoned += events_left;
  counters_.failed += events_left;
  lock.unlock();
  if (!left.empty() || unanswered > 0) {
    common::log_error("stopping before Redis took every event",
                      {{"waiting", left.size()}, {"unanswered", unanswered}, {"waited_ms", limit.count()}});
  }
  for (auto& it : left) report(outcome::abandoned, kind_of(it), it.done);
  return left.empty() && unanswered == 0;
}

event_publisher::counters event_publisher::snapshot() const {
  std::lock_guard lock(mu_);
  return counters_;
}

publish_queue_counters event_publisher::queue_stats() const {
  std::lock_guard lock(mu_);
  return queue_.stats();
}

std::size_t event_publisher::waiting() const {
  std::lock_guard lock(mu_);
  return queue_.waiting();
}

}  // namespace tickstream::ingest
