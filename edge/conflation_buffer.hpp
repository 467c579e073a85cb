#pragma once
// Events held back for one connection, either because its batching window is still open or
// because it is behind (its outbound queue is over the soft bound). Pure: no sockets, no clocks.
//
// Rules (DESIGN.md): a conflatable kind keeps only its latest frame per key (the latest
// price_update per symbol); every other kind is kept in full, in order. take() renders what is
// held as one frame: a single event as itself, several as one "batch" frame whose "events" array
// holds each event's JSON exactly as it would have been sent alone, in arrival order (a replaced
// event moves to the position of its replacement).

#include <cstddef>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "edge/frame.hpp"

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

 private:
  std::vector<frame_ptr> slots_;  // in arrival order; null where a later frame replaced it
  std::unordered_map<std::string_view, std::size_t> latest_;  // key -> slot, for conflatable kinds
  std::size_t live_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace tickstream::edge
