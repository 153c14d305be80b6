#include "net/firewall/ruleset.h"

#include <gtest/gtest.h>

namespace berth::net {
namespace {

IpAddress Ip(const char* t) { return *IpAddress::Parse(t); }

PortRule Port(std::optional<IpAddress> host, Protocol proto, uint16_t hp, const char* cip, uint16_t cp) {
  return PortRule{host, proto, hp, Ip(cip), cp, "br-a"};
}

TEST(Ruleset, ValidatesNames) {
  EXPECT_TRUE(ValidateTableName("berth").ok());
  EXPECT_TRUE(ValidateTableName("berth_test2").ok());
  EXPECT_FALSE(ValidateTableName("").ok());
  EXPECT_FALSE(ValidateTableName("2berth").ok());
  EXPECT_FALSE(ValidateTableName("b; flush ruleset").ok());
  EXPECT_FALSE(ValidateTableName(std::string(65, 'a')).ok());
  EXPECT_TRUE(ValidateBridgeName("br-3f2a9c").ok());
  EXPECT_TRUE(ValidateBridgeName("docker0.5_x").ok());
  EXPECT_FALSE(ValidateBridgeName("").ok());
  EXPECT_FALSE(ValidateBridgeName("0123456789abcdef").ok());  // 16 > IFNAMSIZ-1
  EXPECT_FALSE(ValidateBridgeName("..").ok());
  EXPECT_FALSE(ValidateBridgeName("br\" }; flush").ok());
  EXPECT_FALSE(ValidateBridgeName("br a").ok());
  EXPECT_FALSE(ValidateBridgeName("br/a").ok());
}

TEST(Ruleset, ValidatesPorts) {
  EXPECT_TRUE(ValidatePort(Port(std::nullopt, Protocol::kTcp, 80, "172.18.0.2", 80)).ok());
  EXPECT_TRUE(ValidatePort(Port(Ip("::1"), Protocol::kUdp, 53, "fd00::2", 53)).ok());
  EXPECT_EQ(ValidatePort(Port(std::nullopt, Protocol::kTcp, 0, "172.18.0.2", 80)).code(), Code::kInvalidArgument);
  EXPECT_EQ(ValidatePort(Port(std::nullopt, Protocol::kTcp, 80, "172.18.0.2", 0)).code(), Code::kInvalidArgument);
  EXPECT_EQ(ValidatePort(Port(std::nullopt, Protocol::kTcp, 80, "0.0.0.0", 80)).code(), Code::kInvalidArgument);
  EXPECT_EQ(ValidatePort(Port(Ip("127.0.0.1"), Protocol::kTcp, 80, "fd00::2", 80)).code(), Code::kInvalidArgument);
  EXPECT_EQ(ValidatePort(Port(Ip("::"), Protocol::kTcp, 80, "172.18.0.2", 80)).code(), Code::kInvalidArgument);
  PortRule bad = Port(std::nullopt, Protocol::kTcp, 80, "172.18.0.2", 80);
  bad.bridge = "x\"y";
  EXPECT_EQ(ValidatePort(bad).code(), Code::kInvalidArgument);
}

TEST(Ruleset, PortElementsPickTheMapByFamilyAndHostAddress) {
  PortElement any = ElementOf(Port(std::nullopt, Protocol::kTcp, 8080, "172.18.0.2", 80));
  EXPECT_EQ(any.map, "pub4_any");
  EXPECT_EQ(any.key, "tcp . 8080");
  EXPECT_EQ(any.value, "172.18.0.2 . 80");
  PortElement zero = ElementOf(Port(Ip("0.0.0.0"), Protocol::kUdp, 53, "172.18.0.2", 5353));
  EXPECT_EQ(zero.map, "pub4_any");
  EXPECT_EQ(zero.key, "udp . 53");
  PortElement lo = ElementOf(Port(Ip("127.0.0.1"), Protocol::kTcp, 8081, "172.18.0.2", 80));
  EXPECT_EQ(lo.map, "pub4");
  EXPECT_EQ(lo.key, "127.0.0.1 . tcp . 8081");
  PortElement v6 = ElementOf(Port(Ip("fd00::1"), Protocol::kUdp, 53, "fd00:1::2", 53));
  EXPECT_EQ(v6.map, "pub6");
  EXPECT_EQ(v6.key, "fd00::1 . udp . 53");
  EXPECT_EQ(v6.value, "fd00:1::2 . 53");
  EXPECT_EQ(ElementOf(Port(std::nullopt, Protocol::kTcp, 1, "fd00::2", 2)).map, "pub6_any");
}

TEST(Ruleset, SetsFollowTheFlags) {
  NetworkRules n{.bridge = "br-a", .subnets = {}, .internal = false, .masquerade = true, .icc = false};
  EXPECT_EQ(SetsOf(n), (std::vector<std::string_view>{"bridges", "same", "icc_off", "masq"}));
  n.internal = true;
  n.icc = true;
  EXPECT_EQ(SetsOf(n), (std::vector<std::string_view>{"bridges", "same", "internal"}))
      << "internal networks are never masqueraded";
  n.internal = false;
  n.masquerade = false;
  EXPECT_EQ(SetsOf(n), (std::vector<std::string_view>{"bridges", "same"}));
  EXPECT_EQ(SetsOf(n, true).size(), 5u);
}

TEST(Ruleset, AllElementsGroupsBySetAndMap) {
  std::vector<NetworkRules> nets = {{.bridge = "br-a", .subnets = {}},
                                    {.bridge = "br-i", .subnets = {}, .internal = true}};
  std::vector<PortRule> ports = {Port(std::nullopt, Protocol::kTcp, 1, "172.18.0.2", 80),
                                 Port(std::nullopt, Protocol::kUdp, 2, "172.18.0.3", 81),
                                 Port(Ip("fd00::1"), Protocol::kTcp, 3, "fd00::2", 82)};
  EXPECT_EQ(AllElements("t", nets, ports),
            "add element inet t bridges { \"br-a\", \"br-i\" }\n"
            "add element inet t internal { \"br-i\" }\n"
            "add element inet t masq { \"br-a\" }\n"
            "add element inet t same { \"br-a\" . \"br-a\", \"br-i\" . \"br-i\" }\n"
            "add element inet t pub4_any { tcp . 1 : 172.18.0.2 . 80, udp . 2 : 172.18.0.3 . 81 }\n"
            "add element inet t pub6 { fd00::1 . tcp . 3 : fd00::2 . 82 }\n");
  EXPECT_EQ(AllElements("t", {}, {}), "");
  std::string skeleton = TableSkeleton("t");
  EXPECT_EQ(skeleton.rfind("table inet t {", 0), 0u);
  EXPECT_NE(skeleton.find("0x00002000"), std::string::npos);
}

}  // namespace
}  // namespace berth::net
