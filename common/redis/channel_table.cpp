#include "common/redis/channel_table.hpp"

#include <algorithm>
#include <cassert>

namespace tickstream::common {

channel_table::channel_table(std::string control_channel, time linger)
    : control_(std::move(control_channel)), linger_(linger) {
  channels_[control_].pinned = true;
}

channel_table::map::iterator channel_table::find_or_add(std::string_view channel) {
  auto it = channels_.find(channel);
  if (it == channels_.end()) it = channels_.emplace(std::string(channel), entry{}).first;
  return it;
}

void channel_table::count_reference(const map::iterator& it, bool was_referenced) {
  if (it->first == control_) return;
  const bool now_referenced = referenced(it->second);
  if (now_referenced && !was_referenced) ++referenced_;
  if (!now_referenced && was_referenced) --referenced_;
}

void channel_table::start_subscribe(map::value_type& channel, channel_actions& out) {
  if (channel.second.state != channel_state::idle || !connected_) return;
  channel.second.state = channel_state::subscribing;
  out.subscribe.push_back(channel.first);
}

void channel_table::activate_all(map::value_type& channel, channel_actions& out) {
  for (auto& h : channel.second.holders) {
    out.activations.push_back({channel.first, h.id, h.tag, h.confirmed});
    h.confirmed = true;
  }
}

channel_actions channel_table::acquire(std::string_view channel, holder_id holder, std::uint64_t tag) {
  channel_actions out;
  const auto it = find_or_add(channel);
  auto& e = it->second;
  const auto held = std::find_if(e.holders.begin(), e.holders.end(), [&](const auto& h) { return h.id == holder; });
  assert(held == e.holders.end() && "a holder holds a channel at most once");
  channel_holder* h = nullptr;
  if (held != e.holders.end()) {
    // Broken caller (see the assert): treat it as a fresh acquisition under the new tag.
    held->tag = tag;
    held->confirmed = false;
    h = &*held;
  } else {
    const bool was_referenced = referenced(e);
    e.holders.push_back({holder, tag, false});
    h = &e.holders.back();
    if (e.holders.size() == 1) {
      ++held_;
      e.idle_since.reset();  // taken up again within the linger
    }
    count_reference(it, was_referenced);
  }
  switch (e.state) {
    case channel_state::active:
      out.activations.push_back({it->first, holder, tag, false});
      h->confirmed = true;
      break;
    case channel_state::idle: start_subscribe(*it, out); break;
    case channel_state::subscribing:    // the confirmation tells this holder too
    case channel_state::unsubscribing:  // the UNSUBSCRIBE's confirmation subscribes again
      break;
  }
  return out;
}

channel_actions channel_table::release(std::string_view channel, holder_id holder, time now) {
  channel_actions out;
  const auto it = channels_.find(channel);
  const auto held = it == channels_.end() ? std::vector<channel_holder>::iterator{}
                                          : std::find_if(it->second.holders.begin(), it->second.holders.end(),
                                                         [&](const auto& h) { return h.id == holder; });
  // (A holder let go by a refusal may release the channel before it has heard of the refusal.)
  if (it == channels_.end() || held == it->second.holders.end()) return out;
  auto& e = it->second;
  e.holders.erase(held);
  if (!e.holders.empty()) return out;
  --held_;
  count_reference(it, true);
  if (e.pinned) return out;
  switch (e.state) {
    case channel_state::active:
      if (linger_.count() > 0) {
        e.idle_since = now;
        lingering_.emplace_back(it->first, now);
      } else {
        e.state = channel_state::unsubscribing;
        out.unsubscribe.push_back(it->first);
      }
      break;
    case channel_state::idle: channels_.erase(it); break;
    case channel_state::subscribing:    // its confirmation finds no holder and unsubscribes
    case channel_state::unsubscribing:  // its confirmation forgets the channel
      break;
  }
  return out;
}

channel_actions channel_table::pin(std::string_view channel) {
  channel_actions out;
  const auto it = find_or_add(channel);
  if (it->second.pinned) return out;
  const bool was_referenced = referenced(it->second);
  it->second.pinned = true;
  it->second.idle_since.reset();
  count_reference(it, was_referenced);
  start_subscribe(*it, out);
  return out;
}

channel_actions channel_table::connected() {
  assert(!connected_ && "connected twice");
  channel_actions out;
  connected_ = true;
  start_subscribe(*channels_.find(control_), out);
  for (auto& channel : channels_) start_subscribe(channel, out);
  return out;
}

void channel_table::disconnected() {
  connected_ = false;
  for (auto it = channels_.begin(); it != channels_.end();) {
    if (referenced(it->second)) {
      it->second.state = channel_state::idle;
      it->second.idle_since.reset();
      ++it;
    } else {
      it = channels_.erase(it);  // lingering or being unsubscribed: gone with the connection
    }
  }
  lingering_.clear();
}

channel_actions channel_table::subscribed(std::string_view channel) {
  channel_actions out;
  const auto it = channels_.find(channel);
  if (it == channels_.end() || it->second.state != channel_state::subscribing) return out;
  auto& e = it->second;
  if (!referenced(e)) {
    // Everybody left while the SUBSCRIBE was in flight.
    e.state = channel_state::unsubscribing;
    out.unsubscribe.push_back(it->first);
    return out;
  }
  e.state = channel_state::active;
  activate_all(*it, out);
  return out;
}

channel_actions channel_table::unsubscribed(std::string_view channel) {
  channel_actions out;
  const auto it = channels_.find(channel);
  if (it == channels_.end() || it->second.state != channel_state::unsubscribing) return out;
  if (referenced(it->second)) {
    // Taken up while the UNSUBSCRIBE was in flight: only now may it be subscribed again.
    it->second.state = channel_state::idle;
    start_subscribe(*it, out);
  } else {
    channels_.erase(it);
  }
  return out;
}

channel_actions channel_table::refused(std::string_view channel, std::string_view reason) {
  channel_actions out;
  const auto it = channels_.find(channel);
  if (it == channels_.end() || it->second.state != channel_state::subscribing) return out;
  auto& e = it->second;
  const bool was_referenced = referenced(e);
  for (const auto& h : e.holders) out.refusals.push_back({it->first, h.id, h.tag, std::string(reason)});
  if (!e.holders.empty()) --held_;
  e.holders.clear();
  e.state = channel_state::idle;
  e.idle_since.reset();
  count_reference(it, was_referenced);
  if (!e.pinned) channels_.erase(it);
  return out;
}

channel_actions channel_table::dropped(std::string_view channel) {
  channel_actions out;
  const auto it = channels_.find(channel);
  if (it == channels_.end() || it->second.state != channel_state::active) return out;
  if (!referenced(it->second)) {
    channels_.erase(it);  // was lingering: nobody needs it again
    return out;
  }
  it->second.state = channel_state::idle;
  start_subscribe(*it, out);
  return out;
}

void channel_table::bounce(std::string_view channel) {
  const auto it = channels_.find(channel);
  if (it == channels_.end() || it->second.state != channel_state::subscribing) return;
  if (referenced(it->second)) {
    it->second.state = channel_state::idle;
  } else {
    channels_.erase(it);  // everybody left meanwhile
  }
}

std::optional<channel_move> channel_table::take(std::string_view channel) {
  const auto it = channels_.find(channel);
  if (it == channels_.end() || it->first == control_ || it->second.state != channel_state::idle ||
      !referenced(it->second)) {
    return std::nullopt;
  }
  channel_move out{it->first, it->second.pinned, std::move(it->second.holders)};
  if (!out.holders.empty()) --held_;
  --referenced_;
  channels_.erase(it);
  return out;
}

channel_actions channel_table::adopt(channel_move moved) {
  channel_actions out;
  const auto it = find_or_add(moved.channel);
  auto& e = it->second;
  const bool was_referenced = referenced(e);
  const bool was_held = !e.holders.empty();
  e.pinned = e.pinned || moved.pinned;
  for (auto& h : moved.holders) {
    if (std::any_of(e.holders.begin(), e.holders.end(), [&](const auto& x) { return x.id == h.id; })) continue;
    if (e.state == channel_state::active) {
      out.activations.push_back({it->first, h.id, h.tag, h.confirmed});
      h.confirmed = true;
    }
    e.holders.push_back(h);
  }
  if (!was_held && !e.holders.empty()) ++held_;
  if (referenced(e)) e.idle_since.reset();
  count_reference(it, was_referenced);
  start_subscribe(*it, out);
  return out;
}

std::vector<std::string> channel_table::idle_channels() const {
  std::vector<std::string> out;
  for (const auto& [name, e] : channels_) {
    if (name != control_ && e.state == channel_state::idle && referenced(e)) out.push_back(name);
  }
  return out;
}

channel_actions channel_table::expire(time now) {
  channel_actions out;
  while (!lingering_.empty() && lingering_.front().second + linger_ <= now) {
    const auto [name, since] = std::move(lingering_.front());
    lingering_.pop_front();
    const auto it = channels_.find(name);
    if (it == channels_.end()) continue;
    auto& e = it->second;
    if (referenced(e) || e.state != channel_state::active || e.idle_since != since) continue;
    e.idle_since.reset();
    e.state = channel_state::unsubscribing;
    out.unsubscribe.push_back(it->first);
  }
  return out;
}

std::optional<channel_table::time> channel_table::next_expiry() const {
  if (lingering_.empty()) return std::nullopt;
  return lingering_.front().second + linger_;
}

std::span<const channel_holder> channel_table::holders(std::string_view channel) const {
  const auto it = channels_.find(channel);
  if (it == channels_.end()) return {};
  return it->second.holders;
}

channel_state channel_table::state(std::string_view channel) const {
  const auto it = channels_.find(channel);
  return it == channels_.end() ? channel_state::idle : it->second.state;
}

}  // namespace tickstream::common
