#pragma once
// An HDR-style latency histogram: log-linear buckets (32 sub-buckets per power of two, so every
// value is recorded within ~3% of itself), fixed memory, no allocation per sample. Values are
// microseconds; negative samples (clock skew) count as zero.

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>

namespace tickstream::bench {

class latency_histogram {
 public:
  static constexpr int sub_bits = 5;  // 32 sub-buckets per power of two
  static constexpr int sub_count = 1 << sub_bits;
  static constexpr int max_power = 40;  // up to 2^40 µs (~12 days)

  void record(std::int64_t us) noexcept {
    const auto v = static_cast<std::uint64_t>(us < 0 ? 0 : us);
    ++counts_[index_of(v)];
    ++total_;
    if (v > max_) max_ = v;
  }

  void merge(const latency_histogram& o) noexcept {
    for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += o.counts_[i];
    total_ += o.total_;
    if (o.max_ > max_) max_ = o.max_;
  }

  std::uint64_t count() const noexcept { return total_; }
  std::uint64_t max() const noexcept { return max_; }

  // The smallest recorded bucket value v such that at least q of the samples are <= v (q in 0..1).
  std::uint64_t quantile(double q) const noexcept {
    if (total_ == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(std::llround(q * static_cast<double>(total_)));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank && counts_[i] > 0) {
        const auto upper = upper_of(i);
        return upper < max_ ? upper : max_;
      }
    }
    return max_;
  }

 private:
  static std::size_t index_of(std::uint64_t v) noexcept {
    if (v < sub_count) return static_cast<std::size_t>(v);
    const int power = std::bit_width(v) - 1;  // >= sub_bits
    const int shift = power - sub_bits;
    const auto sub = (v >> shift) & (sub_count - 1);
    const auto idx = static_cast<std::size_t>((power - sub_bits + 1) * sub_count) + sub;
    return idx < bucket_count ? idx : bucket_count - 1;
  }

  // The largest value that falls into bucket i.
  static std::uint64_t upper_of(std::size_t i) noexcept {
    if (i < sub_count) return i;
    const auto block = i / sub_count;  // >= 1
    const auto sub = i % sub_count;
    const int shift = static_cast<int>(block) - 1;
    return ((sub_count + sub + 1) << shift) - 1;
  }

  static constexpr std::size_t bucket_count = (max_power - sub_bits + 1) * sub_count;
  std::array<std::uint64_t, bucket_count> counts_{};
  std::uint64_t total_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace tickstream::bench
