#include "core/histogram.h"

#include <fmt/format.h>

namespace berth {

std::string RenderHistogram(std::string_view name, std::string_view help, std::span<const uint32_t> bounds_us,
                            std::span<const uint64_t> counts, double sum_seconds) {
  std::string out = fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    cumulative += counts[i];
    std::string le = i < bounds_us.size() ? fmt::format("{}", bounds_us[i] / 1e6) : "+Inf";
    out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, le, cumulative);
  }
  out += fmt::format("{}_sum {}\n{}_count {}\n", name, sum_seconds, name, cumulative);
  return out;
}

size_t HistogramBucket(std::span<const uint32_t> bounds_us, uint64_t us) {
  size_t b = 0;
  while (b < bounds_us.size() && us > bounds_us[b]) ++b;
  return b;
}

LatencyHistogram::LatencyHistogram(std::vector<uint32_t> bounds_us)
    : bounds_us_(std::move(bounds_us)), counts_(new std::atomic<uint64_t>[bounds_us_.size() + 1]) {
  for (size_t i = 0; i <= bounds_us_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void LatencyHistogram::Observe(uint64_t ns) {
  counts_[HistogramBucket(bounds_us_, ns / 1000)].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(ns, std::memory_order_relaxed);
}

std::string LatencyHistogram::Render(std::string_view name, std::string_view help) const {
  std::vector<uint64_t> counts(bounds_us_.size() + 1);
  for (size_t i = 0; i < counts.size(); ++i) counts[i] = counts_[i].load(std::memory_order_relaxed);
  return RenderHistogram(name, help, bounds_us_, counts, sum_ns_.load(std::memory_order_relaxed) / 1e9);
}

}  // namespace berth
