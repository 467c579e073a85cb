#include "ingest/publish/event_publisher.hpp"

#include "common/event_codec.hpp"
#include "common/log.hpp"
#include "common/redis/keys.hpp"

namespace tickstream::ingest {

event_publisher::event_publisher(common::redis_client& redis, std::size_t max_in_flight, std::int64_t history_len)
    : redis_(redis), store_(redis, history_len), max_in_flight_(max_in_flight) {}

void event_publisher::acquire() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return in_flight_ < max_in_flight_; });
  ++in_flight_;
}

void event_publisher::publish(const common::event& ev, done_handler done) {
  acquire();
  if (const auto* tick = std::get_if<common::price_update>(&ev)) return publish_tick(*tick, std::move(done));
  store_.store(ev, [this, done = std::move(done)](common::result<std::int64_t> r) {
    if (!r) common::log_warn("storing a private event failed", {{"code", r.err().code}, {"reason", r.err().message}});
    on_done(!r ? outcome::failed : r.value() == 0 ? outcome::duplicate : outcome::published, done);
  });
}

void event_publisher::publish_tick(const common::price_update& tick, done_handler done) {
  std::string payload = common::encode_event(tick);
  // SET before PUBLISH: whoever hears the message and then reads the key sees this tick or newer.
  redis_.command({"SET", common::market_last_key(tick.symbol), payload, "EX", std::to_string(last_tick_ttl_s)});
  redis_.command({"PUBLISH", common::market_channel(tick.symbol), std::move(payload)},
                 [this, symbol = tick.symbol, done = std::move(done)](const common::result<common::redis_reply>& r) {
                   if (!r) {
                     common::log_warn("publish failed", {{"symbol", symbol}, {"code", r.err().code},
                                                         {"reason", r.err().message}});
                   }
                   on_done(r.ok() ? outcome::published : outcome::failed, done);
                 });
}

void event_publisher::dead_letter(const std::string& source, const common::error& problem, std::string_view input,
                                  std::int64_t recv_us) {
  acquire();
  redis_.command({"XADD", std::string(common::dead_letter_stream), "MAXLEN", "~", std::to_string(dead_letter_len), "*",
                  "source", source, "code", problem.code, "reason", problem.message, "excerpt",
                  common::excerpt(input, 512), "recv_us", std::to_string(recv_us)},
                 [this, source](const common::result<common::redis_reply>& r) {
                   if (!r) {
                     common::log_warn("keeping a dead letter failed", {{"source", source}, {"code", r.err().code},
                                                                       {"reason", r.err().message}});
                   }
                   release();
                 });
}

void event_publisher::release(std::uint64_t* counted) {
  {
    std::lock_guard lock(mu_);
    --in_flight_;
    if (counted != nullptr) ++*counted;
  }
  cv_.notify_all();
}

void event_publisher::on_done(outcome o, const done_handler& done) {
  release(o == outcome::duplicate   ? &counters_.duplicates
          : o == outcome::published ? &counters_.published
                                    : &counters_.failed);
  if (done) done(o);
}

void event_publisher::flush() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return in_flight_ == 0; });
}

event_publisher::counters event_publisher::snapshot() const {
  std::lock_guard lock(mu_);
  return counters_;
}

}  // namespace tickstream::ingest
