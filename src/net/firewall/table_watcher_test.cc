// TableWatcher against the kernel, inside a namespace the test creates and removes.
#include "net/firewall/table_watcher.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "net/firewall/firewall.h"
#include "net/firewall/test_topology.h"

namespace berth::net {
namespace {

using testing::RunIn;
using testing::Sh;

class TableWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ns = namespaces_.Add("watch");
    ASSERT_TRUE(ns.ok()) << ns.status().ToString();
    ns_ = *ns;
    Status s = RunIn(ns_, [&]() -> Status {
      ASSIGN_OR_RETURN(fw_, Firewall::Open());
      ASSIGN_OR_RETURN(watcher_, TableWatcher::Start("inet berth", [this] {
                         std::lock_guard<std::mutex> l(mu_);
                         ++calls_;
                         cv_.notify_all();
                       }));
      return Status::Ok();
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
    NetworkRules n{.bridge = "br-x", .subnets = {}};
    ASSERT_TRUE(fw_->Replace(std::span(&n, 1), {}).ok());
  }
  void TearDown() override { watcher_.reset(); }

  // Waits up to `ms` for the callback count to reach `n`.
  bool WaitCalls(int n, int ms) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, std::chrono::milliseconds(ms), [&] { return calls_ >= n; });
  }
  int Calls() {
    std::lock_guard<std::mutex> l(mu_);
    return calls_;
  }
  void Nft(const std::string& cmd) {
    auto r = Sh("ip netns exec " + ns_ + " nft " + cmd);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  testing::Namespaces namespaces_;
  std::string ns_;
  std::unique_ptr<Firewall> fw_;
  std::unique_ptr<TableWatcher> watcher_;
  std::mutex mu_;
  std::condition_variable cv_;
  int calls_ = 0;
};

TEST_F(TableWatcherTest, FiresWhenTheTableIsDeleted) {
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_NO_FATAL_FAILURE(Nft("delete table inet berth"));
  ASSERT_TRUE(WaitCalls(1, 1000));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  EXPECT_LT(ms.count(), 300);  // the nft process start included
}

TEST_F(TableWatcherTest, FiresOnFlushRulesetAndFlushTable) {
  ASSERT_NO_FATAL_FAILURE(Nft("flush ruleset"));
  ASSERT_TRUE(WaitCalls(1, 1000));
  ASSERT_TRUE(fw_->Replace({}, {}).ok());
  ASSERT_NO_FATAL_FAILURE(Nft("flush table inet berth"));
  ASSERT_TRUE(WaitCalls(2, 1000));
}

TEST_F(TableWatcherTest, IgnoresOurOwnChangesAndOtherTables) {
  std::vector<PortRule> ports = {{std::nullopt, Protocol::kTcp, 80, *IpAddress::Parse("172.30.1.2"), 80, "br-x"}};
  ASSERT_TRUE(fw_->AddPorts(ports).ok());
  ASSERT_TRUE(fw_->RemovePorts(ports).ok());
  NetworkRules n{.bridge = "br-y", .subnets = {}};
  ASSERT_TRUE(fw_->AddNetwork(n).ok());
  ASSERT_TRUE(fw_->RemoveNetwork(n).ok());
  ASSERT_TRUE(fw_->Replace({}, {}).ok());
  ASSERT_TRUE(fw_->EnsureTable().ok());
  ASSERT_NO_FATAL_FAILURE(Nft("'add table inet other; delete table inet other'"));
  ASSERT_NO_FATAL_FAILURE(Nft("'add table ip berth; delete table ip berth'"));
  EXPECT_FALSE(WaitCalls(1, 300)) << "fired without the table being removed";
  ASSERT_TRUE(fw_->DeleteTable().ok());
  EXPECT_TRUE(WaitCalls(1, 1000)) << "our own DeleteTable counts as a removal";
  EXPECT_EQ(watcher_->fired(), 1u);
}

TEST_F(TableWatcherTest, StopsPromptlyAndValidatesItsArgument) {
  auto t0 = std::chrono::steady_clock::now();
  watcher_.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(100));
  EXPECT_EQ(TableWatcher::Start("berth", [] {}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(TableWatcher::Start("inet4 berth", [] {}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(TableWatcher::Start("inet be;rth", [] {}).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace berth::net
