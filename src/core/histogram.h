// Prometheus histograms of durations: LatencyHistogram counts observations into fixed buckets,
// and RenderHistogram writes any bucket counts as one histogram family in the text format.
// Thread-safe: Observe is lock-free (relaxed atomics) from any thread; Render may run beside it
// (each bucket is read once, so the output is a consistent-enough view for scraping).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace berth {

// The steady clock in nanoseconds: what durations handed to Observe are measured with.
inline uint64_t MonotonicNs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

// One histogram family: `counts[i]` observations fell in bucket i (upper bound bounds_us[i],
// in microseconds; counts has one more entry, the +Inf bucket), `sum_seconds` their total.
std::string RenderHistogram(std::string_view name, std::string_view help, std::span<const uint32_t> bounds_us,
                            std::span<const uint64_t> counts, double sum_seconds);

// The bucket index of `us` for ascending `bounds_us` (bounds_us.size() when above them all).
size_t HistogramBucket(std::span<const uint32_t> bounds_us, uint64_t us);

class LatencyHistogram {
 public:
  // `bounds_us`: ascending bucket upper bounds in microseconds.
  explicit LatencyHistogram(std::vector<uint32_t> bounds_us);

  void Observe(uint64_t ns);
  std::string Render(std::string_view name, std::string_view help) const;

 private:
  const std::vector<uint32_t> bounds_us_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_us_.size() + 1 buckets
  std::atomic<uint64_t> sum_ns_{0};
};

}  // namespace berth
