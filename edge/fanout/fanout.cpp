#include "edge/fanout/fanout.hpp"

#include <rapidjson/document.h>

#include <cassert>
#include <optional>
#include <utility>

#include "common/clock.hpp"
#include "common/event_codec.hpp"
#include "common/log.hpp"
#include "common/tier_command.hpp"
#include "edge/fanout/guarded_call.hpp"
#include "edge/portfolio/private_frame.hpp"

namespace tickstream::edge {

fanout::fanout(edge_metrics& metrics, std::string control_channel, app_conflation conflation)
    : metrics_(metrics), control_channel_(std::move(control_channel)), conflation_(std::move(conflation)) {}

void fanout::attach(common::redis_client& redis, std::vector<fanout_target*> workers,
                    std::function<void(std::string_view)> on_control, handoff how) {
  assert((how == handoff::posted || workers.size() == 1) && "direct hand-off: one worker");
  redis_ = &redis;
  on_control_ = std::move(on_control);
  workers_ = std::move(workers);
  direct_ = how == handoff::direct;
  gathered_.resize(workers_.size());
  redis.set_activation_handler([this](const common::channel_activation& a) { on_activation(a); });
  redis.set_refusal_handler([this](const common::channel_refusal& r) { on_refusal(r); });
}

namespace {

// The Redis channel of a worker route: a symbol's market channel, a user's or a topic's channel.
std::string channel_of(const std::string& route) {
  if (is_user_route(route)) return common::user_channel(std::string_view(route).substr(3));
  if (is_topic_route(route)) return common::topic_channel(std::string_view(route).substr(3));
  return common::market_channel(route);
}

// The worker route of a channel a worker holds (the inverse of channel_of).
std::string route_of(std::string_view channel) {
  if (const auto user = common::user_of_channel(channel)) return user_route(*user);
  if (const auto topic = common::topic_of_channel(channel)) return topic_route(*topic);
  const auto symbol = common::symbol_of_market_channel(channel);
  assert(symbol && "workers hold only market, user and topic channels");
  return std::string(symbol.value_or(channel));
}

// Whether payload is {"type":"topic_message","topic":<topic>,...} (as the server API writes it).
bool is_topic_message(std::string_view payload, std::string_view topic) {
  rapidjson::Document doc;
  doc.Parse(payload.data(), payload.size());
  if (doc.HasParseError() || !doc.IsObject()) return false;
  const auto type = doc.FindMember("type");
  const auto name = doc.FindMember("topic");
  return type != doc.MemberEnd() && name != doc.MemberEnd() && type->value.IsString() && name->value.IsString() &&
         std::string_view(type->value.GetString(), type->value.GetStringLength()) == "topic_message" &&
         std::string_view(name->value.GetString(), name->value.GetStringLength()) == topic;
}

// A direct call into worker code from inside a Redis read (handoff::direct): one that throws is
// logged and the read goes on, as the worker's own loop does with its handlers, so the Redis
// connection keeps being read.
template <class Fn>
void in_worker(std::size_t worker, Fn&& fn) {
  guarded_call(worker, "worker handler threw", std::forward<Fn>(fn));
}

}  // namespace

void fanout::acquire(const std::string& route, std::size_t worker_id, std::uint64_t generation) {
  // The worker is a holder before the subscription can confirm, so no message after the
  // confirmation can miss it.
  redis_->subscribe(channel_of(route), worker_id, generation);
}

void fanout::release(const std::string& route, std::size_t worker_id) {
  redis_->unsubscribe(channel_of(route), worker_id);
}

void fanout::on_activation(const common::channel_activation& a) {
  assert(a.holder < workers_.size() && "holders are worker ids");
  if (a.holder >= workers_.size()) return;
  if (direct_) return in_worker(a.holder, [&] { workers_[a.holder]->activate(route_of(a.channel), a.tag); });
  workers_[a.holder]->post_activate(route_of(a.channel), a.tag);
}

void fanout::on_refusal(const common::channel_refusal& r) {
  assert(r.holder < workers_.size() && "holders are worker ids");
  if (r.holder >= workers_.size()) return;
  if (direct_) return in_worker(r.holder, [&] { workers_[r.holder]->refuse(route_of(r.channel), r.tag); });
  workers_[r.holder]->post_refuse(route_of(r.channel), r.tag);
}

void fanout::on_message(std::string_view channel, std::string_view payload) {
  if (channel == control_channel_) {
    if (on_control_) on_control_(payload);
    return;
  }
  if (channel == common::source_status_channel) return on_source_status(payload);
  if (channel == common::tier_control_channel) return on_tier_command(payload);
  metrics_.redis_messages.Increment();
  const auto holders = redis_->holders(channel);
  if (holders.empty()) return;  // arrived after the last worker let go of the channel

  // Serialize once, share the bytes: ingest's canonical encoding is forwarded unchanged.
  frame_ptr f;
  common::error problem;
  if (const auto user = common::user_of_channel(channel)) {
    // A user's channel carries only that user's private events: anything else is dropped, so a
    // misrouted event can never reach another user's connections.
    auto decoded = decode_private_frame(payload, *user, conflation_.empty() ? nullptr : &conflation_);
    if (decoded) {
      f = std::move(decoded).value();
    } else {
      problem = std::move(decoded).err();
    }
  } else if (const auto topic = common::topic_of_channel(channel)) {
    // The server API's message, forwarded as it is once it is known to be one for this topic.
    if (is_topic_message(payload, *topic)) {
      auto t = make_text_frame_mutable(frame_kind::topic, std::string(*topic), payload, topic_route(*topic));
      if (deflater_ != nullptr) deflater_->compress(channel, *t, deflate_threshold_);
      f = std::move(t);
    } else {
      problem = {"bad_topic_message", "not a topic_message for its channel's topic"};
    }
  } else if (auto decoded = common::decode_event(payload); !decoded) {
    problem = std::move(decoded).err();
  } else if (const auto* tick = std::get_if<common::price_update>(&decoded.value());
             tick == nullptr || common::symbol_of_market_channel(channel) != tick->symbol) {
    problem = {"channel_mismatch", "event does not match its channel"};
  } else {
    auto t = make_text_frame_mutable(frame_kind::tick, tick->symbol, payload);
    t->price = tick->price;
    t->source = tick->source;
    t->time_us = tick->source_time_us;
    t->recv_time_us = tick->recv_time_us;
    if (deflater_ != nullptr) deflater_->compress(channel, *t, deflate_threshold_);
    f = std::move(t);
  }
  if (!f) return drop(channel, problem, payload);
  if (direct_) {
    // On the worker's own loop: to its sessions now (one holder: the one worker).
    for (const auto& h : holders) in_worker(h.id, [&] { workers_[h.id]->deliver(f); });
    return;
  }
  for (const auto& h : holders) gathered_[h.id].push_back(f);
}

void fanout::drop(std::string_view channel, const common::error& problem, std::string_view payload) {
  metrics_.upstream_invalid(problem.code);
  // Bounded logging: a flood of bad messages must not become a flood of log lines.
  if (++invalid_seen_ <= 20 || invalid_seen_ % 1000 == 0) {
    common::log_warn("dropping unusable message from Redis", {{"channel", channel},
                                                              {"reason", problem.code},
                                                              {"detail", problem.message},
                                                              {"excerpt", common::excerpt(payload)},
                                                              {"seen", invalid_seen_}});
  }
}

void fanout::on_source_status(std::string_view payload) {
  auto status = common::decode_source_status(payload);
  if (!status) {
    return drop(common::source_status_channel, {"bad_source_status", std::move(status).err().message}, payload);
  }
  // A source that is connected but silent past its threshold is as stale as a disconnected one.
  const bool good = status->connected && !status->silent;
  for (auto* w : workers_) {
    if (direct_) {
      in_worker(0, [&] { w->source_status(status->source, good); });
    } else {
      w->post_source_status(status->source, good);
    }
  }
}

void fanout::on_tier_command(std::string_view payload) {
  auto cmd = common::decode_tier_command(payload);
  if (!cmd) return drop(common::tier_control_channel, cmd.err(), payload);
  if (cmd->op == "broadcast") {
    // Serialized once here; every session on every worker queues the same frame.
    const auto ts = common::format_iso8601(common::now_us());
    const auto json = R"({"type":"broadcast","data":)" + cmd->data + R"(,"timestamp":")" + ts + "\"}";
    const auto f = make_text_frame(frame_kind::control, {}, json);
    for (auto* w : workers_) {
      if (direct_) {
        in_worker(0, [&] { w->broadcast(f); });
      } else {
        w->post_broadcast(f);
      }
    }
    return;
  }
  if (cmd->op == "entitlements") {
    for (auto* w : workers_) {
      if (direct_) {
        in_worker(0, [&] { w->entitlements_changed(cmd->user, cmd->plan); });
      } else {
        w->post_entitlements(cmd->user, cmd->plan);
      }
    }
    return;
  }
  common::log_info("disconnecting on the server API's request",
                   {{"user", cmd->user}, {"session", cmd->session.empty() ? "(all)" : "(one)"}});
  for (auto* w : workers_) {
    if (direct_) {
      in_worker(0, [&] { w->revoke(cmd->user, cmd->session, cmd->reason); });
    } else {
      w->post_revoke(cmd->user, cmd->session, cmd->reason);
    }
  }
}

void fanout::flush() {
  // The channels held by workers: kept by the channel table, published here once per round.
  metrics_.redis_channels.Set(static_cast<double>(redis_->held_channel_count()));
  // On the worker's own loop, nothing was gathered: the worker's sessions write what the round
  // queued for them. Otherwise one post (one wake-up of the worker thread) per worker per round,
  // however many messages.
  if (direct_) {
    for (std::size_t id = 0; id < workers_.size(); ++id) in_worker(id, [&] { workers_[id]->delivered(); });
    return;
  }
  for (std::size_t id = 0; id < gathered_.size(); ++id) {
    if (!gathered_[id].empty()) workers_[id]->post_deliver(std::exchange(gathered_[id], {}));
  }
}

}  // namespace tickstream::edge
