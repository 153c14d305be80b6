#include "ddns/backoff.h"

#include <gtest/gtest.h>

namespace berth::ddns {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, GrowsExponentiallyUpToTheCap) {
  milliseconds base(5000), cap(600'000);
  // u just below 1: the ceiling itself.
  EXPECT_EQ(BackoffDelay(1, base, cap, 0.999999).count(), 4999);
  EXPECT_EQ(BackoffDelay(2, base, cap, 0.999999).count(), 9999);
  EXPECT_EQ(BackoffDelay(5, base, cap, 0.999999).count(), 79999);
  EXPECT_EQ(BackoffDelay(8, base, cap, 0.999999).count(), 599999);   // 640 s capped at 600 s
  EXPECT_EQ(BackoffDelay(4000000000u, base, cap, 0.999999).count(), 599999);  // no overflow
}

TEST(Backoff, FullJitterNeverBelowTheFloor) {
  milliseconds base(5000), cap(600'000);
  EXPECT_EQ(BackoffDelay(3, base, cap, 0.5).count(), 10000);
  // u = 0 would retry at once: the floor (min(base, 1 s)) keeps the loop from spinning.
  EXPECT_EQ(BackoffDelay(1, base, cap, 0.0).count(), 1000);
  EXPECT_EQ(BackoffDelay(1, milliseconds(200), cap, 0.0).count(), 200);
  EXPECT_EQ(BackoffDelay(0, base, cap, 0.0).count(), 1000);
  // Draws outside [0, 1) are clamped.
  EXPECT_EQ(BackoffDelay(1, base, cap, 7.0).count(), 5000);
  // Spread: many draws cover the range below the ceiling.
  int64_t lo = 1 << 30, hi = 0;
  for (int i = 0; i < 100; ++i) {
    int64_t d = BackoffDelay(4, base, cap, i / 100.0).count();
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  EXPECT_EQ(lo, 1000);
  EXPECT_GE(hi, 39000);
  EXPECT_LT(hi, 40000);
}

}  // namespace
}  // namespace berth::ddns
