#include "net/kernel/address_watch.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include <gtest/gtest.h>

#include "net/kernel/netlink.h"
#include "net/kernel/test_support.h"

namespace berth::net {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

IpAddress Ip(const char* text) { return IpAddress::Parse(text).value(); }

// Counts calls and lets the test wait for the next one.
struct Counter {
  std::mutex mu;
  std::condition_variable cv;
  int calls = 0;
  std::thread::id thread;

  void Hit() {
    std::lock_guard lock(mu);
    ++calls;
    thread = std::this_thread::get_id();
    cv.notify_all();
  }
  // True when calls reaches n within `limit`.
  bool WaitFor(int n, std::chrono::milliseconds limit) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, limit, [&] { return calls >= n; });
  }
  int Calls() {
    std::lock_guard lock(mu);
    return calls;
  }
};

class AddressWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (netns tests)";
    auto ns = Netns::Create();
    ASSERT_TRUE(ns.ok()) << ns.status().ToString();
    ns_.emplace(std::move(*ns));
    auto nl = Netlink::OpenIn(*ns_);
    ASSERT_TRUE(nl.ok()) << nl.status().ToString();
    nl_.emplace(std::move(*nl));
    ASSERT_TRUE(nl_->CreateBridge("br0", 0).ok());
    auto idx = nl_->LinkIndex("br0");
    ASSERT_TRUE(idx.ok());
    br_ = *idx;
  }
  std::optional<Netns> ns_;
  std::optional<Netlink> nl_;
  int br_ = 0;
};

TEST_F(AddressWatcherTest, FiresWithinASecondOfAnAddressChange) {
  Counter counter;
  auto w = AddressWatcher::StartIn(
      *ns_, [&] { counter.Hit(); }, 50ms);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_FALSE(counter.WaitFor(1, 200ms));  // quiet namespace: no spurious call

  auto t0 = Clock::now();
  ASSERT_TRUE(nl_->AddAddress(br_, Ip("10.3.0.1"), 24).ok());
  ASSERT_TRUE(counter.WaitFor(1, 1000ms));
  auto latency = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
  EXPECT_GE(latency, 45ms);  // debounced, not immediate
  EXPECT_LT(latency, 1000ms);
  EXPECT_NE(counter.thread, std::this_thread::get_id());

  // v6 too, and deletions.
  ASSERT_TRUE(nl_->AddAddress(br_, Ip("fd03::1"), 64, true).ok());
  ASSERT_TRUE(counter.WaitFor(2, 1000ms));
  ASSERT_TRUE(nl_->DeleteAddress(br_, Ip("10.3.0.1"), 24).ok());
  ASSERT_TRUE(counter.WaitFor(3, 1000ms));
  // Link changes count.
  ASSERT_TRUE(nl_->SetMtu(br_, 1280).ok());
  ASSERT_TRUE(counter.WaitFor(4, 1000ms));
}

TEST_F(AddressWatcherTest, BurstsAreCoalesced) {
  Counter counter;
  auto w = AddressWatcher::StartIn(
      *ns_, [&] { counter.Hit(); }, 300ms);
  ASSERT_TRUE(w.ok());
  auto t0 = Clock::now();
  for (int i = 1; i <= 20; ++i) {
    auto a = IpAddress::V4({10, 4, 0, uint8_t(i)});
    ASSERT_TRUE(nl_->AddAddress(br_, a, 24).ok());
  }
  auto burst = Clock::now() - t0;
  ASSERT_TRUE(counter.WaitFor(1, 1000ms));
  std::this_thread::sleep_for(500ms);
  if (burst < 250ms) {
    EXPECT_EQ(counter.Calls(), 1);  // one burst inside one debounce window: one call
  } else {
    EXPECT_LE(counter.Calls(), 3);
  }
}

TEST_F(AddressWatcherTest, OtherNamespacesAreNotWatched) {
  Counter counter;
  auto w = AddressWatcher::StartIn(
      *ns_, [&] { counter.Hit(); }, 20ms);
  ASSERT_TRUE(w.ok());
  auto other = Netns::Create();
  ASSERT_TRUE(other.ok());
  auto onl = Netlink::OpenIn(*other);
  ASSERT_TRUE(onl.ok());
  ASSERT_TRUE(onl->SetUp(1, true).ok());
  ASSERT_TRUE(onl->AddAddress(1, Ip("10.5.5.5"), 32).ok());
  EXPECT_FALSE(counter.WaitFor(1, 300ms));
}

TEST_F(AddressWatcherTest, StartFromInsideTheNamespaceAndStopPromptly) {
  Counter counter;
  std::unique_ptr<AddressWatcher> w;
  Status st = ns_->Run([&]() -> Status {
    ASSIGN_OR_RETURN(w, AddressWatcher::Start([&] { counter.Hit(); }, 10s));
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  // A change is pending behind a 10 s debounce; destruction must not wait for it.
  ASSERT_TRUE(nl_->AddAddress(br_, Ip("10.6.0.1"), 24).ok());
  std::this_thread::sleep_for(50ms);
  auto t0 = Clock::now();
  w.reset();
  EXPECT_LT(Clock::now() - t0, 200ms);
  EXPECT_EQ(counter.Calls(), 0);
}

TEST_F(AddressWatcherTest, CanBeDestroyedFromItsCallback) {
  std::unique_ptr<AddressWatcher> w;
  std::atomic<bool> destroyed{false};
  std::mutex mu;
  auto started = AddressWatcher::StartIn(
      *ns_,
      [&] {
        std::lock_guard lock(mu);
        w.reset();
        destroyed = true;
      },
      10ms);
  ASSERT_TRUE(started.ok());
  {
    std::lock_guard lock(mu);
    w = std::move(*started);
  }
  ASSERT_TRUE(nl_->AddAddress(br_, Ip("10.7.0.1"), 24).ok());
  for (int i = 0; i < 100 && !destroyed; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(destroyed);
}

TEST_F(AddressWatcherTest, LinkDeletionsAreReportedByNameAndBridgePortsAreNot) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> deleted;
  std::unique_ptr<LinkDeletionWatcher> w;
  Status st = ns_->Run([&]() -> Status {
    ASSIGN_OR_RETURN(w, LinkDeletionWatcher::Start(
                            [&](const std::string& name) {
                              std::lock_guard lock(mu);
                              deleted.push_back(name);
                              cv.notify_all();
                            },
                            [] {}));
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  // A veth pair on the bridge, whose peer lives in another namespace: the peer's namespace
  // dying takes the pair with it, which is what the watcher must report.
  auto created = Netns::Create();
  ASSERT_TRUE(created.ok());
  std::optional<Netns> other(std::move(*created));
  ASSERT_TRUE(nl_->CreateVeth("vb-w0", "eth0", &*other, 0).ok());
  auto idx = nl_->LinkIndex("vb-w0");
  ASSERT_TRUE(idx.ok());
  ASSERT_TRUE(nl_->SetMasterAndUp(*idx, br_, true).ok());
  ASSERT_TRUE(nl_->SetMaster(*idx, 0).ok());  // leaving the bridge is not a deletion
  std::this_thread::sleep_for(100ms);
  {
    std::lock_guard lock(mu);
    EXPECT_TRUE(deleted.empty());
  }
  other.reset();  // the last reference to the namespace: the kernel destroys it and the pair
  std::unique_lock lock(mu);
  EXPECT_TRUE(cv.wait_for(lock, 5s, [&] { return !deleted.empty(); }));
  EXPECT_EQ(deleted, std::vector<std::string>{"vb-w0"});
}

TEST(AddressWatcher, RejectsAnEmptyCallback) {
  EXPECT_EQ(LinkDeletionWatcher::Start(nullptr, [] {}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(AddressWatcher::Start(nullptr).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace berth::net
