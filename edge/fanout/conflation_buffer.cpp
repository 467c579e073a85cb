#include "edge/fanout/conflation_buffer.hpp"

#include <cassert>
#include <charconv>

namespace tickstream::edge {
namespace {

constexpr std::string_view marker_head = R"({"type":"conflated","fromSeq":)";
constexpr std::string_view marker_middle = R"(,"toSeq":)";

std::size_t digits(std::int64_t n) {
  std::size_t d = 1;
  for (; n >= 10; n /= 10) ++d;
  return d;
}

std::size_t marker_size(std::int64_t from, std::int64_t to) {
  return marker_head.size() + digits(from) + marker_middle.size() + digits(to) + 1;
}

// How far back a replaced event looks for a marker to extend, over empty slots and events
// without a seq (ticks, marks): enough for a burst of one key between compactions, and a bound on
// the work per event whatever is held.
constexpr std::size_t merge_scan = 32;

}  // namespace

void append_conflated_marker(std::string& out, std::int64_t from, std::int64_t to) {
  char num[20];
  out.append(marker_head);
  out.append(num, std::to_chars(num, num + sizeof num, from).ptr);
  out.append(marker_middle);
  out.append(num, std::to_chars(num, num + sizeof num, to).ptr);
  out.push_back('}');
}

bool conflation_buffer::add(const frame_ptr& f) {
  bool replaced = false;
  if (conflates(f->kind)) {
    if (!latest_) latest_ = std::make_unique<slot_map>();
    if (const auto it = latest_->find(slot_key{f->kind, f->key}); it != latest_->end()) {
      const auto index = it->second;
      auto& old = slots_[index].f;
      latest_->erase(it);  // its key views old's string: drop the entry before old may go
      bytes_ -= old->payload().size();
      --live_;
      const auto seq = old->seq;
      old.reset();
      if (seq > 0) supersede(index, seq);
      replaced = true;
    }
    latest_->emplace(slot_key{f->kind, f->key}, slots_.size());  // views f->key; f is held just below
  }
  slots_.push_back(slot{f});
  ++live_;
  bytes_ += f->payload().size();
  if (slots_.size() > 2 * live_ + 16) compact();
  return replaced;
}

void conflation_buffer::supersede(std::size_t index, std::int64_t seq) {
  // Everything held is in seq order: a marker before index with no stored event in between
  // covers seqs just below seq, and none between them is due to this connection.
  for (std::size_t i = index, steps = 0; i > 0 && steps < merge_scan; ++steps) {
    auto& s = slots_[--i];
    if (s.marker()) {
      // (A user's seq only goes back after a resync, which flushes what is held first; should it
      // ever go back without, the marker stays as it is and the new seq gets one of its own.)
      if (s.to_seq >= seq) break;
      bytes_ -= marker_size(s.from_seq, s.to_seq);
      s.to_seq = seq;
      bytes_ += marker_size(s.from_seq, s.to_seq);
      return;
    }
    if (s.f && s.f->seq > 0) break;  // a stored event lies between: the client sees it first
  }
  auto& s = slots_[index];
  s.from_seq = s.to_seq = seq;
  ++live_;
  bytes_ += marker_size(seq, seq);
}

void conflation_buffer::compact() {
  // Drops the slots of replaced frames so memory follows live entries, not events seen.
  std::size_t out = 0;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (!slots_[i].live()) continue;
    if (slots_[i].f && conflates(slots_[i].f->kind)) (*latest_)[slot_key{slots_[i].f->kind, slots_[i].f->key}] = out;
    slots_[out++] = std::move(slots_[i]);
  }
  slots_.resize(out);
}

frame_ptr conflation_buffer::take() {
  if (live_ == 0) return nullptr;
  frame_ptr out;
  if (live_ == 1) {
    // A marker is always followed by the event that superseded it: one entry is an event.
    for (auto& s : slots_) {
      if (s.f) out = std::move(s.f);
    }
    assert(out && "a marker is never held alone");
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
      if (!s.live()) continue;
      if (!first) f->wire.push_back(',');
      first = false;
      if (!s.f) {
        append_conflated_marker(f->wire, s.from_seq, s.to_seq);
        continue;
      }
      f->wire.append(s.f->payload());
      // The batch's age for the latency histogram is its oldest event's.
      if (s.f->recv_time_us > 0 && (f->recv_time_us == 0 || s.f->recv_time_us < f->recv_time_us)) {
        f->recv_time_us = s.f->recv_time_us;
      }
    }
    f->wire.append(tail);
    assert(f->wire.size() == f->header_size + payload_size);
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
