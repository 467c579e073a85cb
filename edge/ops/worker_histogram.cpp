#include "edge/ops/worker_histogram.hpp"

#include <algorithm>

namespace tickstream::edge {

worker_histogram::worker_histogram(std::vector<double> bounds, bool windowed)
    : bounds_(std::move(bounds)), totals_(new std::atomic<std::uint64_t>[bounds_.size() + 1]), windowed_(windowed) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) totals_[i].store(0, std::memory_order_relaxed);
  if (!windowed_) return;
  for (auto& s : window_) {
    s.counts.reset(new std::atomic<std::uint64_t>[bounds_.size() + 1]);
    for (std::size_t i = 0; i <= bounds_.size(); ++i) s.counts[i].store(0, std::memory_order_relaxed);
  }
}

void worker_histogram::observe(double value, std::int64_t now_s) noexcept {
  const auto bucket =
      static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  // Single writer: load + store instead of read-modify-write instructions.
  const auto bump = [](std::atomic<std::uint64_t>& a) {
    a.store(a.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  };
  bump(totals_[bucket]);
  bump(count_);
  sum_.store(sum_.load(std::memory_order_relaxed) + value, std::memory_order_relaxed);
  if (!windowed_) return;
  const auto epoch = now_s / slot_seconds;
  auto& s = window_[static_cast<std::size_t>(epoch) % window_slots];
  if (s.epoch.load(std::memory_order_relaxed) != epoch) {
    for (std::size_t i = 0; i <= bounds_.size(); ++i) s.counts[i].store(0, std::memory_order_relaxed);
    s.epoch.store(epoch, std::memory_order_release);
  }
  bump(s.counts[bucket]);
}

void worker_histogram::add_totals(std::vector<std::uint64_t>& buckets, double& sum, std::uint64_t& count) const {
  buckets.resize(bounds_.size() + 1, 0);
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets[i] += totals_[i].load(std::memory_order_relaxed);
  sum += sum_.load(std::memory_order_relaxed);
  count += count_.load(std::memory_order_relaxed);
}

void worker_histogram::add_window(std::vector<std::uint64_t>& buckets, std::int64_t now_s) const {
  buckets.resize(bounds_.size() + 1, 0);
  if (!windowed_) return;
  const auto current = now_s / slot_seconds;
  for (const auto& s : window_) {
    const auto epoch = s.epoch.load(std::memory_order_acquire);
    // The current slot and the five before it: at most a minute (and at least 50 s) of history.
    if (epoch < 0 || epoch > current || current - epoch >= static_cast<std::int64_t>(window_slots)) continue;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets[i] += s.counts[i].load(std::memory_order_relaxed);
  }
}

double worker_histogram::quantile(const std::vector<double>& bounds, const std::vector<std::uint64_t>& buckets,
                                  double q) {
  std::uint64_t total = 0;
  for (const auto c : buckets) total += c;
  if (total == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total - 1)) + 1;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    seen += buckets[i];
    if (seen >= rank) return i < bounds.size() ? bounds[i] : bounds.back();
  }
  return bounds.back();
}

}  // namespace tickstream::edge
