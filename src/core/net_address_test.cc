#include "core/net_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(IpAddress, ParsesBothFamilies) {
  auto v4 = IpAddress::Parse("192.0.2.1");
  ASSERT_TRUE(v4.ok());
  EXPECT_TRUE(v4->is_v4());
  EXPECT_EQ(v4->ToString(), "192.0.2.1");
  auto v6 = IpAddress::Parse("2001:DB8:0:0::1");
  ASSERT_TRUE(v6.ok());
  EXPECT_FALSE(v6->is_v4());
  EXPECT_EQ(v6->ToString(), "2001:db8::1");
}

TEST(IpAddress, RejectsGarbage) {
  for (const char* bad : {"", "1.2.3", "1.2.3.256", "example.com", "[::1]", "::1%eth0",
                          " 1.2.3.4", "1.2.3.4 "}) {
    EXPECT_FALSE(IpAddress::Parse(bad).ok()) << bad;
  }
}

TEST(IpAddress, UnmapsAndDetectsLoopback) {
  auto mapped = IpAddress::Parse("::ffff:10.1.2.3");
  ASSERT_TRUE(mapped.ok());
  EXPECT_EQ(mapped->Unmapped().ToString(), "10.1.2.3");
  EXPECT_TRUE(IpAddress::Parse("127.9.9.9")->IsLoopback());
  EXPECT_TRUE(IpAddress::Parse("::1")->IsLoopback());
  EXPECT_TRUE(IpAddress::Parse("::ffff:127.0.0.1")->IsLoopback());
  EXPECT_FALSE(IpAddress::Parse("::2")->IsLoopback());
  EXPECT_FALSE(IpAddress::Parse("128.0.0.1")->IsLoopback());
}

TEST(SocketAddress, ParsesIpv4AndBracketedIpv6) {
  auto a = SocketAddress::Parse("127.0.0.1:1053");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->ip().ToString(), "127.0.0.1");
  EXPECT_EQ(a->port(), 1053);
  EXPECT_EQ(a->ToString(), "127.0.0.1:1053");
  auto b = SocketAddress::Parse("[::1]:53");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->ip().ToString(), "::1");
  EXPECT_EQ(b->port(), 53);
  EXPECT_EQ(b->ToString(), "[::1]:53");
  EXPECT_EQ(*SocketAddress::Parse(b->ToString()), *b);
}

TEST(SocketAddress, DefaultPort) {
  EXPECT_EQ(SocketAddress::Parse("192.0.2.53", 53)->port(), 53);
  EXPECT_EQ(SocketAddress::Parse("[2001:db8::53]", 53)->port(), 53);
  auto bare6 = SocketAddress::Parse("2001:db8::53", 53);
  ASSERT_TRUE(bare6.ok());
  EXPECT_EQ(bare6->ip().ToString(), "2001:db8::53");
  EXPECT_EQ(bare6->port(), 53);
  EXPECT_EQ(SocketAddress::Parse("192.0.2.53:5353", 53)->port(), 5353);
  auto missing = SocketAddress::Parse("192.0.2.53");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing port"), std::string::npos);
}

TEST(SocketAddress, RejectsBadInput) {
  for (const char* bad : {"", ":53", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1",
                          "127.0.0.1:5x", "[::1", "[::1]53", "[127.0.0.1]:53", "host:53",
                          "[::1]:", "1.2.3.4:+53"}) {
    auto r = SocketAddress::Parse(bad, 53);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
      EXPECT_NE(r.status().message().find(std::string("'") + bad + "'"), std::string::npos)
          << r.status().message();
    }
  }
}

TEST(SocketAddress, SockaddrRoundTrip) {
  for (const char* text : {"10.0.0.1:53", "[fe80::1]:8053"}) {
    auto a = SocketAddress::Parse(text);
    ASSERT_TRUE(a.ok());
    sockaddr_storage ss;
    socklen_t len = a->ToSockaddr(&ss);
    EXPECT_EQ(len, a->ip().is_v4() ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
    auto back = SocketAddress::FromSockaddr(ss);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, *a) << text;
  }
  sockaddr_storage unix_sa{};
  unix_sa.ss_family = AF_UNIX;
  EXPECT_FALSE(SocketAddress::FromSockaddr(unix_sa).ok());
}

TEST(Cidr, ParsesAndClearsHostBits) {
  auto c = Cidr::Parse("10.1.2.3/8");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->ToString(), "10.0.0.0/8");
  EXPECT_EQ(Cidr::Parse("192.0.2.7")->ToString(), "192.0.2.7/32");
  EXPECT_EQ(Cidr::Parse("::1")->ToString(), "::1/128");
  EXPECT_EQ(Cidr::Parse("2001:db8:ffff::/33")->ToString(), "2001:db8:8000::/33");
  EXPECT_EQ(Cidr::Parse("0.0.0.0/0")->prefix_length(), 0);
}

TEST(Cidr, Overlaps) {
  auto c = [](const char* t) { return *Cidr::Parse(t); };
  EXPECT_TRUE(c("172.16.0.0/12").Overlaps(c("172.17.0.0/16")));
  EXPECT_TRUE(c("172.17.0.0/16").Overlaps(c("172.16.0.0/12")));
  EXPECT_TRUE(c("10.0.0.0/24").Overlaps(c("10.0.0.0/24")));
  EXPECT_FALSE(c("10.0.0.0/24").Overlaps(c("10.0.1.0/24")));
  EXPECT_FALSE(c("10.0.0.0/8").Overlaps(c("fd00::/8")));
  EXPECT_TRUE(c("0.0.0.0/0").Overlaps(c("192.0.2.1/32")));
  EXPECT_TRUE(c("fd00::/8").Overlaps(c("fd42::/64")));
}

TEST(Cidr, RejectsBadInput) {
  for (const char* bad : {"", "/8", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x",
                          "10.0.0.0/-1", "10.0.0/8", "10.0.0.0/8/8"}) {
    EXPECT_FALSE(Cidr::Parse(bad).ok()) << bad;
  }
}

TEST(Cidr, ContainsIpv4) {
  auto c = *Cidr::Parse("172.16.0.0/12");
  EXPECT_TRUE(c.Contains(*IpAddress::Parse("172.16.0.0")));
  EXPECT_TRUE(c.Contains(*IpAddress::Parse("172.31.255.255")));
  EXPECT_FALSE(c.Contains(*IpAddress::Parse("172.32.0.0")));
  EXPECT_FALSE(c.Contains(*IpAddress::Parse("172.15.255.255")));
  EXPECT_TRUE(c.Contains(*IpAddress::Parse("::ffff:172.20.1.1")));  // dual-stack peer
  EXPECT_FALSE(c.Contains(*IpAddress::Parse("2001:db8::1")));
  auto all = *Cidr::Parse("0.0.0.0/0");
  EXPECT_TRUE(all.Contains(*IpAddress::Parse("255.255.255.255")));
  EXPECT_FALSE(all.Contains(*IpAddress::Parse("::1")));
}

TEST(Cidr, ContainsIpv6) {
  auto c = *Cidr::Parse("2001:db8::/32");
  EXPECT_TRUE(c.Contains(*IpAddress::Parse("2001:db8:ffff::1")));
  EXPECT_FALSE(c.Contains(*IpAddress::Parse("2001:db9::1")));
  EXPECT_FALSE(c.Contains(*IpAddress::Parse("32.1.13.184")));
  auto host = *Cidr::Parse("::1/128");
  EXPECT_TRUE(host.Contains(*IpAddress::Parse("::1")));
  EXPECT_FALSE(host.Contains(*IpAddress::Parse("::2")));
  auto odd = *Cidr::Parse("fe80::/10");
  EXPECT_TRUE(odd.Contains(*IpAddress::Parse("febf::1")));
  EXPECT_FALSE(odd.Contains(*IpAddress::Parse("fec0::1")));
}

TEST(Cidr, ContainsSockaddr) {
  auto loop = *Cidr::Parse("127.0.0.0/8");
  sockaddr_storage ss;
  SocketAddress::Parse("127.0.0.53:9999")->ToSockaddr(&ss);
  EXPECT_TRUE(loop.Contains(ss));
  SocketAddress::Parse("[::ffff:127.0.0.1]:1")->ToSockaddr(&ss);
  EXPECT_TRUE(loop.Contains(ss));
  SocketAddress::Parse("10.0.0.1:1")->ToSockaddr(&ss);
  EXPECT_FALSE(loop.Contains(ss));
  sockaddr_storage unix_sa{};
  unix_sa.ss_family = AF_UNIX;
  EXPECT_FALSE(loop.Contains(unix_sa));
}

}  // namespace
}  // namespace berth
