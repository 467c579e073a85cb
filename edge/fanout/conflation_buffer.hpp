#pragma once
// Events held back for one connection, either because its batching window is still open or
// because it is behind (its outbound queue is over the soft bound). Pure: no sockets, no clocks.
//
// Rules (DESIGN.md): a conflatable kind keeps only its latest frame per key — the latest
// price_update per symbol, the latest position_update per symbol, the latest account_update —
// and every order_update and trade_executed is kept, in order. Kinds never replace each other. take() renders what is
// held as one frame: a single event as itself, several as one "batch" frame whose "events" array
// holds each event's JSON exactly as it would have been sent alone, in arrival order (a replaced
// event moves to the position of its replacement).

#include <cstddef>
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
  // Events held (after conflation) and the bytes of their payloads.
  std::size_t size() const noexcept { return live_; }
  std::size_t bytes() const noexcept { return bytes_; }
  // One frame for everything held, which is then cleared; null when empty.
  frame_ptr take();
  void clear();
  // Slots in use, replaced ones included (for tests: stays within a small factor of size()).
  std::size_t slot_count() const noexcept { return slots_.size(); }

 private:
  void compact();
  std::vector<frame_ptr> slots_;  // in arrival order; null where a later frame replaced it
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

}  // namespace tickstream::edge
