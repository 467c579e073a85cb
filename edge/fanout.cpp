#include "edge/fanout.hpp"

#include <algorithm>
#include <optional>
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

namespace {

// The Redis channel of a worker route: a symbol's market channel, or a user's channel.
std::string channel_of(const std::string& route) {
  if (is_user_route(route)) return "ts:{u:" + route.substr(3) + "}";
  return common::market_channel(route);
}

std::optional<std::string_view> user_of_channel(std::string_view channel) noexcept {
  constexpr std::string_view prefix = "ts:{u:";
  if (channel.size() <= prefix.size() + 1 || !channel.starts_with(prefix) || channel.back() != '}') return std::nullopt;
  return channel.substr(prefix.size(), channel.size() - prefix.size() - 1);
}

// How a private event travels: its frame kind and conflation key.
std::pair<frame_kind, std::string> private_frame_of(const common::event& ev) {
  return std::visit(
      [](const auto& e) -> std::pair<frame_kind, std::string> {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, common::order_update>) return {frame_kind::order, e.order_id};
        if constexpr (std::is_same_v<T, common::trade_executed>) return {frame_kind::trade, e.execution_id};
        if constexpr (std::is_same_v<T, common::position_update>) return {frame_kind::position, e.symbol};
        if constexpr (std::is_same_v<T, common::account_update>) return {frame_kind::account, {}};
        return {frame_kind::tick, {}};
      },
      ev);
}

const std::string* user_id_of(const common::event& ev) {
  return std::visit(
      [](const auto& e) -> const std::string* {
        if constexpr (std::is_same_v<std::decay_t<decltype(e)>, common::price_update>) {
          return nullptr;
        } else {
          return &e.header.user_id;
        }
      },
      ev);
}

}  // namespace

void fanout::acquire(const std::string& symbol, std::size_t worker_id, std::uint64_t generation) {
  redis_->post([this, symbol, worker_id, generation] {
    auto channel = channel_of(symbol);
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
    auto channel = channel_of(symbol);
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
  const auto user = user_of_channel(channel);
  if (!decoded) {
    reason = decoded.err().code;
  } else if (user) {
    // A user's channel carries only that user's private events: anything else is dropped, so a
    // misrouted event can never reach another user's connections.
    const auto* owner = user_id_of(decoded.value());
    if (owner == nullptr || *owner != *user) reason = "channel_mismatch";
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
  // Serialize once, share the bytes: ingest's canonical encoding is forwarded unchanged.
  frame_ptr f;
  if (user) {
    auto [kind, key] = private_frame_of(decoded.value());
    f = make_text_frame(kind, std::move(key), payload, user_route(*user));
  } else {
    f = make_text_frame(frame_kind::tick, std::get<common::price_update>(decoded.value()).symbol, payload);
  }
  for (const auto id : route->second) gathered_[id].push_back(f);
}

void fanout::flush() {
  // One post (one wake-up of the worker thread) per worker per round, however many messages.
  for (std::size_t id = 0; id < gathered_.size(); ++id) {
    if (!gathered_[id].empty()) workers_[id]->post_deliver(std::exchange(gathered_[id], {}));
  }
}

}  // namespace tickstream::edge
