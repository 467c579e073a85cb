#pragma once
// A worker's open sessions, kept in one contiguous array for the heartbeat sweep, which visits each
// of them once per sweep in batches while sessions open and close between (and during) its visits.
// Pure: no sockets, no clock.
//
// The array is in two parts during a sweep: [0, cursor) visited, [cursor, size) still to visit.
// A session that closes leaves a hole that is filled from the part it is in, so no session open
// through the whole sweep is skipped or visited twice; one that opens during the sweep is visited
// too (it lands at the end). A sweep reads the array in order (no hashing, no copy), which matters
// at tens of thousands of idle connections; opening and closing cost one hash each.
//
// Threading: owned by one worker, used on its thread only.

#include <cstddef>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tickstream::edge {

template <class T>
class session_roster {
 public:
  void add(T* s) {
    slot_.emplace(s, all_.size());
    all_.push_back(s);
  }
  // No-op for a session that is not here.
  void remove(T* s) {
    const auto it = slot_.find(s);
    if (it == slot_.end()) return;
    auto hole = it->second;
    slot_.erase(it);
    if (hole < cursor_) {
      // A visited session: the last visited one fills the hole, and its slot becomes the first
      // still to visit.
      move(--cursor_, hole);
      hole = cursor_;
    }
    move(all_.size() - 1, hole);
    all_.pop_back();
  }

  std::size_t size() const noexcept { return all_.size(); }
  bool empty() const noexcept { return all_.empty(); }
  auto begin() const noexcept { return all_.begin(); }
  auto end() const noexcept { return all_.end(); }

  // Starts a sweep over every session open now (and those opening before it ends).
  void begin_sweep() noexcept { cursor_ = 0; }
  // Visits up to n sessions of the sweep; visit may open and close sessions (its own included).
  // True while sessions remain to visit.
  template <class Visit>
  bool sweep(std::size_t n, Visit&& visit) {
    for (std::size_t done = 0; done < n && cursor_ < all_.size(); ++done) visit(all_[cursor_++]);
    return cursor_ < all_.size();
  }

 private:
  void move(std::size_t from, std::size_t to) {
    if (from == to) return;
    all_[to] = all_[from];
    slot_[all_[to]] = to;
  }

  std::vector<T*> all_;
  std::unordered_map<T*, std::size_t> slot_;
  std::size_t cursor_ = 0;  // sessions before it were visited by the current sweep
};

}  // namespace tickstream::edge
