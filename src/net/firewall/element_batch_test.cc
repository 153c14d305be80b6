#include "net/firewall/element_batch.h"

#include <gtest/gtest.h>

namespace berth::net {
namespace {

IpAddress Ip(const char* t) { return *IpAddress::Parse(t); }

std::vector<uint8_t> B(std::initializer_list<int> v) { return {v.begin(), v.end()}; }

TEST(ElementBatch, PortKeysUseTheRegisterLayout) {
  std::vector<PortRule> ports = {{Ip("10.0.0.1"), Protocol::kUdp, 0x1234, Ip("172.18.0.2"), 53, "br-a"},
                                 {std::nullopt, Protocol::kTcp, 8080, Ip("fd00::2"), 80, "br-a"}};
  std::vector<ElementOp> ops = AddPortOps(ports);
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[0].kind, ElementOp::Kind::kCreate);
  EXPECT_EQ(ops[0].set, "pub4");
  // ipv4_addr . inet_proto . inet_service: 4 + 1 (padded to 4) + 2 (big-endian, padded).
  EXPECT_EQ(ops[0].key, B({10, 0, 0, 1, 17, 0, 0, 0, 0x12, 0x34, 0, 0}));
  EXPECT_EQ(ops[0].value, B({172, 18, 0, 2, 0, 53, 0, 0}));
  EXPECT_EQ(ops[1].set, "pub6_any");
  EXPECT_EQ(ops[1].key, B({6, 0, 0, 0, 0x1f, 0x90, 0, 0}));
  ASSERT_EQ(ops[1].value.size(), 20u);
  EXPECT_EQ(ops[1].value[0], 0xfd);
  EXPECT_EQ(ops[1].value[15], 2);
  EXPECT_EQ(ops[1].value[17], 80);

  std::vector<ElementOp> rm = RemovePortOps(std::span(ports).first(1));
  ASSERT_EQ(rm.size(), 2u);
  EXPECT_EQ(rm[0].kind, ElementOp::Kind::kAdd);
  EXPECT_EQ(rm[1].kind, ElementOp::Kind::kDelete);
  EXPECT_EQ(rm[1].key, ops[0].key);
  EXPECT_TRUE(rm[1].value.empty());
}

TEST(ElementBatch, NetworkKeysAreZeroPaddedIfnames) {
  NetworkRules n{.bridge = "br-a", .subnets = {}, .internal = true};
  std::vector<ElementOp> ops = AddNetworkOps(n);
  ASSERT_EQ(ops.size(), 3u);
  EXPECT_EQ(ops[0].set, "bridges");
  EXPECT_EQ(ops[0].kind, ElementOp::Kind::kCreate);
  std::vector<uint8_t> name = B({'b', 'r', '-', 'a', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  EXPECT_EQ(ops[0].key, name);
  EXPECT_EQ(ops[1].set, "same");
  EXPECT_EQ(ops[1].key.size(), 32u);
  EXPECT_EQ(ops[2].set, "internal");
  EXPECT_EQ(ops[2].kind, ElementOp::Kind::kAdd);
  std::vector<ElementOp> rm = RemoveNetworkOps(n);
  // bridges: delete; four other sets: add + delete each.
  ASSERT_EQ(rm.size(), 9u);
  EXPECT_EQ(rm[0].kind, ElementOp::Kind::kDelete);
  EXPECT_EQ(rm[0].set, "bridges");
}

}  // namespace
}  // namespace berth::net
