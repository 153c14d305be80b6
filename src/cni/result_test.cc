#include "cni/result.h"

#include <gtest/gtest.h>

namespace berth::cni {
namespace {

using nlohmann::json;

IpAddress Ip(const char* s) { return IpAddress::Parse(s).value(); }

AddOutcome Sample() {
  AddOutcome o;
  o.interfaces = {{"berth-abc", "", ""}, {"vb-0123", "", ""}, {"eth0", "02:42:0a:58:00:02", "/run/netns/x"}};
  o.addresses = {{Ip("10.88.0.2"), 24, Ip("10.88.0.1"), 2}};
  o.default_gateways = {Ip("10.88.0.1")};
  o.nameservers = {Ip("10.88.0.1")};
  return o;
}

TEST(CniResult, CurrentFormat) {
  json r = BuildResult("1.0.0", Sample(), std::nullopt, json());
  EXPECT_EQ(r["cniVersion"], "1.0.0");
  ASSERT_EQ(r["interfaces"].size(), 3u);
  EXPECT_EQ(r["interfaces"][2]["sandbox"], "/run/netns/x");
  EXPECT_EQ(r["ips"][0]["address"], "10.88.0.2/24");
  EXPECT_EQ(r["ips"][0]["interface"], 2);
  EXPECT_FALSE(r["ips"][0].contains("version"));
  EXPECT_EQ(r["routes"][0]["dst"], "0.0.0.0/0");
  EXPECT_EQ(r["dns"]["nameservers"][0], "10.88.0.1");
}

TEST(CniResult, LegacyIpsCarryVersion) {
  json r = BuildResult("0.4.0", Sample(), std::nullopt, json());
  EXPECT_EQ(r["ips"][0]["version"], "4");
}

TEST(CniResult, ChainsOntoPrevResultAndMergesDns) {
  json prev = {{"cniVersion", "1.0.0"},
               {"interfaces", {{{"name", "tap0"}}}},
               {"ips", {{{"address", "192.0.2.5/24"}, {"interface", 0}}}},
               {"dns", {{"nameservers", {"192.0.2.53"}}}},
               {"extra", true}};
  json conf_dns = {{"nameservers", {"9.9.9.9", "10.88.0.1"}}, {"search", {"example"}}};
  json r = BuildResult("1.0.0", Sample(), prev, conf_dns);
  ASSERT_EQ(r["interfaces"].size(), 4u);
  EXPECT_EQ(r["interfaces"][0]["name"], "tap0");
  ASSERT_EQ(r["ips"].size(), 2u);
  EXPECT_EQ(r["ips"][1]["interface"], 3);  // shifted past the earlier plugin's interface
  EXPECT_EQ(r["extra"], true);
  EXPECT_EQ(r["dns"]["nameservers"], json({"192.0.2.53", "10.88.0.1", "9.9.9.9"}));
  EXPECT_EQ(r["dns"]["search"], json({"example"}));
}

TEST(CniResult, ErrorAndVersion) {
  json e = ErrorJson("1.0.0", Error{kTryAgainLater, "berthd is not reachable", "connect: refused"});
  EXPECT_EQ(e["code"], 11);
  EXPECT_EQ(e["details"], "connect: refused");
  json v = VersionJson("1.1.0");
  EXPECT_EQ(v["supportedVersions"].back(), "1.1.0");
}

}  // namespace
}  // namespace berth::cni
