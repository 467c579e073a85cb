#include "ingest/tick_publisher.hpp"

#include "common/event_codec.hpp"
#include "common/log.hpp"
#include "common/symbol.hpp"

namespace tickstream::ingest {

tick_publisher::tick_publisher(common::redis_client& redis, std::size_t max_in_flight)
    : redis_(redis), max_in_flight_(max_in_flight) {}

void tick_publisher::publish(const common::price_update& tick) {
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return in_flight_ < max_in_flight_; });
    ++in_flight_;
  }
  std::string payload = common::encode_event(tick);
  // SET before PUBLISH: whoever hears the message and then reads the key sees this tick or newer.
  redis_.command({"SET", common::market_last_key(tick.symbol), payload, "EX", std::to_string(last_tick_ttl_s)});
  redis_.command({"PUBLISH", common::market_channel(tick.symbol), std::move(payload)},
                 [this, symbol = tick.symbol](common::result<common::redis_reply> r) {
                   if (!r) {
                     common::log_warn("publish failed", {{"symbol", symbol}, {"code", r.err().code},
                                                         {"reason", r.err().message}});
                   }
                   on_done(r.ok());
                 });
}

void tick_publisher::on_done(bool ok) {
  {
    std::lock_guard lock(mu_);
    --in_flight_;
    ++(ok ? counters_.published : counters_.failed);
  }
  cv_.notify_all();
}

void tick_publisher::flush() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return in_flight_ == 0; });
}

tick_publisher::counters tick_publisher::snapshot() const {
  std::lock_guard lock(mu_);
  return counters_;
}

}  // namespace tickstream::ingest
