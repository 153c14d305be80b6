#include "dns/server/load_moderation.h"

#include <gtest/gtest.h>

namespace berth::dns {
namespace {

using std::chrono::microseconds;
constexpr uint64_t kUs = 1000;

// Feeds a worker's batches to a LoadModeration on a made-up clock.
struct Worker {
  explicit Worker(int max_pause_us) : m(microseconds(max_pause_us)) {}
  // A batch of n that began `gap_us` after the last one, after waiting `waited_us` for it.
  int64_t Batch(size_t n, uint64_t gap_us, uint64_t waited_us, bool full = false) {
    now += gap_us * kUs;
    return m.AfterBatch(n, waited_us * kUs, full, now).count() / 1000;  // µs
  }
  LoadModeration m;
  uint64_t now = 1'000'000'000;
};

TEST(LoadModeration, AnIdleServerNeverPauses) {
  Worker w(300);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(w.Batch(1, 5000, 5000), 0) << i;
}

TEST(LoadModeration, APauseGathersAboutATargetBatchAtTheRateSeen) {
  // 200k queries/s: 20 queries in each 100 µs cycle. 20 queries take 100 µs to arrive.
  Worker fast(300);
  for (int i = 0; i < 20; ++i) fast.Batch(20, 100, 0);
  EXPECT_NEAR(fast.Batch(20, 100, 0), 100, 1);
  // 50k queries/s: gathering 20 would take 400 µs, more than the maximum of 300.
  Worker medium(300);
  for (int i = 0; i < 20; ++i) medium.Batch(15, 300, 0);
  EXPECT_NEAR(medium.Batch(15, 300, 0), 300, 1);
  // A full batch: more are waiting anyway.
  EXPECT_EQ(medium.Batch(64, 300, 0, /*full=*/true), 0);
  // That burst raised the rate seen: the next pause is shorter.
  int64_t after_burst = medium.Batch(15, 300, 0);
  EXPECT_GT(after_burst, 0);
  EXPECT_LT(after_burst, 300);
}

TEST(LoadModeration, ARateTooLowToGatherEnoughIsNotWorthTheLatency) {
  // 10k queries/s: the longest pause (300 µs) would gather 3, fewer than kMinGather.
  Worker w(300);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(w.Batch(2, 200, 50), 0) << i;
  // The same rate with a longer maximum pause (600 µs gathers 6) does pause.
  Worker longer(600);
  for (int i = 0; i < 20; ++i) longer.Batch(2, 200, 50);
  EXPECT_NEAR(longer.Batch(2, 200, 50), 600, 1);
}

TEST(LoadModeration, ALoneQuickClientIsNotSlowedDown) {
  // One client that sends its next query 30 us after each answer: its waits are short and its
  // rate is high, but a pause gathers nothing more, so after one try the worker stops pausing.
  Worker w(300);
  EXPECT_EQ(w.Batch(1, 30, 30), 0);  // no rate seen yet
  EXPECT_GT(w.Batch(1, 30, 30), 0);  // 33k queries/s and a short wait: worth one try
  for (int i = 0; i < 10; ++i) EXPECT_EQ(w.Batch(1, 30, 30), 0) << i;  // the try gathered one
  // Load from more clients (several queries in one batch) brings the pauses back.
  EXPECT_GT(w.Batch(4, 30, 0), 0);
  EXPECT_GT(w.Batch(8, 150, 0), 0);
}

TEST(LoadModeration, ZeroTurnsItOff) {
  Worker w(0);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(w.Batch(8, 10, 0), 0) << i;
  EXPECT_EQ(w.Batch(1, 1, 1), 0);
}

}  // namespace
}  // namespace berth::dns
