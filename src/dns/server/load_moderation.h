// LoadModeration: whether a DNS worker pauses after a batch, so that its next wait returns
// several queries at once (interrupt moderation: fewer wakeups and syscalls per query under
// load, at most `pause` of added latency). An idle server never pauses, nor does one whose
// pauses gather nothing: a lone client that sends its next query the moment it has an answer
// looks busy by its short waits, but waiting for it only slows it down.
// One per worker thread; not thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace berth::dns {

class LoadModeration {
 public:
  // Waits shorter than this mean sustained load.
  static constexpr uint64_t kBusyGapNs = 100 * 1000;

  // `pause` 0 turns moderation off.
  explicit LoadModeration(std::chrono::microseconds pause) : pause_(pause) {}

  // After a batch of `n` queries (or events) that the worker waited `waited_ns` for; `full`
  // when the batch took all it could (more are surely waiting: no point pausing). True: pause
  // for pause() now.
  bool AfterBatch(size_t n, uint64_t waited_ns, bool full) {
    if (pause_.count() <= 0) return false;
    if (paused_) pause_helps_ = n > 1;  // did the last pause let more than one gather?
    bool busy = n > 1 || (pause_helps_ && waited_ns < kBusyGapNs);
    paused_ = busy && !full;
    return paused_;
  }
  std::chrono::microseconds pause() const { return pause_; }
  // A new pause (a retuned server); the state of the last batches is kept.
  void set_pause(std::chrono::microseconds pause) { pause_ = pause; }

 private:
  std::chrono::microseconds pause_;
  bool paused_ = false;       // the last batch was followed by a pause
  bool pause_helps_ = true;   // the last pause gathered several queries (or none was made yet)
};

}  // namespace berth::dns
