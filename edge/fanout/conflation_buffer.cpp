#include "edge/fanout/conflation_buffer.hpp"

namespace tickstream::edge {

bool conflation_buffer::add(const frame_ptr& f) {
  bool replaced = false;
  if (conflates(f->kind)) {
    if (!latest_) latest_ = std::make_unique<slot_map>();
    if (const auto it = latest_->find(slot_key{f->kind, f->key}); it != latest_->end()) {
      auto& old = slots_[it->second];
      latest_->erase(it);  // its key views old's string: drop the entry before old may go
      bytes_ -= old->payload().size();
      --live_;
      old.reset();
      replaced = true;
    }
    latest_->emplace(slot_key{f->kind, f->key}, slots_.size());  // views f->key; f is held just below
  }
  slots_.push_back(f);
  ++live_;
  bytes_ += f->payload().size();
  if (slots_.size() > 2 * live_ + 16) compact();
  return replaced;
}

void conflation_buffer::compact() {
  // Drops the slots of replaced frames so memory follows live events, not events seen.
  std::size_t out = 0;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (!slots_[i]) continue;
    if (conflates(slots_[i]->kind)) (*latest_)[slot_key{slots_[i]->kind, slots_[i]->key}] = out;
    slots_[out++] = std::move(slots_[i]);
  }
  slots_.resize(out);
}

frame_ptr conflation_buffer::take() {
  if (live_ == 0) return nullptr;
  frame_ptr out;
  if (live_ == 1) {
    for (auto& s : slots_) {
      if (s) out = std::move(s);
    }
  } else {
    static constexpr std::string_view head = R"({"type":"batch","events":[)";
    static constexpr std::string_view tail = "]}";
    const std::size_t payload_size = head.size() + bytes_ + (live_ - 1) + tail.size();
    auto f = std::make_shared<frame>();
    f->kind = frame_kind::control;  // a batch is never conflated again
    f->wire.reserve(payload_size + 10);
    append_frame_header(f->wire, ws_opcode::text, payload_size);
    f->header_size = static_cast<std::uint8_t>(f->wire.size());
    f->wire.append(head);
    bool first = true;
    for (const auto& s : slots_) {
      if (!s) continue;
      if (!first) f->wire.push_back(',');
      f->wire.append(s->payload());
      first = false;
      // The batch's age for the latency histogram is its oldest event's.
      if (s->recv_time_us > 0 && (f->recv_time_us == 0 || s->recv_time_us < f->recv_time_us)) {
        f->recv_time_us = s->recv_time_us;
      }
    }
    f->wire.append(tail);
    out = std::move(f);
  }
  clear();
  return out;
}

void conflation_buffer::clear() {
  if (latest_) latest_->clear();
  slots_.clear();
  live_ = 0;
  bytes_ = 0;
}

}  // namespace tickstream::edge
