#include "edge/fanout.hpp"

#include <algorithm>
#include <utility>

#include "common/event_codec.hpp"
#include "common/log.hpp"
#include "common/symbol.hpp"
#include "edge/worker.hpp"

namespace tickstream::edge {

fanout::fanout(edge_metrics& metrics, std::string control_channel)
    : metrics_(metrics), control_channel_(std::move(control_channel)) {}

void fanout::attach(common::redis_client& redis, std::vector<worker*> workers) {
  redis_ = &redis;
  workers_ = std::move(workers);
  gathered_.resize(workers_.size());
}

void fanout::acquire(const std::string& symbol, std::size_t worker_id, std::uint64_t generation) {
  redis_->post([this, symbol, worker_id, generation] {
    auto channel = common::market_channel(symbol);
    auto& route = routes_[channel];
    route.push_back(worker_id);
    metrics_.redis_channels.Set(static_cast<double>(routes_.size()));
    // The route exists before the subscription can confirm, so no message after the
    // confirmation can miss this worker.
    redis_->subscribe(std::move(channel), [this, symbol, worker_id, generation] {
      workers_[worker_id]->post_activate(symbol, generation);
    });
  });
}

void fanout::release(const std::string& symbol, std::size_t worker_id) {
  redis_->post([this, symbol, worker_id] {
    auto channel = common::market_channel(symbol);
    const auto it = routes_.find(channel);
    if (it == routes_.end()) return;
    auto& route = it->second;
    const auto pos = std::find(route.begin(), route.end(), worker_id);
    if (pos == route.end()) return;
    route.erase(pos);
    if (route.empty()) routes_.erase(it);
    metrics_.redis_channels.Set(static_cast<double>(routes_.size()));
    redis_->unsubscribe(std::move(channel));
  });
}

void fanout::on_message(std::string_view channel, std::string_view payload) {
  if (channel == control_channel_) return;
  metrics_.redis_messages.Increment();
  const auto route = routes_.find(channel);
  if (route == routes_.end()) return;  // arrived after the last worker let go of the channel

  auto decoded = common::decode_event(payload);
  std::string reason;
  if (!decoded) {
    reason = decoded.err().code;
  } else if (const auto* tick = std::get_if<common::price_update>(&decoded.value());
             tick == nullptr || common::symbol_of_market_channel(channel) != tick->symbol) {
    reason = "channel_mismatch";
  }
  if (!reason.empty()) {
    metrics_.upstream_invalid(reason);
    // Bounded logging: a flood of bad messages must not become a flood of log lines.
    if (++invalid_seen_ <= 20 || invalid_seen_ % 1000 == 0) {
      common::log_warn("dropping unusable message from Redis",
                       {{"channel", channel}, {"reason", reason},
                        {"detail", decoded ? std::string("event does not match its channel") : decoded.err().message},
                        {"excerpt", common::excerpt(payload)}, {"seen", invalid_seen_}});
    }
    return;
  }
  const auto& tick = std::get<common::price_update>(decoded.value());
  // Serialize once, share the bytes: ingest's canonical encoding is forwarded unchanged.
  auto f = make_text_frame(frame_kind::tick, tick.symbol, payload);
  for (const auto id : route->second) gathered_[id].push_back(f);
}

void fanout::flush() {
  // One post (one wake-up of the worker thread) per worker per round, however many messages.
  for (std::size_t id = 0; id < gathered_.size(); ++id) {
    if (!gathered_[id].empty()) workers_[id]->post_deliver(std::exchange(gathered_[id], {}));
  }
}

}  // namespace tickstream::edge
