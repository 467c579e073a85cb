#include "common/redis/redis_pipeline.hpp"

#include <utility>

namespace tickstream::common {

namespace {

using event_result = result<std::optional<redis_event>>;

error protocol_error(std::string message) { return {"protocol_error", std::move(message)}; }

}  // namespace

void redis_pipeline::send(std::string_view formatted, redis_slot kind, std::uint64_t token, std::string channel,
                          std::optional<time> deadline) {
  out_ += formatted;
  slots_.push_back(slot{kind, false, token, std::move(channel), deadline});
}

result<std::optional<redis_event>> redis_pipeline::next() {
  for (;;) {
    auto parsed = reader_->next();
    if (!parsed) return std::move(parsed).err();
    auto v = std::move(parsed).value();
    if (!v) return std::optional<redis_event>{};  // more bytes needed
    if (subscriber_) {
      if (auto frame = push(v)) {
        if (!frame->ok() || frame->value()) return std::move(*frame);
        continue;  // consumed without an event
      }
    }
    auto answered = answer(std::move(v));
    if (!answered.ok() || answered.value()) return answered;
  }
}

std::optional<result<std::optional<redis_event>>> redis_pipeline::push(resp_value& v) {
  if (v.type() != redis_reply::kind::array || v.size() < 2 || v.element_type(0) != redis_reply::kind::string) {
    return std::nullopt;
  }
  const auto what = v.element_str(0);
  redis_event e;
  if ((what == "message" || what == "smessage") && v.size() == 3) {
    e.type = redis_event::kind::message;
    e.sharded = what == "smessage";
    e.channel = v.element_str(1);
    e.payload = v.element_str(2);
    e.value = std::move(v);
    return event_result(std::optional<redis_event>(std::move(e)));
  }
  if (what == "pmessage" && v.size() == 4) {  // never subscribed by the tier; routed like a message
    e.type = redis_event::kind::message;
    e.channel = v.element_str(2);
    e.payload = v.element_str(3);
    e.value = std::move(v);
    return event_result(std::optional<redis_event>(std::move(e)));
  }
  if (what == "pong") {
    if (slots_.empty() || slots_.front().kind != redis_slot::ping)
      return event_result(protocol_error("unexpected pong"));
    return answer(std::move(v));
  }
  redis_slot kind{};
  if (what == "subscribe")
    kind = redis_slot::subscribe;
  else if (what == "ssubscribe")
    kind = redis_slot::ssubscribe;
  else if (what == "unsubscribe")
    kind = redis_slot::unsubscribe;
  else if (what == "sunsubscribe")
    kind = redis_slot::sunsubscribe;
  else
    return std::nullopt;  // (psubscribe and the like are never sent)
  const auto channel = v.element_str(1);
  const bool ours = !slots_.empty() && slots_.front().kind == kind && slots_.front().channel == channel;
  if (!ours) {
    if (kind == redis_slot::sunsubscribe) {
      // Redis ends a shard channel's subscription itself when its slot leaves this node.
      e.type = redis_event::kind::dropped;
      e.sharded = true;
      e.name = std::string(channel);
      e.value = std::move(v);
      return event_result(std::optional<redis_event>(std::move(e)));
    }
    return event_result(protocol_error("unexpected " + std::string(what) + " of " + std::string(channel)));
  }
  return answer(std::move(v));
}

result<std::optional<redis_event>> redis_pipeline::answer(resp_value v) {
  if (slots_.empty()) return protocol_error("a reply nobody asked for");
  slot s = std::move(slots_.front());
  slots_.pop_front();
  if (expired_ > 0) --expired_;
  const bool is_error = v.type() == redis_reply::kind::error;
  redis_event e;
  e.token = s.token;
  switch (s.kind) {
    case redis_slot::command:
      if (s.abandoned) return std::optional<redis_event>{};
      e.type = redis_event::kind::reply;
      break;
    case redis_slot::quiet:
      if (!is_error) return std::optional<redis_event>{};
      e.type = redis_event::kind::reply;
      e.token = 0;
      e.text = v.str();
      break;
    case redis_slot::ping: e.type = redis_event::kind::pong; break;
    case redis_slot::auth:
      e.type = is_error ? redis_event::kind::auth_refused : redis_event::kind::authenticated;
      e.text = v.str();
      break;
    case redis_slot::subscribe:
    case redis_slot::ssubscribe:
    case redis_slot::unsubscribe:
    case redis_slot::sunsubscribe: {
      const bool sub = s.kind == redis_slot::subscribe || s.kind == redis_slot::ssubscribe;
      if (!is_error && v.type() != redis_reply::kind::array) {
        return protocol_error("a (un)subscribe answered by something other than its confirmation");
      }
      // (Redis refuses no UNSUBSCRIBE it understood; were it to, the channel counts as unsubscribed.)
      e.type = is_error && sub ? redis_event::kind::refused
               : sub           ? redis_event::kind::subscribed
                               : redis_event::kind::unsubscribed;
      e.sharded = s.kind == redis_slot::ssubscribe || s.kind == redis_slot::sunsubscribe;
      if (is_error) e.text = v.str();
      e.name = std::move(s.channel);  // the confirmation names the same one (push() checked)
      e.value = std::move(v);
      return std::optional<redis_event>(std::move(e));
    }
  }
  e.value = std::move(v);
  return std::optional<redis_event>(std::move(e));
}

std::vector<std::uint64_t> redis_pipeline::expire(time now) {
  std::vector<std::uint64_t> out;
  while (expired_ < slots_.size()) {
    auto& s = slots_[expired_];
    if (s.kind == redis_slot::command && !s.abandoned && s.deadline) {
      if (*s.deadline > now) break;
      s.abandoned = true;
      out.push_back(s.token);
    }
    ++expired_;
  }
  return out;
}

std::optional<redis_pipeline::time> redis_pipeline::next_deadline() const {
  for (std::size_t i = expired_; i < slots_.size(); ++i) {
    const auto& s = slots_[i];
    if (s.kind == redis_slot::command && !s.abandoned && s.deadline) return s.deadline;
  }
  return std::nullopt;
}

std::vector<std::uint64_t> redis_pipeline::reset() {
  std::vector<std::uint64_t> out;
  for (const auto& s : slots_) {
    if (s.kind == redis_slot::command && !s.abandoned) out.push_back(s.token);
  }
  slots_.clear();
  expired_ = 0;
  out_.clear();
  reader_.emplace();
  return out;
}

}  // namespace tickstream::common
