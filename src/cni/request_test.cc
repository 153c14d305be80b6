#include "cni/request.h"

#include <gtest/gtest.h>

namespace berth::cni {
namespace {

using Env = std::map<std::string, std::string>;

Env AddEnv() {
  return {{"CNI_COMMAND", "ADD"}, {"CNI_CONTAINERID", "0123456789abcdef"}, {"CNI_NETNS", "/run/netns/x"},
          {"CNI_IFNAME", "eth0"}, {"CNI_PATH", "/opt/cni/bin"},
          {"CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAMESPACE=web1;K8S_POD_NAME=web1;FOO=bar"}};
}

Error Parse(const Env& env, const std::string& config, Request* r) { return ParseRequest(env, config, r); }

TEST(CniRequest, ParsesAddWithCapabilities) {
  Request r;
  Error e = Parse(AddEnv(), R"({"cniVersion":"1.0.0","name":"web","type":"berth-cni","socket":"/run/b.sock",
    "ipam":{"subnet":"10.88.0.0/24","rangeStart":"10.88.0.10","rangeEnd":"10.88.0.20"},
    "runtimeConfig":{"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp"},
                                     {"hostPort":5353,"containerPort":53,"protocol":"UDP","hostIP":"127.0.0.1"}],
                     "ips":["10.88.0.15/24"],"mac":"02:42:0a:58:00:0f","aliases":{"web":["www","api"],"other":["x"]}}})", &r);
  ASSERT_TRUE(e.ok()) << e.msg << ": " << e.details;
  EXPECT_EQ(r.command, Command::kAdd);
  EXPECT_EQ(r.pod_name, "web1");
  EXPECT_EQ(r.conf.socket, "/run/b.sock");
  ASSERT_EQ(r.conf.subnets.size(), 1u);
  EXPECT_EQ(r.conf.subnets[0].gateway->ToString(), "10.88.0.1");  // filled in as for the network
  EXPECT_EQ(r.conf.subnets[0].range_start->ToString(), "10.88.0.10");
  ASSERT_EQ(r.conf.ports.size(), 2u);
  EXPECT_EQ(r.conf.ports[1].protocol, net::Protocol::kUdp);
  EXPECT_EQ(r.conf.ports[1].host_ip->ToString(), "127.0.0.1");
  EXPECT_EQ(r.conf.ipv4->ToString(), "10.88.0.15");
  EXPECT_EQ(net::MacToString(*r.conf.mac), "02:42:0a:58:00:0f");
  EXPECT_EQ(r.conf.aliases, (std::vector<std::string>{"www", "api"}));
}

TEST(CniRequest, DefaultsAndHostLocalRanges) {
  Request r;
  Error e = Parse(AddEnv(), R"({"cniVersion":"0.4.0","name":"dual","type":"berth-cni",
    "ipam":{"type":"host-local","ranges":[[{"subnet":"10.89.0.0/24"}],[{"subnet":"fd00:1::/64","gateway":"fd00:1::fe"}]]}})", &r);
  ASSERT_TRUE(e.ok()) << e.msg << ": " << e.details;
  EXPECT_EQ(r.conf.socket, kDefaultSocket);
  ASSERT_EQ(r.conf.subnets.size(), 2u);
  EXPECT_EQ(r.conf.subnets[1].gateway->ToString(), "fd00:1::fe");
}

TEST(CniRequest, EachBadInputHasItsCode) {
  struct Case {
    Env env;
    std::string config;
    int code;
  };
  const std::string good = R"({"cniVersion":"1.1.0","name":"web","type":"berth-cni"})";
  Env no_cmd = AddEnv();
  no_cmd.erase("CNI_COMMAND");
  Env bad_cmd = AddEnv();
  bad_cmd["CNI_COMMAND"] = "PUT";
  Env no_netns = AddEnv();
  no_netns.erase("CNI_NETNS");
  Env rel_netns = AddEnv();
  rel_netns["CNI_NETNS"] = "run/netns/x";
  Env bad_id = AddEnv();
  bad_id["CNI_CONTAINERID"] = "abc/def";
  Env bad_if = AddEnv();
  bad_if["CNI_IFNAME"] = "this-name-is-too-long";
  Env strict_args = AddEnv();
  strict_args["CNI_ARGS"] = "FOO=bar";
  Env bad_args = AddEnv();
  bad_args["CNI_ARGS"] = "novalue";
  Env check = AddEnv();
  check["CNI_COMMAND"] = "CHECK";
  Env gc = AddEnv();
  gc["CNI_COMMAND"] = "GC";
  const std::vector<Case> cases = {
      {no_cmd, good, kInvalidEnvironment},
      {bad_cmd, good, kInvalidEnvironment},
      {no_netns, good, kInvalidEnvironment},
      {rel_netns, good, kInvalidEnvironment},
      {bad_id, good, kInvalidEnvironment},
      {bad_if, good, kInvalidEnvironment},
      {strict_args, good, kInvalidEnvironment},
      {bad_args, good, kInvalidEnvironment},
      {AddEnv(), "{not json", kDecodeFailure},
      {AddEnv(), "[1,2]", kDecodeFailure},
      {AddEnv(), R"({"name":"web","type":"berth-cni"})", kInvalidConfig},
      {AddEnv(), R"({"cniVersion":"0.2.0","name":"web","type":"berth-cni"})", kIncompatibleVersion},
      {check, R"({"cniVersion":"0.3.1","name":"web","type":"berth-cni"})", kIncompatibleVersion},
      {gc, R"({"cniVersion":"1.0.0","name":"web","type":"berth-cni","cni.dev/valid-attachments":[]})", kIncompatibleVersion},
      {gc, good, kInvalidConfig},  // GC without the valid list
      {AddEnv(), R"({"cniVersion":"1.0.0","name":"-web","type":"berth-cni"})", kInvalidConfig},
      {AddEnv(), R"({"cniVersion":"1.0.0","name":"web"})", kInvalidConfig},
      {AddEnv(), R"({"cniVersion":"1.0.0","name":"web","type":"berth-cni","socket":"rel.sock"})", kInvalidConfig},
      {AddEnv(), R"({"cniVersion":"1.0.0","name":"web","type":"berth-cni","ipam":{"subnet":"10.88.0.1/24"}})", kInvalidConfig},
      {AddEnv(), R"({"cniVersion":"1.0.0","name":"web","type":"berth-cni","ipam":{"subnet":"10.88.0.0/24","gateway":"10.99.0.1"}})", kInvalidConfig},
      {AddEnv(), R"({"cniVersion":"1.0.0","name":"web","type":"berth-cni","ipam":{"subnet":"10.88.0.0/24","rangeStart":"10.88.0.20","rangeEnd":"10.88.0.10"}})", kInvalidConfig},
      {AddEnv(), R"({"cniVersion":"1.0.0","name":"web","type":"berth-cni","ipam":{"subnet":"10.88.0.0/24","dataDir":"/x"}})", kUnsupportedField},
      {AddEnv(), R"({"cniVersion":"1.0.0","name":"web","type":"berth-cni","ipam":{"ranges":[[{"subnet":"10.88.0.0/25"},{"subnet":"10.88.0.128/25"}]]}})", kUnsupportedField},
      {AddEnv(), R"({"cniVersion":"1.0.0","name":"web","type":"berth-cni","mtu":20})", kInvalidConfig},
      {AddEnv(), R"({"cniVersion":"1.0.0","name":"web","type":"berth-cni","runtimeConfig":{"portMappings":[{"hostPort":80,"containerPort":0}]}})", kInvalidConfig},
      {AddEnv(), R"({"cniVersion":"1.0.0","name":"web","type":"berth-cni","runtimeConfig":{"portMappings":[{"hostPort":80,"containerPort":80,"protocol":"sctp"}]}})", kUnsupportedField},
      {AddEnv(), R"({"cniVersion":"1.0.0","name":"web","type":"berth-cni","runtimeConfig":{"ips":["10.0.0.1","10.0.0.2"]}})", kInvalidConfig},
      {AddEnv(), R"({"cniVersion":"1.0.0","name":"web","type":"berth-cni","runtimeConfig":{"ips":["10.0.0.1/99"]}})", kInvalidConfig},
      {AddEnv(), R"({"cniVersion":"1.0.0","name":"web","type":"berth-cni","runtimeConfig":{"mac":"01:00:5e:00:00:01"}})", kInvalidConfig},
      {AddEnv(), R"({"cniVersion":"1.0.0","name":"web","type":"berth-cni","runtimeConfig":{"aliases":["bad name"]}})", kInvalidConfig},
      {AddEnv(), R"({"cniVersion":"1.0.0","name":"web","type":"berth-cni","prevResult":{"interfaces":[],"ips":[{"address":"10.0.0.2/24","interface":0}]}})", kDecodeFailure},
      {AddEnv(), R"({"cniVersion":"1.0.0","name":"web","type":"berth-cni","prevResult":[]})", kDecodeFailure},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    Request r;
    Error e = Parse(cases[i].env, cases[i].config, &r);
    EXPECT_EQ(e.code, cases[i].code) << "case " << i << ": " << e.msg << " / " << e.details;
    EXPECT_FALSE(e.msg.empty()) << "case " << i;
  }
}

TEST(CniRequest, DelNeedsNoNamespaceAndGcReadsValidList) {
  Env del = AddEnv();
  del["CNI_COMMAND"] = "DEL";
  del.erase("CNI_NETNS");
  Request r;
  EXPECT_TRUE(Parse(del, R"({"cniVersion":"1.0.0","name":"web","type":"berth-cni"})", &r).ok());
  Env gc = {{"CNI_COMMAND", "GC"}};
  Error e = Parse(gc, R"({"cniVersion":"1.1.0","name":"web","type":"berth-cni",
      "cni.dev/valid-attachments":[{"containerID":"a","ifname":"eth0"}]})", &r);
  ASSERT_TRUE(e.ok()) << e.msg;
  ASSERT_EQ(r.conf.valid_attachments->size(), 1u);
  EXPECT_EQ((*r.conf.valid_attachments)[0].container_id, "a");
}

TEST(CniRequest, StaticAddressAndMacFromCniArgs) {
  // Podman 4.3 passes --ip and --mac-address this way, not as capabilities.
  Env env = AddEnv();
  env["CNI_ARGS"] = "IgnoreUnknown=1;K8S_POD_NAME=c1;IP=10.88.0.50;MAC=02:42:0a:58:00:32";
  Request r;
  Error e = Parse(env, R"({"cniVersion":"1.0.0","name":"web","type":"berth-cni"})", &r);
  ASSERT_TRUE(e.ok()) << e.msg << ": " << e.details;
  EXPECT_EQ(r.conf.ipv4->ToString(), "10.88.0.50");
  EXPECT_EQ(net::MacToString(*r.conf.mac), "02:42:0a:58:00:32");
  env["CNI_ARGS"] = "IP=10.88.0.50/24,fd00::5;IgnoreUnknown=1";
  e = Parse(env, R"({"cniVersion":"1.0.0","name":"web","type":"berth-cni","runtimeConfig":{"ips":["10.88.0.9"]}})", &r);
  ASSERT_TRUE(e.ok()) << e.msg;
  EXPECT_EQ(r.conf.ipv4->ToString(), "10.88.0.9");  // the capability wins
  EXPECT_FALSE(r.conf.ipv6);
  env["CNI_ARGS"] = "IP=10.88.0.500";
  EXPECT_EQ(Parse(env, R"({"cniVersion":"1.0.0","name":"web","type":"berth-cni"})", &r).code, kInvalidEnvironment);
  env["CNI_ARGS"] = "MAC=zz";
  EXPECT_EQ(Parse(env, R"({"cniVersion":"1.0.0","name":"web","type":"berth-cni"})", &r).code, kInvalidEnvironment);
}

TEST(CniRequest, Versions) {
  EXPECT_TRUE(VersionAtLeast("1.0.0", "0.4.0"));
  EXPECT_TRUE(VersionAtLeast("1.1.0", "1.1.0"));
  EXPECT_FALSE(VersionAtLeast("0.3.1", "0.4.0"));
  EXPECT_FALSE(VersionAtLeast("x", "0.4.0"));
  EXPECT_EQ(ReplyVersion(R"({"cniVersion":"0.4.0"})"), "0.4.0");
  EXPECT_EQ(ReplyVersion(R"({"cniVersion":"9.9.9"})"), kLatestVersion);
  EXPECT_EQ(ReplyVersion("garbage"), kLatestVersion);
}

}  // namespace
}  // namespace berth::cni
