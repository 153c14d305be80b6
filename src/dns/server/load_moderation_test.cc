#include "dns/server/load_moderation.h"

#include <gtest/gtest.h>

namespace berth::dns {
namespace {

using std::chrono::microseconds;
constexpr uint64_t kUs = 1000;

TEST(LoadModeration, AnIdleServerNeverPauses) {
  LoadModeration m(microseconds(100));
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(m.AfterBatch(1, 5000 * kUs, false)) << i;
}

TEST(LoadModeration, SustainedLoadPausesAfterEveryPartialBatch) {
  LoadModeration m(microseconds(100));
  EXPECT_TRUE(m.AfterBatch(1, 13 * kUs, false));  // short wait: busy
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(m.AfterBatch(5, 0, false)) << i;  // each pause gathers 5
  EXPECT_FALSE(m.AfterBatch(32, 0, /*full=*/true));  // a full batch: more are waiting anyway
  EXPECT_TRUE(m.AfterBatch(3, 0, false));
}

TEST(LoadModeration, ALoneQuickClientIsNotSlowedDown) {
  // One client that sends its next query 30 us after each answer: its waits are short, but a
  // pause gathers nothing more, so after one try the worker stops pausing for it.
  LoadModeration m(microseconds(100));
  EXPECT_TRUE(m.AfterBatch(1, 30 * kUs, false));
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(m.AfterBatch(1, 30 * kUs, false)) << i;
  // Load from more clients (two queries in one batch) brings the pauses back.
  EXPECT_TRUE(m.AfterBatch(2, 30 * kUs, false));
  EXPECT_TRUE(m.AfterBatch(4, 0, false));
}

TEST(LoadModeration, ZeroTurnsItOff) {
  LoadModeration m(microseconds(0));
  EXPECT_FALSE(m.AfterBatch(8, 0, false));
  EXPECT_FALSE(m.AfterBatch(1, 1 * kUs, false));
}

}  // namespace
}  // namespace berth::dns
