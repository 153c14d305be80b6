#include "net/ipam/ipam.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace berth::net {
namespace {

Cidr C(const char* t) { return *Cidr::Parse(t); }
IpAddress Ip(const char* t) { return *IpAddress::Parse(t); }

TEST(Ipam, ArithmeticRoundTrips) {
  EXPECT_EQ(PrefixSize(C("10.0.0.0/24")), 256u);
  EXPECT_EQ(PrefixSize(C("10.0.0.1/32")), 1u);
  EXPECT_EQ(PrefixSize(C("fd00::/64")), AddressOffset(1) << 64);
  EXPECT_EQ(AddressAt(C("10.0.0.0/23"), 300).ToString(), "10.0.1.44");
  EXPECT_EQ(OffsetOf(C("10.0.0.0/23"), Ip("10.0.1.44")), 300u);
  EXPECT_EQ(AddressAt(C("fd00:1::/64"), 0x1234).ToString(), "fd00:1::1234");
  EXPECT_EQ(AddressAt(C("fd00:1::/64"), (AddressOffset(1) << 64) - 1).ToString(), "fd00:1::ffff:ffff:ffff:ffff");
}

TEST(Ipam, HostRangeSkipsNetworkAndBroadcast) {
  auto r = HostRange(C("10.0.0.0/24"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first, 1u);
  EXPECT_EQ(r->second, 254u);
  auto r31 = HostRange(C("10.0.0.0/31"));
  ASSERT_TRUE(r31.ok());
  EXPECT_EQ(r31->first, 0u);
  EXPECT_EQ(r31->second, 1u);
  EXPECT_FALSE(HostRange(C("10.0.0.0/32")).ok());
  auto r6 = HostRange(C("fd00::/126"));
  ASSERT_TRUE(r6.ok());
  EXPECT_EQ(r6->first, 1u);
  EXPECT_EQ(r6->second, 3u);
}

TEST(Ipam, AllocatesSequentiallySkippingReservedAndWraps) {
  IpAddress gw = Ip("10.1.0.1"), aux = Ip("10.1.0.3");
  IpAddress reserved[] = {gw, aux};
  auto a = SubnetAllocator::Make(C("10.1.0.0/29"), std::nullopt, reserved);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  std::vector<std::string> got;
  for (;;) {
    auto ip = a->Allocate();
    if (!ip.ok()) {
      EXPECT_EQ(ip.status().code(), Code::kResourceExhausted);
      break;
    }
    got.push_back(ip->ToString());
  }
  EXPECT_EQ(got, (std::vector<std::string>{"10.1.0.2", "10.1.0.4", "10.1.0.5", "10.1.0.6"}));
  // A freed address comes back only after the cursor wraps to it.
  a->Release(Ip("10.1.0.4"));
  auto again = a->Allocate();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->ToString(), "10.1.0.4");
  EXPECT_EQ(a->in_use(), 4u);
}

TEST(Ipam, FreedAddressIsNotReusedImmediately) {
  auto a = SubnetAllocator::Make(C("10.2.0.0/24"), std::nullopt, {});
  ASSERT_TRUE(a.ok());
  auto first = a->Allocate();
  ASSERT_TRUE(first.ok());
  a->Release(*first);
  auto second = a->Allocate();
  ASSERT_TRUE(second.ok());
  EXPECT_NE(first->ToString(), second->ToString());
}

TEST(Ipam, RangeLimitsDynamicButNotStaticAllocation) {
  auto a = SubnetAllocator::Make(C("10.3.0.0/24"), C("10.3.0.128/30"), {});
  ASSERT_TRUE(a.ok());
  std::set<std::string> got;
  while (true) {
    auto ip = a->Allocate();
    if (!ip.ok()) break;
    got.insert(ip->ToString());
  }
  EXPECT_EQ(got, (std::set<std::string>{"10.3.0.128", "10.3.0.129", "10.3.0.130", "10.3.0.131"}));
  EXPECT_TRUE(a->Claim(Ip("10.3.0.9")).ok());
  EXPECT_EQ(a->Claim(Ip("10.3.0.9")).code(), Code::kAlreadyExists);
}

TEST(Ipam, StartEndBoundsNarrowTheDynamicRange) {
  auto a = SubnetAllocator::Make(C("10.3.0.0/24"), std::nullopt, {}, std::make_pair(Ip("10.3.0.10"), Ip("10.3.0.12")));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  std::set<std::string> got;
  for (auto ip = a->Allocate(); ip.ok(); ip = a->Allocate()) got.insert(ip->ToString());
  EXPECT_EQ(got, (std::set<std::string>{"10.3.0.10", "10.3.0.11", "10.3.0.12"}));
  EXPECT_TRUE(a->Claim(Ip("10.3.0.99")).ok());  // static addresses may sit outside
  // Bounds outside the subnet, reversed, or leaving nothing inside an ip range are refused.
  EXPECT_FALSE(SubnetAllocator::Make(C("10.3.0.0/24"), std::nullopt, {}, std::make_pair(Ip("10.3.1.1"), Ip("10.3.1.5"))).ok());
  EXPECT_FALSE(SubnetAllocator::Make(C("10.3.0.0/24"), std::nullopt, {}, std::make_pair(Ip("10.3.0.9"), Ip("10.3.0.5"))).ok());
  EXPECT_FALSE(SubnetAllocator::Make(C("10.3.0.0/24"), C("10.3.0.128/25"), {}, std::make_pair(Ip("10.3.0.5"), Ip("10.3.0.9"))).ok());
}

TEST(Ipam, ClaimValidates) {
  IpAddress reserved[] = {Ip("10.4.0.1")};
  auto a = SubnetAllocator::Make(C("10.4.0.0/24"), std::nullopt, reserved);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->Claim(Ip("10.5.0.1")).code(), Code::kInvalidArgument);
  EXPECT_EQ(a->Claim(Ip("10.4.0.0")).code(), Code::kInvalidArgument);
  EXPECT_EQ(a->Claim(Ip("10.4.0.255")).code(), Code::kInvalidArgument);
  EXPECT_EQ(a->Claim(Ip("10.4.0.1")).code(), Code::kAlreadyExists);
  EXPECT_EQ(a->Claim(Ip("fd00::1")).code(), Code::kInvalidArgument);
  EXPECT_TRUE(a->Claim(Ip("10.4.0.2")).ok());
  EXPECT_TRUE(a->InUse(Ip("10.4.0.2")));
  // The dynamic allocator steps over claimed addresses.
  auto next = a->Allocate();
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->ToString(), "10.4.0.3");
}

TEST(Ipam, MakeRejectsBadInput) {
  EXPECT_FALSE(SubnetAllocator::Make(C("10.0.0.0/24"), C("10.0.1.0/28"), {}).ok());
  EXPECT_FALSE(SubnetAllocator::Make(C("10.0.0.0/24"), C("10.0.0.0/16"), {}).ok());
  IpAddress outside[] = {Ip("10.9.0.1")};
  EXPECT_FALSE(SubnetAllocator::Make(C("10.0.0.0/24"), std::nullopt, outside).ok());
  EXPECT_FALSE(SubnetAllocator::Make(C("10.0.0.0/32"), std::nullopt, {}).ok());
}

TEST(Ipam, Ipv6AllocatesFromHugeSubnetsQuickly) {
  IpAddress reserved[] = {Ip("fd00:9::1")};
  auto a = SubnetAllocator::Make(C("fd00:9::/64"), std::nullopt, reserved);
  ASSERT_TRUE(a.ok());
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(a->Allocate().ok());
  auto ip = a->Allocate();
  ASSERT_TRUE(ip.ok());
  EXPECT_EQ(ip->ToString(), "fd00:9::3ea");  // 1 is the gateway, 2..0x3e9 went first
}

TEST(Ipam, PickFreeSubnetAvoidsTakenPrefixes) {
  std::vector<Cidr> taken = {C("172.17.0.0/16"), C("172.18.5.0/24"), C("10.0.0.0/8")};
  auto c = PickFreeSubnet(IpAddress::Family::kV4, taken);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->ToString(), "172.19.0.0/16");
  // A host route covering all of 172.16/12 pushes the choice to 192.168/20s.
  taken = {C("172.16.0.0/12"), C("192.168.0.0/20")};
  c = PickFreeSubnet(IpAddress::Family::kV4, taken);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->ToString(), "192.168.16.0/20");
  taken = {C("172.16.0.0/12"), C("192.168.0.0/16")};
  EXPECT_EQ(PickFreeSubnet(IpAddress::Family::kV4, taken).status().code(), Code::kResourceExhausted);
  // A default route (0.0.0.0/0) is not a reason to refuse: callers leave it out of `taken`.
  auto v6 = PickFreeSubnet(IpAddress::Family::kV6, std::vector<Cidr>{C("fd42:6265:7274::/64")});
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->ToString(), "fd42:6265:7274:1::/64");
}

}  // namespace
}  // namespace berth::net
