#include "net/kernel/mac.h"

#include <set>

#include <gtest/gtest.h>

namespace berth::net {
namespace {

IpAddress Ip(const char* text) { return IpAddress::Parse(text).value(); }

TEST(MacForIp, Ipv4IsDockerStyle) {
  EXPECT_EQ(MacToString(MacForIp(Ip("172.17.0.2"))), "02:42:ac:11:00:02");
  EXPECT_EQ(MacToString(MacForIp(Ip("10.88.255.254"))), "02:42:0a:58:ff:fe");
}

TEST(MacForIp, Ipv6IsStableLocalUnicastAndDistinct) {
  MacAddress a = MacForIp(Ip("fd00::2"));
  EXPECT_EQ(a, MacForIp(Ip("fd00::2")));  // deterministic
  EXPECT_EQ(a[0], 0x06);
  EXPECT_EQ(a[0] & 0x01, 0);  // unicast
  EXPECT_EQ(a[0] & 0x02, 2);  // locally administered
  std::set<MacAddress> seen;
  for (int i = 1; i <= 2000; ++i) {
    std::array<uint8_t, 16> b{0xfd,      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, uint8_t(i >> 8),
                              uint8_t(i)};
    seen.insert(MacForIp(IpAddress::V6(b)));
  }
  EXPECT_EQ(seen.size(), 2000u);
  // Never collides with the IPv4 space.
  EXPECT_NE(MacForIp(Ip("fd00::2"))[0], MacForIp(Ip("10.0.0.2"))[0]);
}

TEST(ParseMac, AcceptsUnicastRefusesTheRest) {
  auto m = ParseMac("02:42:0A:59:01:32");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(MacToString(*m), "02:42:0a:59:01:32");
  EXPECT_TRUE(ParseMac("02-42-0a-59-01-32").ok());
  for (const char* bad : {"", "02:42:0a:59:01", "02:42:0a:59:01:32:00", "01:00:5e:00:00:01",
                          "00:00:00:00:00:00", "02:42:0g:59:01:32", "02:42:0a:59:01;32"}) {
    EXPECT_FALSE(ParseMac(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace berth::net
