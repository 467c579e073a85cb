#pragma once
// A histogram written by one worker thread and read by scrapes from any thread: plain relaxed
// atomics on counters only that worker writes, so the delivery path takes no lock and shares no
// cache line with other workers. Keeps totals since start (for Prometheus) and, optionally, the
// last minute in six 10-second slots (for percentiles in the admin stats).

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace tickstream::edge {

class worker_histogram {
 public:
  // bounds: ascending upper bounds of the buckets (an overflow bucket follows them).
  worker_histogram(std::vector<double> bounds, bool windowed);

  // On the owning thread only. now_s: a monotonic second count (for the window).
  void observe(double value, std::int64_t now_s = 0) noexcept;

  const std::vector<double>& bounds() const noexcept { return bounds_; }
  // Adds this histogram's per-bucket counts (not cumulative; size bounds()+1), sum and count.
  void add_totals(std::vector<std::uint64_t>& buckets, double& sum, std::uint64_t& count) const;
  // Adds the counts observed during the last 60 seconds before now_s.
  void add_window(std::vector<std::uint64_t>& buckets, std::int64_t now_s) const;

  // The value below which fraction q of the counts lie, read off per-bucket counts (the upper bound
  // of the bucket holding it; the last bound for the overflow bucket); 0 without counts.
  static double quantile(const std::vector<double>& bounds, const std::vector<std::uint64_t>& buckets, double q);

 private:
  static constexpr std::size_t window_slots = 6;
  static constexpr std::int64_t slot_seconds = 10;
  struct slot {
    std::atomic<std::int64_t> epoch{-1};  // now_s / slot_seconds it counts for
    std::unique_ptr<std::atomic<std::uint64_t>[]> counts;
  };

  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> totals_;
  std::atomic<std::uint64_t> count_{0};
  std::atomic<double> sum_{0};
  const bool windowed_;
  std::array<slot, window_slots> window_;
};

}  // namespace tickstream::edge
