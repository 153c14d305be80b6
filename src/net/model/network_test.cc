#include "net/model/network.h"

#include <gtest/gtest.h>

namespace berth::net {
namespace {

using nlohmann::json;

Result<NetworkSpec> Normalized(const json& j) {
  ASSIGN_OR_RETURN(NetworkSpec spec, NetworkSpecFromJson(j));
  RETURN_IF_ERROR(NormalizeSpec(spec));
  return spec;
}

TEST(NetworkModel, NamesFollowDockersRule) {
  EXPECT_TRUE(ValidateNetworkName("web").ok());
  EXPECT_TRUE(ValidateNetworkName("a.b_c-1").ok());
  EXPECT_TRUE(ValidateNetworkName("9lives").ok());
  EXPECT_FALSE(ValidateNetworkName("").ok());
  EXPECT_FALSE(ValidateNetworkName("-x").ok());
  EXPECT_FALSE(ValidateNetworkName("a b").ok());
  EXPECT_FALSE(ValidateNetworkName("a/b").ok());
  EXPECT_FALSE(ValidateNetworkName(std::string(65, 'a')).ok());
}

TEST(NetworkModel, FillsGatewaysAndRoundTripsJson) {
  auto spec = Normalized({{"name", "web"},
                          {"subnets", {{{"subnet", "10.88.0.0/24"}, {"ip_range", "10.88.0.128/25"},
                                        {"range_start", "10.88.0.130"}, {"range_end", "10.88.0.140"}},
                                       {{"subnet", "fd00:88::/64"}, {"gateway", "fd00:88::fe"}}}},
                          {"ipv6", true},
                          {"aux_addresses", {{"router", "10.88.0.2"}}},
                          {"mtu", 1400},
                          {"labels", {{"team", "a"}}}});
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->subnets[0].gateway->ToString(), "10.88.0.1");
  EXPECT_EQ(spec->subnets[1].gateway->ToString(), "fd00:88::fe");
  auto back = NetworkSpecFromJson(NetworkSpecToJson(*spec));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, *spec);
  EXPECT_EQ(SubnetFor(*spec, *IpAddress::Parse("fd00:88::5")), &spec->subnets[1]);
  EXPECT_EQ(SubnetFor(*spec, *IpAddress::Parse("10.99.0.1")), nullptr);
}

TEST(NetworkModel, RefusesBadSpecsWithTheReason) {
  struct Case { json j; const char* reason; };
  const Case cases[] = {
      {{{"name", "x"}, {"subnets", {{{"subnet", "10.1.2.3/24"}}}}}, "not a network prefix"},
      {{{"name", "x"}, {"subnets", {{{"subnet", "10.1.0.0/33"}}}}}, "prefix length"},
      {{{"name", "x"}, {"subnets", {{{"subnet", "10.1.0.0/24"}, {"gateway", "10.2.0.1"}}}}}, "not inside"},
      {{{"name", "x"}, {"subnets", {{{"subnet", "10.1.0.0/24"}, {"gateway", "10.1.0.255"}}}}}, "not a host address"},
      {{{"name", "x"}, {"subnets", {{{"subnet", "10.1.0.0/24"}, {"ip_range", "10.2.0.0/25"}}}}}, "not inside"},
      {{{"name", "x"}, {"subnets", {{{"subnet", "10.1.0.0/24"}}, {{"subnet", "10.1.0.0/16"}}}}}, "overlaps"},
      {{{"name", "x"}, {"subnets", {{{"subnet", "fd00::/64"}}}}}, "--ipv6"},
      {{{"name", "x"}, {"subnets", {{{"subnet", "10.1.0.0/24"}}}}, {"aux_addresses", {{"a", "10.9.0.1"}}}}, "not inside any subnet"},
      {{{"name", "x"}, {"subnets", {{{"subnet", "10.1.0.0/24"}}}}, {"aux_addresses", {{"a", "10.1.0.1"}}}}, "is the gateway"},
      {{{"name", "x"}, {"driver", "macvlan"}}, "parent"},
      {{{"name", "x"}, {"parent", "eth0"}}, "only for the macvlan"},
      {{{"name", "x"}, {"driver", "overlay"}}, "unknown driver"},
      {{{"name", "x"}, {"mtu", 20}}, "between 68 and 65535"},
      {{{"name", "x"}, {"colour", "red"}}, "unknown field"},
      {{{"name", "-x"}}, "must start"},
      {{{"name", "x"}, {"internal", "yes"}}, "true or false"},
      {{{"name", "x"}, {"subnets", {{{"gateway", "10.0.0.1"}}}}}, "is required"},
      {{{"name", "x"}, {"driver", "macvlan"}, {"parent", "eth0/1"}}, "not a valid interface"},
      {{{"name", "x"}, {"subnets", {{{"subnet", "10.1.0.0/24"}, {"range_start", "10.1.0.9"}}}}}, "needs a range end"},
      {{{"name", "x"}, {"subnets", {{{"subnet", "10.1.0.0/24"}, {"range_start", "10.1.0.9"}, {"range_end", "10.1.0.3"}}}}}, "is after"},
  };
  for (const Case& c : cases) {
    auto spec = Normalized(c.j);
    ASSERT_FALSE(spec.ok()) << c.j.dump();
    EXPECT_EQ(spec.status().code(), Code::kInvalidArgument) << c.j.dump();
    EXPECT_NE(spec.status().message().find(c.reason), std::string::npos)
        << c.j.dump() << " -> " << spec.status().message();
  }
}

TEST(NetworkModel, IdsAndBridgeNames) {
  std::string a = NewNetworkId(), b = NewNetworkId();
  EXPECT_EQ(a.size(), 64u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(BridgeNameFor(a).size(), 15u);
}

TEST(NetworkModel, InspectJsonLooksLikeDockers) {
  Network n;
  n.id = std::string(64, 'a');
  n.bridge = "berth-aaaaaaaaa";
  n.created_at = 0;
  n.spec.name = "web";
  n.spec.subnets.push_back({*Cidr::Parse("10.5.0.0/16"), *IpAddress::Parse("10.5.0.1"), std::nullopt, std::nullopt, std::nullopt});
  json j = NetworkToInspectJson(n);
  EXPECT_EQ(j["Name"], "web");
  EXPECT_EQ(j["Driver"], "bridge");
  EXPECT_EQ(j["Created"], "1970-01-01T00:00:00Z");
  EXPECT_EQ(j["IPAM"]["Config"][0]["Subnet"], "10.5.0.0/16");
  EXPECT_EQ(j["IPAM"]["Config"][0]["Gateway"], "10.5.0.1");
  EXPECT_EQ(j["Options"]["bridge_name"], "berth-aaaaaaaaa");
}

}  // namespace
}  // namespace berth::net
