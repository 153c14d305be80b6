#include "net/model/port_spec.h"

#include <gtest/gtest.h>

namespace berth::net {
namespace {

TEST(PortSpec, ParsesEveryForm) {
  struct Case { const char* text; const char* round_trip; size_t count; };
  const Case cases[] = {
      {"80", "80/tcp", 1},
      {"53/udp", "53/udp", 1},
      {"8080:80", "8080:80/tcp", 1},
      {"8000-8002:9000-9002/udp", "8000-8002:9000-9002/udp", 3},
      {"127.0.0.1:8080:80", "127.0.0.1:8080:80/tcp", 1},
      {"127.0.0.1::80", "127.0.0.1::80/tcp", 1},
      {"[::1]:8080:80/tcp", "[::1]:8080:80/tcp", 1},
      {"[2001:db8::1]::443", "[2001:db8::1]::443/tcp", 1},
      {"7000-7001", "7000-7001/tcp", 2},
  };
  for (const Case& c : cases) {
    auto spec = ParsePortSpec(c.text);
    ASSERT_TRUE(spec.ok()) << c.text << ": " << spec.status().ToString();
    EXPECT_EQ(spec->ToString(), c.round_trip) << c.text;
    EXPECT_EQ(spec->count(), c.count) << c.text;
    auto again = ParsePortSpec(spec->ToString());
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *spec) << c.text;
  }
  auto s = ParsePortSpec("127.0.0.1::80");
  EXPECT_TRUE(s->random_host_port());
  EXPECT_EQ(s->host_ip->ToString(), "127.0.0.1");
}

TEST(PortSpec, RejectsBadInput) {
  const char* bad[] = {"", "0", "65536", "80/sctp", "80/", "abc", "8080:", ":80x", "81-80",
                       "8000-8001:80", "1.2.3.4:5:6:7", "::1:80:80", "[::1]:80", "[::1:80:80",
                       "[1.2.3.4]:80:80", "300.1.1.1:80:80", "-80", "80-", "8080:80/TCP", " 80"};
  for (const char* text : bad) {
    auto spec = ParsePortSpec(text);
    EXPECT_FALSE(spec.ok()) << "'" << text << "' parsed as " << (spec.ok() ? spec->ToString() : "");
    if (!spec.ok()) EXPECT_EQ(spec.status().code(), Code::kInvalidArgument);
  }
}

}  // namespace
}  // namespace berth::net
