#include "core/histogram.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(LatencyHistogramTest, CountsIntoCumulativeBuckets) {
  LatencyHistogram h({100, 1000});
  h.Observe(50'000);      // 50 us
  h.Observe(100'000);     // 100 us: the bound is inclusive
  h.Observe(700'000);     // 700 us
  h.Observe(5'000'000);   // 5 ms: +Inf
  EXPECT_EQ(h.Render("x_seconds", "A test."),
            "# HELP x_seconds A test.\n# TYPE x_seconds histogram\n"
            "x_seconds_bucket{le=\"0.0001\"} 2\n"
            "x_seconds_bucket{le=\"0.001\"} 3\n"
            "x_seconds_bucket{le=\"+Inf\"} 4\n"
            "x_seconds_sum 0.00585\n"
            "x_seconds_count 4\n");
}

TEST(LatencyHistogramTest, EmptyRendersZeros) {
  LatencyHistogram h({10});
  EXPECT_EQ(h.Render("y", "Empty."),
            "# HELP y Empty.\n# TYPE y histogram\ny_bucket{le=\"1e-05\"} 0\ny_bucket{le=\"+Inf\"} 0\ny_sum 0\ny_count 0\n");
}

TEST(HistogramBucketTest, PicksTheFirstBoundNotBelow) {
  const uint32_t bounds[] = {10, 20};
  EXPECT_EQ(HistogramBucket(bounds, 0), 0u);
  EXPECT_EQ(HistogramBucket(bounds, 10), 0u);
  EXPECT_EQ(HistogramBucket(bounds, 11), 1u);
  EXPECT_EQ(HistogramBucket(bounds, 21), 2u);
}

}  // namespace
}  // namespace berth
