#include "edge/fanout/outbound_queue.hpp"

#include <algorithm>

namespace tickstream::edge {

namespace {

// The broker's own events for the user (a fill, an order's change, a position or the account as
// stored): what a trader acts on, and rare next to ticks. They end the window instead of waiting
// for it, so batching bounds the ticks' frame rate without delaying a fill by up to a window.
constexpr bool ends_window(frame_kind k) noexcept {
  return k == frame_kind::position || k == frame_kind::account || k == frame_kind::order || k == frame_kind::trade;
}

}  // namespace

push_status outbound_queue::push(const frame_ptr& f, clock::time_point now) {
  if (held_.empty() && !over_soft_bound() && (window_.count() == 0 || now - last_flush_ >= window_)) {
    if (window_.count() > 0) last_flush_ = now;  // idle for a window: this event goes out at once
    return append(f);
  }
  const bool replaced = held_.add(f);
  if (over_hard_bound()) return push_status::over_bound;
  if (ends_window(f->kind) && !over_soft_bound()) {
    last_flush_ = now;  // it leaves now, after what was held before it, and opens a new window
    ended_window_events_ = held_.size();
    return append(held_.take());
  }
  return replaced ? push_status::conflated : push_status::held;
}

push_status outbound_queue::push_reply(frame_ptr f, bool after_held) {
  if (after_held && !held_.empty()) {
    const auto s = append(held_.take());
    if (s == push_status::over_bound) return s;
  }
  return append(std::move(f));
}

push_status outbound_queue::push_urgent(frame_ptr f) {
  queued_bytes_ += f->wire.size();
  queue_.insert(queue_.begin() + static_cast<std::ptrdiff_t>(head_), std::move(f));
  return over_hard_bound() ? push_status::over_bound : push_status::queued;
}

push_status outbound_queue::append(frame_ptr f) {
  queued_bytes_ += f->wire.size();
  queue_.push_back(std::move(f));
  // Replies and pongs count too: a client that sends but never reads must not grow our memory.
  return over_hard_bound() ? push_status::over_bound : push_status::queued;
}

std::optional<outbound_queue::clock::time_point> outbound_queue::flush_at() const {
  if (held_.empty()) return std::nullopt;
  return last_flush_ + window_;
}

outbound_queue::flushed outbound_queue::flush(clock::time_point now) {
  if (held_.empty() || over_soft_bound()) return {};  // behind: the write completion flushes later
  if (window_.count() > 0 && now - last_flush_ < window_) return {};
  last_flush_ = now;
  const auto events = held_.size();
  return {events, append(held_.take())};
}

std::size_t outbound_queue::take(std::vector<frame_ptr>& out, std::size_t max_frames, std::size_t max_bytes) {
  out.clear();
  std::size_t bytes = 0;
  while (head_ < queue_.size() && out.size() < max_frames && bytes < max_bytes) {
    auto& f = queue_[head_++];
    bytes += f->wire.size();
    out.push_back(std::move(f));
  }
  queued_bytes_ -= bytes;
  compact();
  return bytes;
}

void outbound_queue::compact() {
  if (head_ == queue_.size()) {
    queue_.clear();  // keeps its capacity
    head_ = 0;
  } else if (head_ >= 1024) {
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

void outbound_queue::drop(bool keep_queued) {
  held_.clear();
  if (keep_queued) return;
  queue_.clear();
  head_ = 0;
  queued_bytes_ = 0;
}

}  // namespace tickstream::edge
