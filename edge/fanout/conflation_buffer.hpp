#pragma once
// Events held back for one connection, either because its batching window is still open or
// because it is behind (its outbound queue is over the soft bound). Pure: no sockets, no clocks.
//
// Rules (DESIGN.md, docs/PROTOCOL.md "Conflated app events"): a conflatable kind keeps only its
// latest frame per key — the latest price_update per symbol, the latest position_update per
// symbol, the latest account_update, the latest app event of a type configured to conflate
// (--conflate) per key — and every order_update, trade_executed and other app event is kept, in
// order. Kinds never replace each other. take() renders what is held as one frame: a single event
// as itself, several as one "batch" frame whose "events" array holds each event's JSON exactly as
// it would have been sent alone, in arrival order (a replaced event moves to the position of its
// replacement).
//
// A replaced event that carries a seq (a stored app event) leaves a marker where it was:
// {"type":"conflated","fromSeq":a,"toSeq":b}, rendered into the batch, which says that no event
// with a seq in a..b is coming to this connection (those it was due were superseded by later
// ones). So the seqs a client sees, markers included, still rise in order and cover every seq it
// is due exactly once: an order_update or a decision held between two conflated events keeps its
// place before the survivor, and the client sees no gap. A marker extends the one before it when
// no event with a seq lies between them, so a burst of one key leaves one marker. Markers are the
// connection's own; the shared frames are never rebuilt.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "edge/protocol/frame.hpp"

namespace tickstream::edge {

class conflation_buffer {
 public:
  // Returns true when f replaced an older frame with the same key.
  bool add(const frame_ptr& f);
  bool empty() const noexcept { return live_ == 0; }
  // Entries held (events after conflation, and markers) and the bytes of their JSON.
  std::size_t size() const noexcept { return live_; }
  std::size_t bytes() const noexcept { return bytes_; }
  // One frame for everything held, which is then cleared; null when empty.
  frame_ptr take();
  void clear();
  // Slots in use, replaced ones included (for tests: stays within a small factor of size()).
  std::size_t slot_count() const noexcept { return slots_.size(); }

 private:
  struct slot {
    frame_ptr f;                // null: a marker (to_seq > 0) or a replaced event's empty slot
    std::int64_t from_seq = 0;  // a marker's range of superseded seqs
    std::int64_t to_seq = 0;
    bool marker() const noexcept { return !f && to_seq > 0; }
    bool live() const noexcept { return f || to_seq > 0; }
  };
  // The stored event at slots_[index] (seq) was replaced: a marker takes its place, or the
  // nearest marker before it grows to cover seq.
  void supersede(std::size_t index, std::int64_t seq);
  void compact();
  std::vector<slot> slots_;  // in arrival order
  struct slot_key {
    frame_kind kind;
    std::string_view key;  // views the key of the frame held in that slot
    bool operator==(const slot_key&) const = default;
  };
  struct slot_key_hash {
    std::size_t operator()(const slot_key& k) const noexcept {
      return std::hash<std::string_view>{}(k.key) * 31 + static_cast<std::size_t>(k.kind);
    }
  };
  using slot_map = std::unordered_map<slot_key, std::size_t, slot_key_hash>;
  // The slot of each conflatable kind and key held; allocated once the connection first holds one
  // (most connections never batch).
  std::unique_ptr<slot_map> latest_;
  std::size_t live_ = 0;
  std::size_t bytes_ = 0;
};

// {"type":"conflated","fromSeq":<from>,"toSeq":<to>}, appended to out.
void append_conflated_marker(std::string& out, std::int64_t from, std::int64_t to);

}  // namespace tickstream::edge
