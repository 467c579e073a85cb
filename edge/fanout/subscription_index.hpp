#pragma once
// Which subscribers want which keys, on one worker thread. A pure data structure (no sockets, no
// locks): the key -> subscribers and subscriber -> keys maps are kept as mirrors, and an entry is
// removed as soon as it becomes empty (as Redis's pubsub.c does), so memory follows live interest.

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tickstream::edge {

// Hash that lets unordered_map<std::string, ...> be searched with a string_view.
struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

template <class Subscriber>
class subscription_index {
 public:
  // Adds sub to key. Returns true when key had no subscriber before (the caller then needs the
  // upstream subscription). Adding an existing pair changes nothing and returns false.
  bool add(std::string_view key, Subscriber sub) {
    auto& keys = by_sub_[sub];
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) return false;
    keys.emplace_back(key);
    ++pairs_;
    auto it = by_key_.find(key);
    if (it == by_key_.end()) it = by_key_.emplace(std::string(key), std::vector<Subscriber>{}).first;
    it->second.push_back(sub);
    return it->second.size() == 1;
  }

  // Removes sub from key. Returns true when key has no subscriber left (the caller then releases
  // the upstream subscription). Removing an absent pair changes nothing and returns false.
  bool remove(std::string_view key, Subscriber sub) {
    const auto s = by_sub_.find(sub);
    if (s == by_sub_.end()) return false;
    auto& keys = s->second;
    const auto k = std::find(keys.begin(), keys.end(), key);
    if (k == keys.end()) return false;
    keys.erase(k);
    --pairs_;
    if (keys.empty()) by_sub_.erase(s);
    return erase_from_key(key, sub);
  }

  // Removes sub from every key; calls on_last(key) for each key left without subscribers.
  template <class OnLast>
  void remove_all(Subscriber sub, OnLast&& on_last) {
    const auto s = by_sub_.find(sub);
    if (s == by_sub_.end()) return;
    const auto keys = std::move(s->second);
    by_sub_.erase(s);
    pairs_ -= keys.size();
    for (const auto& key : keys) {
      if (erase_from_key(key, sub)) on_last(key);
    }
  }

  // Calls fn(sub) for every subscriber of key. fn must not modify the index.
  template <class Fn>
  void for_each(std::string_view key, Fn&& fn) const {
    const auto it = by_key_.find(key);
    if (it == by_key_.end()) return;
    for (const auto& sub : it->second) fn(sub);
  }

  template <class Fn>
  void for_each_key_of(Subscriber sub, Fn&& fn) const {
    const auto it = by_sub_.find(sub);
    if (it == by_sub_.end()) return;
    for (const auto& key : it->second) fn(key);
  }
  std::size_t subscriber_count(std::string_view key) const {
    const auto it = by_key_.find(key);
    return it == by_key_.end() ? 0 : it->second.size();
  }
  std::size_t key_count(Subscriber sub) const {
    const auto it = by_sub_.find(sub);
    return it == by_sub_.end() ? 0 : it->second.size();
  }
  bool contains(std::string_view key, Subscriber sub) const {
    const auto it = by_sub_.find(sub);
    return it != by_sub_.end() && std::find(it->second.begin(), it->second.end(), key) != it->second.end();
  }
  std::size_t key_count() const noexcept { return by_key_.size(); }
  std::size_t subscriber_total() const noexcept { return by_sub_.size(); }
  // (subscriber, key) pairs held.
  std::size_t pair_count() const noexcept { return pairs_; }

 private:
  bool erase_from_key(std::string_view key, Subscriber sub) {
    const auto it = by_key_.find(key);
    if (it == by_key_.end()) return false;
    auto& subs = it->second;
    // Swap-and-pop: delivery order across subscribers carries no meaning.
    const auto pos = std::find(subs.begin(), subs.end(), sub);
    if (pos != subs.end()) {
      *pos = subs.back();
      subs.pop_back();
    }
    if (!subs.empty()) return false;
    by_key_.erase(it);
    return true;
  }

  std::unordered_map<std::string, std::vector<Subscriber>, string_hash, std::equal_to<>> by_key_;
  std::unordered_map<Subscriber, std::vector<std::string>> by_sub_;
  std::size_t pairs_ = 0;
};

}  // namespace tickstream::edge
