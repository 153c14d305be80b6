// The ddns: section through the real config loader, so errors are checked in the form
// operators see them (file:line:column: key '...': reason).
#include "ddns/ddns_config.h"

#include <gtest/gtest.h>

#include "config/config.h"
#include "dns/wire/types.h"

namespace berth::ddns {
namespace {

constexpr const char* kGood = R"(
ddns:
  interval: 120s
  recheck_every: 4
  providers:
    - name: lab
      type: rfc2136
      server: 127.0.0.1:5300
      tsig: {name: ddns-key., algorithm: hmac-sha256, secret: "c2VjcmV0c2VjcmV0c2VjcmV0"}
    - {name: cf, type: cloudflare, token: "cf-token-123", base_url: "http://127.0.0.1:9/client/v4/", proxied: true}
    - {name: pod, type: dnspod, id: "1234", token: "pod-token"}
    - {name: ali, type: alidns, access_key_id: "AKID", access_key_secret: "ali-secret"}
    - {name: dyn, type: dyndns2, base_url: "http://127.0.0.1:8053", username: home, password: "pw"}
    - name: hook
      type: webhook
      url: "http://127.0.0.1:9/set?ip={{address}}&host={{name}}"
      method: PUT
      headers: {X-Ttl: "{{ttl}}"}
      body: '{"ip": "{{address|json}}"}'
  records:
    - provider: lab
      zone: example.test.
      names: [home.example.test., "@", nas]
      type: A
      ttl: 60
      source: {cmd: "echo 198.51.100.7"}
    - job: v6
      provider: cf
      zone: example.test
      names: [home.example.test.]
      type: AAAA
      source: {interface: eth0, match: "^2001:", index: 1}
    - provider: pod
      zone: example.test.
      names: [www]
      source: {urls: ["https://ip.example/", "http://127.0.0.1:9/ip"], timeout: 2s}
  notify:
    - {url: "http://127.0.0.1:9000/hook?e={{event}}", on: [failure]}
)";

TEST(DdnsConfig, ParsesTheWholeSection) {
  auto c = config::ParseConfigText(kGood, "berthd.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const DdnsConfig& d = c->ddns;
  EXPECT_EQ(d.interval, std::chrono::seconds(120));
  EXPECT_EQ(d.recheck_every, 4u);
  ASSERT_EQ(d.providers.size(), 6u);
  EXPECT_EQ(d.providers[0].type, ProviderType::kRfc2136);
  EXPECT_EQ(d.providers[0].server->ToString(), "127.0.0.1:5300");
  EXPECT_EQ(d.providers[0].tsig->secret, "secretsecretsecret");
  EXPECT_EQ(d.providers[1].base_url, "http://127.0.0.1:9/client/v4");  // trailing slash dropped
  EXPECT_TRUE(d.providers[1].proxied);
  EXPECT_EQ(d.providers[1].token.reveal(), "cf-token-123");
  EXPECT_EQ(d.providers[1].token.ToString(), "<redacted>");
  EXPECT_EQ(d.providers[2].base_url, "https://dnsapi.cn");
  EXPECT_EQ(d.providers[3].base_url, "https://alidns.aliyuncs.com");
  EXPECT_EQ(d.providers[5].webhook.method, "PUT");
  ASSERT_EQ(d.providers[5].webhook.headers.size(), 1u);
  ASSERT_EQ(d.records.size(), 3u);
  EXPECT_EQ(d.records[0].job, "lab-0");
  ASSERT_EQ(d.records[0].names.size(), 3u);
  EXPECT_EQ(d.records[0].names[1].ToText(), "example.test.");
  EXPECT_EQ(d.records[0].names[2].ToText(), "nas.example.test.");
  EXPECT_EQ(d.records[0].ttl, 60u);
  EXPECT_EQ(d.records[0].source.kind, SourceConfig::Kind::kCmd);
  EXPECT_EQ(d.records[1].job, "v6");
  EXPECT_EQ(d.records[1].type, dns::type::kAAAA);
  EXPECT_EQ(d.records[1].source.interface, "eth0");
  EXPECT_EQ(d.records[1].source.index, 1u);
  EXPECT_EQ(d.records[2].source.urls.size(), 2u);
  EXPECT_EQ(d.records[2].source.timeout, std::chrono::seconds(2));
  ASSERT_EQ(d.notify.size(), 1u);
  EXPECT_FALSE(d.notify[0].on_change);
  EXPECT_TRUE(d.notify[0].on_failure);
  // A file with dns: is a full daemon; one with only ddns: runs just the updater.
  EXPECT_TRUE(c->ddns_only);
  auto full = config::ParseConfigText(std::string("dns: {listen: ['127.0.0.1:1053']}\n") + kGood, "x");
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  EXPECT_FALSE(full->ddns_only);
}

struct Bad {
  std::string yaml;
  const char* error;  // expected substring
};

TEST(DdnsConfig, BadConfigFailsWithPlaceAndReason) {
  const std::string p = "ddns:\n  providers:\n";
  const std::string lab = p + "    - {name: lab, type: rfc2136, server: 127.0.0.1}\n  records:\n";
  const Bad cases[] = {
      {"ddns:\n  intervall: 5s\n", "t.yaml:2:3: key 'ddns.intervall': unknown key"},
      {"ddns:\n  interval: soon\n", "key 'ddns.interval': bad duration"},
      {(p + "    - {name: x, type: route53}\n"), "t.yaml:3:23: key 'ddns.providers[0].type': unknown provider type 'route53'"},
      {(p + "    - {name: cf, type: cloudflare}\n"), "key 'ddns.providers[0].token': missing (give token, token_file or token_env)"},
      {(p + "    - {name: cf, type: cloudflare, token_file: /nonexistent/token}\n"), "/nonexistent/token"},
      {(p + "    - {name: d, type: dyndns2, username: u, password: p}\n"), "key 'ddns.providers[0].base_url': missing"},
      {(p + "    - {name: a, type: alidns, access_key_id: k}\n"), "access_key_secret': missing"},
      {(p + "    - {name: l, type: rfc2136, server: 127.0.0.1, tsig: {name: k., secret: 'not base64!'}}\n"), "ddns.providers[0].tsig"},
      {(p + "    - {name: l, type: rfc2136, server: 127.0.0.1, token: x}\n"), "key 'ddns.providers[0].token': unknown key"},
      {(p + "    - {name: w, type: webhook, url: 'http://h/{{adress}}'}\n"), "unknown variable 'adress'"},
      {(lab + "    - {provider: nope, zone: a., names: [b.a.], source: {cmd: x}}\n"), "key 'ddns.records[0].provider': unknown provider 'nope'"},
      {(lab + "    - {provider: lab, zone: a., names: [b.other.], source: {cmd: x}}\n"), "'b.other.' is not inside zone a."},
      {(lab + "    - {provider: lab, zone: a., names: ['b..a.'], source: {cmd: x}}\n"), "bad domain 'b..a.'"},
      {(lab + "    - {provider: lab, zone: a., names: [b.a.], type: MX, source: {cmd: x}}\n"), "want A or AAAA"},
      {(lab + "    - {provider: lab, zone: a., names: [b.a.], ttl: 0, source: {cmd: x}}\n"), "ddns.records[0].ttl"},
      {(lab + "    - {provider: lab, zone: a., names: [b.a.]}\n"), "ddns.records[0].source': missing"},
      {(lab + "    - {provider: lab, zone: a., names: [b.a.], source: {cmd: x, urls: [y]}}\n"), "exactly one of cmd, interface or urls"},
      {(lab + "    - {provider: lab, zone: a., names: [b.a.], source: {interface: e, match: '(('}}\n"), "bad regular expression"},
      {(lab + "    - {provider: lab, zone: a., names: [b.a.], source: {urls: ['ftp://x']}}\n"), "not an http:// or https:// URL"},
      {"ddns:\n  notify:\n    - {url: 'http://h/', on: [sometimes]}\n", "unknown event 'sometimes'"},
  };
  for (const auto& c : cases) {
    auto r = config::ParseConfigText(c.yaml, "t.yaml");
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.error), std::string::npos) << c.yaml << "\n=> " << r.status().message();
  }
}

TEST(DdnsConfig, DdnsOnlyFlag) {
  const char* argv[] = {"berthd", "--ddns-only"};
  auto c = config::ConfigFromArgs(2, argv);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->ddns_only);
}

}  // namespace
}  // namespace berth::ddns
