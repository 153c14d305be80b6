// LoadModeration: whether and how long a DNS worker pauses after a batch, so that its next wait
// returns several queries at once (interrupt moderation: fewer wakeups and syscalls per query
// under load). A pause lasts long enough to gather about kTargetBatch queries at the rate the
// worker sees, and never longer than the configured maximum; at rates where even the maximum
// would gather fewer than kMinGather, the latency is not worth it and the worker does not pause.
// An idle server never pauses, nor does one whose pauses gather nothing: a lone client that
// sends its next query the moment it has an answer looks busy by its short waits, but waiting
// for it only slows it down. One per worker thread; not thread-safe.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace berth::dns {

class LoadModeration {
 public:
  // Waits shorter than this mean sustained load.
  static constexpr uint64_t kBusyGapNs = 100 * 1000;
  // Queries a pause aims to gather, and the fewest that make a pause worth its latency.
  static constexpr double kTargetBatch = 20;
  static constexpr double kMinGather = 4;

  // `max_pause` 0 turns moderation off.
  explicit LoadModeration(std::chrono::microseconds max_pause) : max_pause_(max_pause) {}

  // After a batch of `n` queries that the worker waited `waited_ns` for and began
  // answering at `now_ns` (a monotonic clock); `full` when the batch took all it could (more are
  // surely waiting: no point pausing). Returns how long to pause now, 0 for not at all.
  std::chrono::nanoseconds AfterBatch(size_t n, uint64_t waited_ns, bool full, uint64_t now_ns) {
    // Queries per ns over the time since the last batch began, smoothed over a few batches.
    if (last_start_ns_ != 0 && now_ns > last_start_ns_) {
      double sample = static_cast<double>(n) / static_cast<double>(now_ns - last_start_ns_);
      rate_per_ns_ = rate_per_ns_ == 0 ? sample : 0.75 * rate_per_ns_ + 0.25 * sample;
    }
    last_start_ns_ = now_ns;
    const double max_ns = static_cast<double>(max_pause_.count()) * 1000;
    if (max_ns <= 0) return std::chrono::nanoseconds(0);
    if (paused_) pause_helps_ = n > 1;  // did the last pause let more than one gather?
    bool busy = n > 1 || (pause_helps_ && waited_ns < kBusyGapNs);
    paused_ = busy && !full && rate_per_ns_ * max_ns >= kMinGather;
    if (!paused_) return std::chrono::nanoseconds(0);
    return std::chrono::nanoseconds(static_cast<int64_t>(std::min(max_ns, kTargetBatch / rate_per_ns_)));
  }
  // A new maximum (a retuned server); the state of the last batches is kept.
  void set_max_pause(std::chrono::microseconds max_pause) { max_pause_ = max_pause; }

 private:
  std::chrono::microseconds max_pause_;
  bool paused_ = false;        // the last batch was followed by a pause
  bool pause_helps_ = true;    // the last pause gathered several queries (or none was made yet)
  uint64_t last_start_ns_ = 0;
  double rate_per_ns_ = 0;     // queries per ns, smoothed
};

}  // namespace berth::dns
