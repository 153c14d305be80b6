#include "ddns/source.h"

#include <gtest/gtest.h>

#include "http/server.h"

namespace berth::ddns {
namespace {

using Family = IpAddress::Family;
IpAddress Ip(const char* t) { return IpAddress::Parse(t).value(); }

TEST(ParseAddressAnswer, PlainJsonAndText) {
  EXPECT_EQ(*ParseAddressAnswer("198.51.100.7\n", Family::kV4), Ip("198.51.100.7"));
  EXPECT_EQ(*ParseAddressAnswer("  2001:db8::7 ", Family::kV6), Ip("2001:db8::7"));
  EXPECT_EQ(*ParseAddressAnswer(R"({"ip": "203.0.113.5", "country": "ZZ"})", Family::kV4), Ip("203.0.113.5"));
  EXPECT_EQ(*ParseAddressAnswer(R"({"data": {"list": ["x", "2001:db8::5"]}})", Family::kV6), Ip("2001:db8::5"));
  EXPECT_EQ(*ParseAddressAnswer("<html><body>Current IP Address: 198.51.100.23</body></html>", Family::kV4),
            Ip("198.51.100.23"));
  // The family asked for, not the first address seen.
  EXPECT_EQ(*ParseAddressAnswer("v4 198.51.100.1 v6 2001:db8::1", Family::kV6), Ip("2001:db8::1"));
  for (const char* bad : {"", "no address", "999.1.1.1", "{\"ip\": 7}", "{broken", "1.2.3"}) {
    auto r = ParseAddressAnswer(bad, Family::kV4);
    EXPECT_EQ(r.status().code(), Code::kNotFound) << bad;
  }
  EXPECT_FALSE(ParseAddressAnswer("198.51.100.7", Family::kV6).ok());
  // Deep nesting is cut off rather than recursed into.
  std::string deep = std::string(200, '[') + "\"198.51.100.7\"" + std::string(200, ']');
  EXPECT_TRUE(ParseAddressAnswer(deep, Family::kV4).ok());  // found by the text scan, not the JSON walk
}

TEST(IsGlobalUnicast, ExcludesWhatCannotBePublished) {
  for (const char* good : {"198.51.100.7", "8.8.8.8", "2001:db8::1", "2a00:1450::1"})
    EXPECT_TRUE(IsGlobalUnicast(Ip(good), false)) << good;
  for (const char* bad : {"127.0.0.1", "0.0.0.0", "169.254.1.1", "224.0.0.1", "255.255.255.255", "::1", "::",
                          "fe80::1", "ff02::1", "::ffff:198.51.100.7"})
    EXPECT_FALSE(IsGlobalUnicast(Ip(bad), true)) << bad;
  for (const char* priv : {"10.1.2.3", "172.16.0.1", "192.168.1.1", "100.64.0.1", "fd00::1"}) {
    EXPECT_FALSE(IsGlobalUnicast(Ip(priv), false)) << priv;
    EXPECT_TRUE(IsGlobalUnicast(Ip(priv), true)) << priv;
  }
}

TEST(PickInterfaceAddress, SkipsPrivacyDeprecatedAndForeignAddresses) {
  std::vector<InterfaceAddress> addrs = {
      {"lo", Ip("127.0.0.1"), false, false, true},
      {"eth0", Ip("192.168.1.2"), false, false, true},
      {"eth0", Ip("198.51.100.7"), false, false, true},
      {"eth1", Ip("203.0.113.9"), false, false, true},
      {"eth0", Ip("fe80::1"), false, false, false},
      {"eth0", Ip("2001:db8::aaaa"), true, false, true},   // temporary (privacy)
      {"eth0", Ip("2001:db8::bbbb"), false, true, true},   // deprecated
      {"eth0", Ip("2001:db8::1"), false, false, true},
      {"eth0", Ip("2001:db8:1::2"), false, false, true},
  };
  SourceConfig rule;
  rule.kind = SourceConfig::Kind::kInterface;
  rule.interface = "eth0";
  EXPECT_EQ(*PickInterfaceAddress(addrs, rule, Family::kV4), Ip("198.51.100.7"));
  EXPECT_EQ(*PickInterfaceAddress(addrs, rule, Family::kV6), Ip("2001:db8::1"));
  rule.index = 1;
  EXPECT_EQ(*PickInterfaceAddress(addrs, rule, Family::kV6), Ip("2001:db8:1::2"));
  rule.index = 0;
  rule.match = "^2001:db8:1:";
  EXPECT_EQ(*PickInterfaceAddress(addrs, rule, Family::kV6), Ip("2001:db8:1::2"));
  rule.match = "";
  rule.allow_private = true;
  EXPECT_EQ(*PickInterfaceAddress(addrs, rule, Family::kV4), Ip("192.168.1.2"));
  rule.allow_private = false;
  rule.interface = "";
  rule.index = 1;
  EXPECT_EQ(*PickInterfaceAddress(addrs, rule, Family::kV4), Ip("203.0.113.9"));
  rule.interface = "eth1";
  rule.index = 0;
  auto none = PickInterfaceAddress(addrs, rule, Family::kV6);
  EXPECT_EQ(none.status().code(), Code::kNotFound);
  EXPECT_EQ(none.status().message(), "no global IPv6 address on interface eth1");
}

TEST(RunCommand, OutputExitCodesAndTimeout) {
  EXPECT_EQ(*RunCommand("echo 198.51.100.7", std::chrono::seconds(5)), "198.51.100.7\n");
  auto failed = RunCommand("echo oops >&2; exit 3", std::chrono::seconds(5));
  EXPECT_EQ(failed.status().code(), Code::kUnavailable);
  EXPECT_EQ(failed.status().message(), "command failed (exit 3): oops");
  auto start = std::chrono::steady_clock::now();
  auto slow = RunCommand("sleep 5; echo 1.2.3.4", std::chrono::milliseconds(200));
  EXPECT_EQ(slow.status().code(), Code::kDeadlineExceeded);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  // Output is bounded.
  auto big = RunCommand("head -c 1000000 /dev/zero", std::chrono::seconds(5));
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->size(), 64u * 1024);
}

TEST(Sources, CommandAndInterface) {
  SourceConfig cmd;
  cmd.kind = SourceConfig::Kind::kCmd;
  cmd.cmd = "printf 'wan: 203.0.113.77\\n'";
  EXPECT_EQ(*MakeSource(cmd, Family::kV4, nullptr)->Detect(), Ip("203.0.113.77"));
  cmd.cmd = "echo nothing here";
  auto r = MakeSource(cmd, Family::kV4, nullptr)->Detect();
  EXPECT_EQ(r.status().message(), "address command output: no IPv4 address in the answer");

  SourceConfig ifr;
  ifr.kind = SourceConfig::Kind::kInterface;
  std::vector<InterfaceAddress> list = {{"wan", Ip("198.51.100.1"), false, false, true}};
  auto src = MakeSource(ifr, Family::kV4, [&]() -> Result<std::vector<InterfaceAddress>> { return list; });
  EXPECT_TRUE(src->follows_interfaces());
  EXPECT_EQ(*src->Detect(), Ip("198.51.100.1"));
  list[0].address = Ip("198.51.100.2");
  EXPECT_EQ(*src->Detect(), Ip("198.51.100.2"));
}

// URLs tried in order against a real HTTP server: a failing one, a non-global answer, then JSON.
TEST(Sources, UrlsInOrder) {
  http::Router router;
  ASSERT_TRUE(router.Add("GET", "/down", [](const http::Request&) { return http::Response::Text(503, "busy"); }).ok());
  ASSERT_TRUE(router.Add("GET", "/loopback", [](const http::Request&) { return http::Response::Text(200, "127.0.0.1"); }).ok());
  ASSERT_TRUE(router.Add("GET", "/json", [](const http::Request&) {
    return http::Response::Text(200, R"({"query": "198.51.100.44"})");
  }).ok());
  http::ServerOptions options;
  options.listeners = {http::Listener::Tcp("127.0.0.1:0")};
  http::Server server(std::move(router), options);
  ASSERT_TRUE(server.Start().ok());
  std::string base = "http://127.0.0.1:" + std::to_string(server.listeners()[0].port);
  SourceConfig urls;
  urls.kind = SourceConfig::Kind::kUrls;
  urls.urls = {base + "/down", base + "/loopback", base + "/json"};
  EXPECT_EQ(*MakeSource(urls, Family::kV4, nullptr)->Detect(), Ip("198.51.100.44"));
  urls.urls = {base + "/down", base + "/loopback"};
  auto r = MakeSource(urls, Family::kV4, nullptr)->Detect();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("answered HTTP 503"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("non-global address 127.0.0.1"), std::string::npos) << r.status().message();
  server.Stop();
}

}  // namespace
}  // namespace berth::ddns
