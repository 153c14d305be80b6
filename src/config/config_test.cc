#include "config/config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace berth::config {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::vector<std::string> Strings(const std::vector<SocketAddress>& v) {
  std::vector<std::string> out;
  for (const auto& a : v) out.push_back(a.ToString());
  return out;
}

std::vector<std::string> Strings(const std::vector<Cidr>& v) {
  std::vector<std::string> out;
  for (const auto& c : v) out.push_back(c.ToString());
  return out;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "berth-config-XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& text) const {
    std::string p = path_ + "/" + name;
    std::ofstream(p) << text;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Result<Config> FromArgs(std::vector<const char*> args) {
  args.insert(args.begin(), "berthd");
  return ConfigFromArgs(static_cast<int>(args.size()), args.data());
}

TEST(ConfigDefaults, RunWithoutAnyConfig) {
  for (const Config& c : {Config{}, *ParseConfigText("", "empty.yaml"), *FromArgs({})}) {
    EXPECT_EQ(c.state_dir, "./var");
    EXPECT_EQ(c.log.format, log::Format::kText);
    EXPECT_EQ(c.log.level, log::Level::kInfo);
    EXPECT_EQ(Strings(c.dns.listen), std::vector<std::string>{"127.0.0.1:1053"});
    EXPECT_EQ(c.dns.workers, 0u);
    EXPECT_FALSE(c.dns.forward.has_value());
    EXPECT_EQ(Strings(c.dns.allow_recursion),
              (std::vector<std::string>{"127.0.0.0/8", "::1/128"}));
    EXPECT_EQ(c.dns.cache_size, 100000u);
    EXPECT_EQ(c.dns.tcp.idle_timeout, 10s);
    EXPECT_EQ(c.dns.tcp.max_connections, 1024u);
    EXPECT_EQ(c.dns.edns_udp_size, 1232);
    ASSERT_TRUE(c.api.listen.has_value());
    EXPECT_EQ(c.api.listen->ToString(), "127.0.0.1:8053");
    EXPECT_EQ(c.api.socket, "./var/berthd.sock");
    EXPECT_TRUE(c.zones.empty());
    EXPECT_FALSE(c.print_and_exit.has_value());
  }
}

constexpr char kFull[] = R"(
state_dir: /var/lib/berth
log: {format: json, level: debug}
dns:
  listen: ["127.0.0.1:1053", "[::1]:1053", "0.0.0.0"]
  workers: 4
  forward: ["192.0.2.53", "[2001:db8::53]:5353"]
  allow_recursion: ["10.0.0.0/8", "::1/128"]
  cache_size: 5000
  tcp: {idle_timeout: 300ms, max_connections: 64, coalesce: 50us}
  edns_udp_size: 1400
api:
  listen: "127.0.0.1:9000"
  socket: /run/berthd.sock
zones:
  - name: internal.
    file: /etc/berth/internal.zone
  - name: Example.COM
    file: example.zone
)";

TEST(ConfigFile, ParsesEveryKey) {
  auto c = ParseConfigText(kFull, "full.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->state_dir, "/var/lib/berth");
  EXPECT_EQ(c->log.format, log::Format::kJson);
  EXPECT_EQ(c->log.level, log::Level::kDebug);
  EXPECT_EQ(Strings(c->dns.listen),
            (std::vector<std::string>{"127.0.0.1:1053", "[::1]:1053", "0.0.0.0:53"}));
  EXPECT_EQ(c->dns.workers, 4u);
  ASSERT_TRUE(c->dns.forward.has_value());
  EXPECT_EQ(Strings(*c->dns.forward),
            (std::vector<std::string>{"192.0.2.53:53", "[2001:db8::53]:5353"}));
  EXPECT_EQ(Strings(c->dns.allow_recursion), (std::vector<std::string>{"10.0.0.0/8", "::1/128"}));
  EXPECT_EQ(c->dns.cache_size, 5000u);
  EXPECT_EQ(c->dns.tcp.idle_timeout, 300ms);
  EXPECT_EQ(c->dns.tcp.max_connections, 64u);
  EXPECT_EQ(c->dns.tcp.coalesce, std::chrono::microseconds(50));
  EXPECT_EQ(c->dns.edns_udp_size, 1400);
  EXPECT_EQ(c->api.listen->ToString(), "127.0.0.1:9000");
  EXPECT_EQ(c->api.socket, "/run/berthd.sock");
  ASSERT_EQ(c->zones.size(), 2u);
  EXPECT_EQ(c->zones[0].name.ToText(), "internal.");
  EXPECT_EQ(c->zones[0].file, "/etc/berth/internal.zone");
  EXPECT_EQ(c->zones[1].name.ToText(), "example.com.");
}

TEST(ConfigDyndns, DefaultsFileAndFlags) {
  auto d = ParseConfigText("", "empty.yaml");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->dyndns.ttl, 60u);
  EXPECT_EQ(d->dyndns.max_hosts, 20u);
  EXPECT_EQ(d->dyndns.per_user_changes.burst, 10);
  EXPECT_EQ(d->dyndns.per_user_changes.refill, 5s);
  EXPECT_EQ(d->dyndns.per_user_requests.burst, 60);
  EXPECT_EQ(d->dyndns.per_user_requests.refill, 1s);
  EXPECT_EQ(d->dyndns.bad_auth_per_client.burst, 5);
  EXPECT_EQ(d->dyndns.bad_auth_per_client.refill, 60s);
  EXPECT_TRUE(d->dyndns.trusted_proxies.empty());
  auto c = ParseConfigText("dyndns:\n  ttl: 300\n  max_hosts: 5\n  trusted_proxies: [10.0.0.0/8, \"::1/128\"]\n"
                           "  change_burst: 100\n  change_every: 0\n  request_burst: 1000\n  request_every: 250ms\n"
                           "  bad_auth_burst: 3\n  bad_auth_every: 10m\n",
                           "d.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->dyndns.ttl, 300u);
  EXPECT_EQ(c->dyndns.max_hosts, 5u);
  EXPECT_EQ(Strings(c->dyndns.trusted_proxies), (std::vector<std::string>{"10.0.0.0/8", "::1/128"}));
  EXPECT_EQ(c->dyndns.per_user_changes.burst, 100);
  EXPECT_EQ(c->dyndns.per_user_changes.refill, 0s);  // no limit
  EXPECT_EQ(c->dyndns.per_user_requests.burst, 1000);
  EXPECT_EQ(c->dyndns.per_user_requests.refill, 250ms);
  EXPECT_EQ(c->dyndns.bad_auth_per_client.burst, 3);
  EXPECT_EQ(c->dyndns.bad_auth_per_client.refill, 10min);
  auto f = FromArgs({"--dyndns-change-every", "1m", "--dyndns-trusted-proxy", "192.0.2.0/24", "--dyndns-ttl", "0"});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->dyndns.per_user_changes.refill, 60s);
  EXPECT_EQ(Strings(f->dyndns.trusted_proxies), std::vector<std::string>{"192.0.2.0/24"});
  EXPECT_EQ(f->dyndns.ttl, 0u);
  // Bad values are refused with the key named.
  for (const char* bad : {"dyndns: {max_hosts: 0}", "dyndns: {change_every: 25h}", "dyndns: {change_burst: -1}", "dyndns: {bad_auth_burst: 0}",
                          "dyndns: {trusted_proxies: [nope]}", "dyndns: {ttl: 604801}", "dyndns: {nope: 1}"}) {
    auto r = ParseConfigText(bad, "bad.yaml");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("key 'dyndns."), std::string::npos) << r.status().ToString();
  }
}

TEST(ConfigFile, SpecialValues) {
  auto c = ParseConfigText("api: {listen: \"\", socket: \"\"}\ndns:\n  forward: []\n"
                           "  listen: 127.0.0.2:53\n  tcp:\n",
                           "x.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->api.listen.has_value());  // "" disables
  EXPECT_EQ(c->api.socket, "");
  ASSERT_TRUE(c->dns.forward.has_value());  // [] = no forwarding, not resolv.conf
  EXPECT_TRUE(c->dns.forward->empty());
  EXPECT_EQ(Strings(c->dns.listen), std::vector<std::string>{"127.0.0.2:53"});  // scalar item
  EXPECT_EQ(c->dns.tcp.idle_timeout, 10s);  // empty section keeps defaults
}

struct BadCase {
  const char* yaml;
  const char* where;   // expected "source:line:column: key '...'"
  const char* reason;  // expected fragment of the reason
};

TEST(ConfigFile, ErrorsNameFileLineColumnAndKey) {
  const BadCase cases[] = {
      {"dns:\n  listen: [\"127.0.0.1:1053\", \"nope\"]\n", "c.yaml:2:30: key 'dns.listen[1]'",
       "not an IP address"},
      {"dns:\n  lisen: []\n", "c.yaml:2:3: key 'dns.lisen'", "unknown key"},
      {"bogus: 1\n", "c.yaml:1:1: key 'bogus'", "unknown key"},
      {"dns:\n  tcp:\n    idle: 5s\n", "c.yaml:3:5: key 'dns.tcp.idle'", "unknown key"},
      {"dns:\n  workers: many\n", "c.yaml:2:12: key 'dns.workers'", "not an integer"},
      {"dns:\n  workers: [1]\n", "c.yaml:2:12: key 'dns.workers'", "single value"},
      {"dns:\n  workers: -1\n", "c.yaml:2:12: key 'dns.workers'", "0 to 1024"},
      {"dns: 5\n", "c.yaml:1:6: key 'dns'", "mapping"},
      {"dns:\n  listen: []\n", "c.yaml:2:11: key 'dns.listen'", "must not be empty"},
      {"dns:\n  listen: {a: 1}\n", "c.yaml:2:11: key 'dns.listen'", "expected a list"},
      {"dns:\n  forward: [\"192.0.2.1:99999\"]\n", "c.yaml:2:13: key 'dns.forward[0]'", "port"},
      {"dns:\n  allow_recursion: [10.0.0.0/33]\n", "c.yaml:2:21: key 'dns.allow_recursion[0]'",
       "prefix length"},
      {"dns:\n  cache_size: 1e9\n", "c.yaml:2:15: key 'dns.cache_size'", "not an integer"},
      {"dns:\n  tcp: {idle_timeout: 10 s}\n", "c.yaml:2:23: key 'dns.tcp.idle_timeout'",
       "bad duration"},
      {"dns:\n  tcp: {idle_timeout: 0s}\n", "c.yaml:2:23: key 'dns.tcp.idle_timeout'",
       "more than 0"},
      {"dns:\n  tcp: {max_connections: 0}\n", "c.yaml:2:26: key 'dns.tcp.max_connections'",
       "1 to"},
      {"dns:\n  edns_udp_size: 100\n", "c.yaml:2:18: key 'dns.edns_udp_size'", "512 to 4096"},
      {"log:\n  format: xml\n", "c.yaml:2:11: key 'log.format'", "text or json"},
      {"log: {level: loud}\n", "c.yaml:1:14: key 'log.level'", "unknown log level"},
      {"api:\n  listen: localhost:80\n", "c.yaml:2:11: key 'api.listen'", "not an IP address"},
      {"state_dir: \"\"\n", "c.yaml:1:12: key 'state_dir'", "must not be empty"},
      {"zones:\n  - name: a..b\n    file: x\n", "c.yaml:2:11: key 'zones[0].name'",
       "bad zone name"},
      {"zones:\n  - name: a.\n    file: x\n  - name: A.\n    file: y\n",
       "c.yaml:4:11: key 'zones[1].name'", "listed twice"},
      {"zones:\n  - file: x\n", "c.yaml:2:5: key 'zones[0].name'", "missing"},
      {"zones:\n  - name: a.\n    notify: [\"nope\"]\n", "c.yaml:3:13: key 'zones[0].notify[0]'",
       "not an IP address"},
      {"zones:\n  - name: a.\n    allow_transfer: [\"10.0.0.0/99\"]\n",
       "c.yaml:3:21: key 'zones[0].allow_transfer'", "10.0.0.0/99"},
      {"api:\n  insecure: maybe\n", "c.yaml:2:13: key 'api.insecure'", "true or false"},
      {"auth:\n  admin_token: short\n", "c.yaml:2:16: key 'auth.admin_token'", "at least 16"},
      {"auth:\n  admin_token_file: /nonexistent/x\n", "c.yaml:2:21: key 'auth.admin_token_file'",
       "/nonexistent/x"},
      {"auth:\n  tokens: [{secret: xxxxxxxxxxxxxxxxxxxx}]\n", "c.yaml:2:12: key 'auth.tokens[0].name'",
       "missing"},
      {"auth:\n  tokens:\n    - name: a\n      secret: tooshort\n",
       "c.yaml:4:15: key 'auth.tokens[0].secret'", "at least 16"},
      {"auth:\n  tokens:\n    - name: a\n", "c.yaml:3:7: key 'auth.tokens[0]'", "no secret given"},
      {"auth:\n  tokens:\n    - name: a\n      secret: xxxxxxxxxxxxxxxxxxxx\n      secret_env: X\n",
       "c.yaml:5:19: key 'auth.tokens[0]'", "one way only"},
      {"auth:\n  tokens:\n    - name: a b\n      secret: xxxxxxxxxxxxxxxxxxxx\n",
       "c.yaml:3:7: key 'auth.tokens[0].name'", "may only hold"},
      {"auth:\n  tokens:\n    - {name: a, secret: xxxxxxxxxxxxxxxxxxxx}\n    - {name: a, secret: yyyyyyyyyyyyyyyyyyyy}\n",
       "c.yaml:4:7: key 'auth.tokens[1].name'", "listed twice"},
      {"auth:\n  tokens:\n    - name: a\n      secret: xxxxxxxxxxxxxxxxxxxx\n      scope: [{zone: a., access: admin}]\n",
       "c.yaml:5:15: key 'auth.tokens[0].scope[0]'", "read' or 'write"},
      {"auth:\n  tokens:\n    - name: a\n      secret: xxxxxxxxxxxxxxxxxxxx\n      scope: [{zone: a., names: [\"x.\"], access: read}]\n",
       "c.yaml:5:15: key 'auth.tokens[0].scope[0]'", "relative"},
      {"auth:\n  tokens:\n    - name: a\n      secret: xxxxxxxxxxxxxxxxxxxx\n      scope: [{zone: a.}]\n",
       "c.yaml:5:15: key 'auth.tokens[0].scope[0].access'", "missing"},
      {"auth:\n  tokens:\n    - name: a\n      password: xxxxxxxxxxxxxxxxxxxx\n",
       "c.yaml:4:7: key 'auth.tokens[0].password'", "unknown key"},
      {"auth:\n  users:\n    - name: home\n      password_hash: \"$1$abc$def\"\n",
       "c.yaml:4:22: key 'auth.users[0].password_hash'", "unsupported password hash"},
      {"auth:\n  tsig_keys:\n    - name: k.\n      secret: \"not base64!\"\n",
       "c.yaml:4:15: key 'auth.tsig_keys[0]'", "base64"},
      {"auth:\n  tsig_keys:\n    - name: k.\n      algorithm: hmac-foo\n      secret: c2VjcmV0\n",
       "c.yaml:5:15: key 'auth.tsig_keys[0]'", "algorithm"},
      {"auth:\n  nope: 1\n", "c.yaml:2:3: key 'auth.nope'", "unknown key"},
      {"zones:\n  - name: a.\n    file: x\n    fiel: y\n", "c.yaml:4:5: key 'zones[0].fiel'",
       "unknown key"},
      {"zones: a.\n", "c.yaml:1:8: key 'zones'", "list"},
      {"dns: [1, 2\n", "c.yaml:", "YAML syntax error"},
      {"- 1\n- 2\n", "c.yaml:1:1:", "mapping"},
  };
  for (const auto& tc : cases) {
    auto c = ParseConfigText(tc.yaml, "c.yaml");
    ASSERT_FALSE(c.ok()) << tc.yaml;
    const std::string& msg = c.status().message();
    EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
    EXPECT_EQ(msg.rfind(tc.where, 0), 0u) << "yaml:\n" << tc.yaml << "message: " << msg;
    EXPECT_NE(msg.find(tc.reason), std::string::npos) << "yaml:\n" << tc.yaml << "message: " << msg;
  }
}

TEST(ConfigAuth, ParsesCredentialsScopesAndZoneSettings) {
  TempDir dir;
  std::string token_file = dir.Write("admin.token", "admin-token-from-file\n");
  setenv("BERTH_TEST_TOKEN_B", "token-b-from-environment", 1);
  std::string yaml =
      "auth:\n"
      "  admin_token_file: " + token_file + "\n"
      "  tokens:\n"
      "    - name: tenant-a\n"
      "      secret: token-a-secret-123\n"
      "      scope: [{zone: a.internal., names: [\"*\"], types: [A, AAAA, TXT], access: write}]\n"
      "    - name: tenant-b\n"
      "      secret_env: BERTH_TEST_TOKEN_B\n"
      "      scope: [{zone: b.internal, access: read}]\n"
      "  users:\n"
      "    - name: home\n"
      "      password_hash: \"$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/\"\n"
      "      scope: [{zone: internal., names: [home, nas], types: [A, AAAA], access: write}]\n"
      "  tsig_keys:\n"
      "    - name: ddns-key.\n"
      "      secret: c2VjcmV0c2VjcmV0\n"
      "      scope: [{zone: internal., names: [\"*.dyn\"], types: A, access: write}]\n"
      "    - name: old-key\n"
      "      algorithm: hmac-md5\n"
      "      secret: c2VjcmV0\n"
      "zones:\n"
      "  - name: internal.\n"
      "    notify: [\"127.0.0.1:5300\", \"192.0.2.1\"]\n"
      "    allow_transfer: [\"key:ddns-key.\", \"127.0.0.0/8\"]\n"
      "api:\n"
      "  tls_cert: /c.pem\n"
      "  tls_key: /k.pem\n";
  auto c = ParseConfigText(yaml, "c.yaml");
  unsetenv("BERTH_TEST_TOKEN_B");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE(c->auth.admin_token.has_value());
  EXPECT_TRUE(c->auth.admin_token->Verify("admin-token-from-file"));
  ASSERT_EQ(c->auth.tokens.size(), 2u);
  EXPECT_TRUE(c->auth.tokens[1].secret.Verify("token-b-from-environment"));
  EXPECT_EQ(c->auth.tokens[0].scope[0].types.size(), 3u);
  EXPECT_EQ(c->auth.tokens[1].scope[0].zone.ToText(), "b.internal.");
  ASSERT_EQ(c->auth.users.size(), 1u);
  EXPECT_TRUE(c->auth.users[0].password.Verify("password"));
  ASSERT_EQ(c->auth.tsig_keys.size(), 2u);
  EXPECT_EQ(c->auth.tsig_keys[0].key.secret, "secretsecret");
  EXPECT_EQ(c->auth.tsig_keys[1].key.algorithm, dns::TsigAlgorithm::kHmacMd5);
  EXPECT_EQ(c->auth.tsig_keys[0].key.algorithm, dns::TsigAlgorithm::kHmacSha256);  // the default
  ASSERT_EQ(c->zones.size(), 1u);
  EXPECT_EQ(c->zones[0].file, "");  // a store zone with settings
  EXPECT_EQ(Strings(c->zones[0].notify), (std::vector<std::string>{"127.0.0.1:5300", "192.0.2.1:53"}));
  EXPECT_EQ(c->zones[0].allow_transfer, (std::vector<std::string>{"key:ddns-key.", "127.0.0.0/8"}));
  EXPECT_EQ(c->api.tls_cert, "/c.pem");
  EXPECT_TRUE(ValidateConfig(*c).ok());
}

TEST(ConfigApi, NonLoopbackNeedsTlsOrInsecure) {
  Config c;
  EXPECT_TRUE(ValidateConfig(c).ok());
  c.api.listen = SocketAddress::Parse("0.0.0.0:8053").value();
  auto s = ValidateConfig(c);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("--insecure-api"), std::string::npos);
  c.api.insecure = true;
  EXPECT_TRUE(ValidateConfig(c).ok());
  c.api.insecure = false;
  c.api.tls_cert = "/c.pem";
  EXPECT_FALSE(ValidateConfig(c).ok());  // key missing
  c.api.tls_key = "/k.pem";
  EXPECT_TRUE(ValidateConfig(c).ok());
  EXPECT_FALSE(FromArgs({"--api-listen", "0.0.0.0:8053"}).ok());
  auto ok = FromArgs({"--api-listen", "0.0.0.0:8053", "--insecure-api"});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(ok->api.insecure);
  EXPECT_TRUE(FromArgs({"--api-listen", "[::1]:8053"}).ok());
  setenv("BERTH_TEST_ADMIN", "admin-token-from-env", 1);
  auto admin = FromArgs({"--admin-token-env", "BERTH_TEST_ADMIN"});
  unsetenv("BERTH_TEST_ADMIN");
  ASSERT_TRUE(admin.ok()) << admin.status().ToString();
  EXPECT_TRUE(admin->auth.admin_token->Verify("admin-token-from-env"));
  auto unset = FromArgs({"--admin-token-env", "BERTH_TEST_ADMIN"});
  ASSERT_FALSE(unset.ok());
  EXPECT_NE(unset.status().message().find("--admin-token-env"), std::string::npos);
}

TEST(ConfigFile, LoadsFromDiskAndNamesMissingFile) {
  TempDir dir;
  std::string path = dir.Write("berth.yaml", "dns:\n  workers: 2\n  bad: 1\n");
  auto bad = LoadConfigFile(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind(path + ":3:3: key 'dns.bad'", 0), 0u)
      << bad.status().message();
  dir.Write("berth.yaml", "dns:\n  workers: 2\n");
  ASSERT_TRUE(LoadConfigFile(path).ok());
  EXPECT_EQ(LoadConfigFile(path)->dns.workers, 2u);
  auto missing = LoadConfigFile(dir.path() + "/missing.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kIo);
  EXPECT_NE(missing.status().message().find("missing.yaml"), std::string::npos);
}

TEST(ConfigDuration, Units) {
  EXPECT_EQ(*ParseDuration("10s"), 10s);
  EXPECT_EQ(*ParseDuration("5m"), 5min);
  EXPECT_EQ(*ParseDuration("300ms"), 300ms);
  EXPECT_EQ(*ParseDuration("2h"), 2h);
  EXPECT_EQ(*ParseDuration("7"), 7s);
  for (const char* bad : {"", "s", "-1s", "1.5s", "10 s", "10d", "ms5", "99999999999999999h"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
}

TEST(ConfigArgs, FlagsOverrideTheFile) {
  TempDir dir;
  std::string path = dir.Write("c.yaml", kFull);
  auto c = FromArgs({"--config", path.c_str(), "--dns-listen", "127.0.0.9:53", "--dns-listen",
                     "[::1]:5300", "--dns-forward", "198.51.100.1", "--allow-recursion",
                     "0.0.0.0/0", "--dns-workers", "8", "--api-listen", "", "--api-socket",
                     "/tmp/s", "--state-dir", "/srv/berth", "--log-format", "text",
                     "--log-level", "warn", "--zone", "z.test=/z.zone", "--dns-cache-size", "7",
                     "--dns-tcp-idle-timeout", "1m", "--dns-tcp-max-connections", "9",
                     "--dns-edns-udp-size", "512"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(Strings(c->dns.listen), (std::vector<std::string>{"127.0.0.9:53", "[::1]:5300"}));
  EXPECT_EQ(Strings(*c->dns.forward), std::vector<std::string>{"198.51.100.1:53"});
  EXPECT_EQ(Strings(c->dns.allow_recursion), std::vector<std::string>{"0.0.0.0/0"});
  EXPECT_EQ(c->dns.workers, 8u);
  EXPECT_FALSE(c->api.listen.has_value());
  EXPECT_EQ(c->api.socket, "/tmp/s");
  EXPECT_EQ(c->state_dir, "/srv/berth");
  EXPECT_EQ(c->log.format, log::Format::kText);
  EXPECT_EQ(c->log.level, log::Level::kWarn);
  ASSERT_EQ(c->zones.size(), 1u);  // the flag replaces the file's list
  EXPECT_EQ(c->zones[0].name.ToText(), "z.test.");
  EXPECT_EQ(c->zones[0].file, "/z.zone");
  EXPECT_EQ(c->dns.cache_size, 7u);
  EXPECT_EQ(c->dns.tcp.idle_timeout, 1min);
  EXPECT_EQ(c->dns.tcp.max_connections, 9u);
  EXPECT_EQ(c->dns.edns_udp_size, 512);

  // "none" turns forwarding off (an empty list, not the host's resolv.conf).
  auto no_forward = FromArgs({"--config", path.c_str(), "--dns-forward", "none"});
  ASSERT_TRUE(no_forward.ok()) << no_forward.status().ToString();
  ASSERT_TRUE(no_forward->dns.forward.has_value());
  EXPECT_TRUE(no_forward->dns.forward->empty());

  // UDP coalescing: microseconds, any duration up to 1ms, 0 = off.
  auto coalesce = FromArgs({"--dns-udp-coalesce", "200us"});
  ASSERT_TRUE(coalesce.ok()) << coalesce.status().ToString();
  EXPECT_EQ(coalesce->dns.udp_coalesce, std::chrono::microseconds(200));
  EXPECT_EQ(FromArgs({"--dns-udp-coalesce", "0"})->dns.udp_coalesce, std::chrono::microseconds(0));
  EXPECT_FALSE(FromArgs({"--dns-udp-coalesce", "2ms"}).ok());
  EXPECT_FALSE(FromArgs({"--dns-udp-coalesce", "-5us"}).ok());
  // TCP's own maximum: the same values, a shorter default.
  EXPECT_EQ(FromArgs({})->dns.udp_coalesce, std::chrono::microseconds(400));
  EXPECT_EQ(FromArgs({})->dns.tcp.coalesce, std::chrono::microseconds(100));
  EXPECT_EQ(FromArgs({"--dns-tcp-coalesce", "250us"})->dns.tcp.coalesce, std::chrono::microseconds(250));
  EXPECT_EQ(FromArgs({"--dns-tcp-coalesce", "1ms"})->dns.tcp.coalesce, std::chrono::microseconds(1000));
  EXPECT_FALSE(FromArgs({"--dns-tcp-coalesce", "1001us"}).ok());
  EXPECT_FALSE(FromArgs({"--dns-tcp-coalesce", "fast"}).ok());

  // UDP GSO: on by default, a boolean value turns it off.
  EXPECT_TRUE(FromArgs({})->dns.udp_gso);
  EXPECT_FALSE(FromArgs({"--dns-udp-gso", "false"})->dns.udp_gso);
  EXPECT_TRUE(FromArgs({"--dns-udp-gso", "true"})->dns.udp_gso);
  EXPECT_FALSE(FromArgs({"--dns-udp-gso", "maybe"}).ok());
  auto gso_file = ParseConfigText("dns:\n  udp_gso: false\n", "gso.yaml");
  ASSERT_TRUE(gso_file.ok()) << gso_file.status().ToString();
  EXPECT_FALSE(gso_file->dns.udp_gso);

  // Keys without a flag keep the file's values.
  auto partial = FromArgs({"--config", path.c_str(), "--log-level=error"});
  ASSERT_TRUE(partial.ok()) << partial.status().ToString();
  EXPECT_EQ(partial->log.level, log::Level::kError);
  EXPECT_EQ(partial->log.format, log::Format::kJson);
  EXPECT_EQ(partial->zones.size(), 2u);
  EXPECT_EQ(partial->dns.workers, 4u);
}

TEST(ConfigArgs, BadFlagsGiveClearErrors) {
  struct Case {
    std::vector<const char*> args;
    const char* fragment;
  };
  const Case cases[] = {
      {{"--dns-listen", "1.2.3.4:x"}, "flag --dns-listen '1.2.3.4:x': bad address"},
      {{"--log-format", "xml"}, "flag --log-format 'xml'"},
      {{"--dns-workers", "lots"}, "flag --dns-workers 'lots'"},
      {{"--zone", "nofile"}, "flag --zone 'nofile': want NAME=FILE"},
      {{"--zone", "a.=x", "--zone", "A=y"}, "listed twice"},
      {{"--allow-recursion", "10/8"}, "flag --allow-recursion"},
      {{"--frobnicate"}, "--frobnicate"},
      {{"--dns-workers"}, "--dns-workers"},
      {{"--config", "/nonexistent/berth.yaml"}, "/nonexistent/berth.yaml"},
  };
  for (const auto& tc : cases) {
    auto c = FromArgs(tc.args);
    ASSERT_FALSE(c.ok()) << tc.args[0];
    EXPECT_NE(c.status().message().find(tc.fragment), std::string::npos)
        << c.status().message();
  }
}

TEST(ConfigArgs, HelpAndVersionAskToPrintAndExit) {
  auto help = FromArgs({"--help"});
  ASSERT_TRUE(help.ok());
  ASSERT_TRUE(help->print_and_exit.has_value());
  EXPECT_NE(help->print_and_exit->find("--dns-listen"), std::string::npos);
  EXPECT_NE(help->print_and_exit->find("dns.tcp.idle_timeout"), std::string::npos);
  auto version = FromArgs({"--version"});
  ASSERT_TRUE(version.ok());
  ASSERT_TRUE(version->print_and_exit.has_value());
  EXPECT_EQ(version->print_and_exit->rfind("berthd ", 0), 0u) << *version->print_and_exit;
}

TEST(ResolvConf, ReadsNameserversInOrder) {
  TempDir dir;
  std::string path = dir.Write("resolv.conf",
                               "# generated\n"
                               "search example.com\n"
                               "nameserver 192.0.2.1\n"
                               "  nameserver   2001:db8::1   # trailing\n"
                               "nameserver fe80::1%eth0\n"
                               "; nameserver 10.9.9.9\n"
                               "nameserver\n"
                               "nameserver not-an-ip\n"
                               "options edns0\n"
                               "nameserver 198.51.100.7");
  auto servers = ResolvConfNameservers(path);
  ASSERT_TRUE(servers.ok()) << servers.status().ToString();
  EXPECT_EQ(Strings(*servers),
            (std::vector<std::string>{"192.0.2.1:53", "[2001:db8::1]:53", "198.51.100.7:53"}));
  auto missing = ResolvConfNameservers(dir.path() + "/none.conf");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kIo);
  EXPECT_NE(missing.status().message().find("none.conf"), std::string::npos);
}

}  // namespace
}  // namespace berth::config
