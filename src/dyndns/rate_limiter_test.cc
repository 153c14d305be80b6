#include "dyndns/rate_limiter.h"

#include <gtest/gtest.h>

namespace berth::dyndns {
namespace {

using std::chrono::seconds;

TEST(RateLimiter, BurstThenOneTokenPerInterval) {
  RateLimiter rl({3, seconds(5), 100});
  Clock::time_point t0;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(rl.Take("u", t0)) << i;
  EXPECT_FALSE(rl.Take("u", t0));
  EXPECT_FALSE(rl.Take("u", t0 + seconds(4)));
  EXPECT_TRUE(rl.Take("u", t0 + seconds(5)));
  EXPECT_FALSE(rl.Take("u", t0 + seconds(6)));
  // Keys are independent.
  EXPECT_TRUE(rl.Take("other", t0 + seconds(6)));
  // Refills up to the burst, not beyond.
  Clock::time_point later = t0 + seconds(3600);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(rl.Take("u", later)) << i;
  EXPECT_FALSE(rl.Take("u", later));
}

TEST(RateLimiter, SetLimitKeepsTokensCappedAtTheNewBurst) {
  RateLimiter rl({10, seconds(5), 100});
  Clock::time_point t0;
  EXPECT_TRUE(rl.Take("u", t0));  // 9 left
  rl.SetLimit({2, seconds(60), 100});
  EXPECT_TRUE(rl.Take("u", t0));
  EXPECT_TRUE(rl.Take("u", t0));
  EXPECT_FALSE(rl.Take("u", t0));                 // capped at the new burst
  EXPECT_FALSE(rl.Take("u", t0 + seconds(5)));    // and refilled at the new pace
  EXPECT_TRUE(rl.Take("u", t0 + seconds(60)));
  for (int i = 0; i < 2; ++i) EXPECT_TRUE(rl.Take("fresh", t0)) << i;  // new keys get the new burst
  EXPECT_FALSE(rl.Take("fresh", t0));
  rl.SetLimit({1, seconds(0), 100});  // no limit
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(rl.Take("u", t0 + seconds(60))) << i;
}

TEST(RateLimiter, AZeroRefillIsNoLimit) {
  RateLimiter rl({1, std::chrono::milliseconds(0), 100});
  Clock::time_point t0;
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(rl.Take("u", t0)) << i;  // the same instant too
  EXPECT_TRUE(rl.Allowed("u", t0));
}

TEST(RateLimiter, AllowedDoesNotTakeNorRemember) {
  RateLimiter rl({1, seconds(60), 100});
  Clock::time_point t0;
  EXPECT_TRUE(rl.Allowed("a", t0));
  EXPECT_TRUE(rl.Allowed("a", t0));
  EXPECT_EQ(rl.size(), 0u);
  EXPECT_TRUE(rl.Take("a", t0));
  EXPECT_FALSE(rl.Allowed("a", t0 + seconds(59)));
  EXPECT_TRUE(rl.Allowed("a", t0 + seconds(60)));
}

TEST(RateLimiter, SteadyPollingSlowerThanRefillNeverRunsOut) {
  RateLimiter rl({10, seconds(5), 100});
  Clock::time_point t;
  for (int i = 0; i < 10000; ++i, t += seconds(5)) ASSERT_TRUE(rl.Take("ddclient", t)) << i;
}

TEST(RateLimiter, MemoryIsBounded) {
  RateLimiter rl({2, seconds(10), 8});
  Clock::time_point t0;
  for (int i = 0; i < 100; ++i) {
    EXPECT_TRUE(rl.Take("k" + std::to_string(i), t0));
    EXPECT_LE(rl.size(), 8u);
  }
  // A key emptied recently survives pruning of refilled ones.
  RateLimiter r2({1, seconds(10), 4});
  EXPECT_TRUE(r2.Take("hot", t0 + seconds(100)));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(r2.Take("old" + std::to_string(i), t0));
  EXPECT_TRUE(r2.Take("new", t0 + seconds(101)));  // prunes the refilled "old" keys
  EXPECT_FALSE(r2.Take("hot", t0 + seconds(101)));
}

}  // namespace
}  // namespace berth::dyndns
