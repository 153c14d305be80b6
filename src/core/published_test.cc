#include "core/published.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace berth {
namespace {

TEST(Published, ReaderSeesANewValueOnlyAfterRefresh) {
  Published<std::string> value(std::make_shared<const std::string>("one"));
  Published<std::string>::Reader reader(value);
  EXPECT_EQ(reader.current(), "one");
  EXPECT_FALSE(reader.Changed());

  value.Publish(std::make_shared<const std::string>("two"));
  EXPECT_EQ(reader.current(), "one");  // its own reference until it checks
  EXPECT_TRUE(reader.Changed());
  EXPECT_EQ(reader.current(), "two");
  EXPECT_FALSE(reader.Changed());  // once per change
  EXPECT_EQ(reader.Refresh(), "two");
}

TEST(Published, UpdateIsReadModifyWrite) {
  Published<int> counter(std::make_shared<const int>(0));
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t)
    writers.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) counter.Update([](const int& v) { return std::make_shared<const int>(v + 1); });
    });
  for (auto& t : writers) t.join();
  EXPECT_EQ(*counter.Get(), 4000);
}

TEST(Published, ReadersKeepTheirValueAliveWhileItIsReplaced) {
  Published<std::vector<int>> value(std::make_shared<const std::vector<int>>(1000, 7));
  std::atomic<int> changes_seen{0};
  // Bounded in time, not in rounds, so a busy machine cannot make it fail.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  auto running = [&] { return changes_seen.load() < 100 && std::chrono::steady_clock::now() < deadline; };
  std::thread reader_thread([&] {
    Published<std::vector<int>>::Reader reader(value);
    while (running()) {
      if (reader.Changed()) ++changes_seen;
      const std::vector<int>& v = reader.current();
      int first = v.front();
      // A value freed or changed under the reader would show here (or under ASan).
      for (int x : v) ASSERT_EQ(x, first);
    }
  });
  for (int i = 0; running(); ++i) value.Publish(std::make_shared<const std::vector<int>>(1000, i % 9 + 1));
  reader_thread.join();
  EXPECT_EQ(changes_seen.load(), 100);
}

}  // namespace
}  // namespace berth
