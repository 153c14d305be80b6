#include "net/engine/endpoint.h"

#include <gtest/gtest.h>

namespace berth::net {
namespace {

using nlohmann::json;

TEST(EndpointRequest, ParsesEveryField) {
  auto r = EndpointRequestFromJson({{"name", "web"},
                                    {"networks", {{{"network", "front"}, {"ip", "10.0.0.5"}, {"aliases", {"www", "a.b"}}},
                                                  {{"network", "back"}, {"ip6", "fd00::5"}, {"ifname", "net1"}, {"mac", "02:00:00:00:00:05"}}}},
                                    {"ports", {"8080:80", "127.0.0.1::53/udp"}},
                                    {"dns", {"192.0.2.53"}},
                                    {"pid", 42}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->name, "web");
  EXPECT_TRUE(r->netns.empty());
  ASSERT_EQ(r->networks.size(), 2u);
  EXPECT_EQ(r->networks[0].ipv4->ToString(), "10.0.0.5");
  EXPECT_EQ(r->networks[0].aliases, (std::vector<std::string>{"www", "a.b"}));
  EXPECT_EQ(r->networks[1].ipv6->ToString(), "fd00::5");
  EXPECT_EQ(r->networks[1].ifname, "net1");
  EXPECT_EQ(MacToString(*r->networks[1].mac), "02:00:00:00:00:05");
  ASSERT_EQ(r->ports.size(), 2u);
  EXPECT_TRUE(r->ports[1].random_host_port());
  EXPECT_EQ(r->pid, 42);
}

TEST(EndpointRequest, RefusesBadInputNamingTheField) {
  struct Case { json j; const char* reason; };
  const Case cases[] = {
      {{{"name", "-bad"}}, "must start"},
      {{{"name", "x"}, {"netns", "relative/path"}}, "absolute path"},
      {{{"name", "x"}, {"networks", {{{"network", "a"}}, {{"network", "a"}}}}}, "listed twice"},
      {{{"name", "x"}, {"networks", {{{"network", "a"}, {"ip", "fd00::1"}}}}}, "not an IPv4"},
      {{{"name", "x"}, {"networks", {{{"network", "a"}, {"ip6", "10.0.0.1"}}}}}, "not an IPv6"},
      {{{"name", "x"}, {"networks", {{{"network", "a"}, {"aliases", {"bad name"}}}}}}, "may only hold"},
      {{{"name", "x"}, {"networks", {{{"network", "a"}, {"aliases", {"a..b"}}}}}}, "empty label"},
      {{{"name", "x"}, {"networks", {{{"network", "a"}}}}, {"ports", {"99999:80"}}}, "between 1 and 65535"},
      {{{"name", "x"}, {"ports", {"80"}}}, "need a network"},
      {{{"name", "x"}, {"pid", -1}}, "process id"},
      {{{"name", "x"}, {"color", "red"}}, "unknown field"},
      {{{"name", "x"}, {"networks", {{{"network", "a"}, {"colour", "x"}}}}}, "unknown field"},
      {{{"name", "x"}, {"networks", {{{"network", "a"}, {"mac", "x"}}}}}, "must look like"},
      {{{"name", "x"}, {"networks", {{{"network", "a"}, {"mac", "01:00:5e:00:00:01"}}}}}, "multicast"},
      {{{"name", "x"}, {"networks", {{{"network", "a"}, {"ifname", "eth0/1"}}}}}, "may not hold"},
      {{{"name", "x"}, {"networks", {{{"network", "a"}, {"ifname", "a-very-long-ifname"}}}}}, "1-15 characters"},
      {{{"networks", json::array()}}, "name is empty"},
  };
  for (const Case& c : cases) {
    auto r = EndpointRequestFromJson(c.j);
    ASSERT_FALSE(r.ok()) << c.j.dump();
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.reason), std::string::npos) << c.j.dump() << " -> " << r.status().message();
  }
}

TEST(EndpointRequest, Aliases) {
  EXPECT_TRUE(ValidateAlias("db").ok());
  EXPECT_TRUE(ValidateAlias("db.internal").ok());
  EXPECT_TRUE(ValidateAlias("my_db-1").ok());
  EXPECT_FALSE(ValidateAlias("").ok());
  EXPECT_FALSE(ValidateAlias(".db").ok());
  EXPECT_FALSE(ValidateAlias("db.").ok());
  EXPECT_FALSE(ValidateAlias(std::string(64, 'a')).ok());
  EXPECT_FALSE(ValidateAlias("d/b").ok());
}

}  // namespace
}  // namespace berth::net
