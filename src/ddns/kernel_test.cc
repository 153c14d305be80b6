// The real kernel behind interface sources, in a network namespace made for the test: addresses
// and their flags as netlink reports them, and change events from the watcher.
#include "ddns/kernel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "net/kernel/test_support.h"

namespace berth::ddns {
namespace {

using namespace std::chrono_literals;

const InterfaceAddress* Find(const std::vector<InterfaceAddress>& list, const char* ip) {
  for (const auto& a : list)
    if (a.address.ToString() == ip) return &a;
  return nullptr;
}

TEST(KernelEnv, AddressesAndChangesInATestNetns) {
  BERTH_REQUIRE_ROOT();
  auto ns = net::Netns::Create();
  ASSERT_TRUE(ns.ok()) << ns.status().ToString();
  int rc = -1;
  std::string out = net::testing::ShellIn(
      *ns,
      "ip link set lo up && ip link add wan0 type veth peer name wan0p && ip link set wan0p up && "
      "ip link set wan0 up && ip addr add 198.51.100.7/24 dev wan0 && "
      "ip addr add 2001:db8::1/64 dev wan0 nodad && "
      "ip addr add 2001:db8::dead/64 dev wan0 nodad preferred_lft 0",
      &rc);
  ASSERT_EQ(rc, 0) << out;

  UpdaterEnv env = KernelEnv();
  std::vector<InterfaceAddress> list;
  ASSERT_TRUE(ns->Run([&]() -> Status {
                  ASSIGN_OR_RETURN(list, env.interfaces());
                  return Status::Ok();
                }).ok());
  const InterfaceAddress* v4 = Find(list, "198.51.100.7");
  ASSERT_NE(v4, nullptr);
  EXPECT_EQ(v4->interface, "wan0");
  EXPECT_TRUE(v4->universe_scope);
  EXPECT_FALSE(v4->deprecated);
  const InterfaceAddress* dead = Find(list, "2001:db8::dead");
  ASSERT_NE(dead, nullptr);
  EXPECT_TRUE(dead->deprecated);
  const InterfaceAddress* lo = Find(list, "127.0.0.1");
  ASSERT_NE(lo, nullptr);
  EXPECT_FALSE(lo->universe_scope);
  SourceConfig rule;
  rule.kind = SourceConfig::Kind::kInterface;
  rule.interface = "wan0";
  EXPECT_EQ(PickInterfaceAddress(list, rule, IpAddress::Family::kV6)->ToString(), "2001:db8::1");

  // The watch follows the namespace it was started in.
  std::atomic<int> fired{0};
  std::shared_ptr<void> watch;
  ASSERT_TRUE(ns->Run([&]() -> Status {
                  ASSIGN_OR_RETURN(watch, env.watch([&] { fired.fetch_add(1); }));
                  return Status::Ok();
                }).ok());
  net::testing::ShellIn(*ns, "ip addr add 203.0.113.9/24 dev wan0");
  auto end = std::chrono::steady_clock::now() + 1s;
  while (fired.load() == 0 && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(10ms);
  EXPECT_GT(fired.load(), 0) << "no change event within a second";
  watch.reset();
}

}  // namespace
}  // namespace berth::ddns
