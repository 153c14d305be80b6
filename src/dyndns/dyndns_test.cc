#include "dyndns/dyndns.h"

#include <gtest/gtest.h>

#include "dns/wire/types.h"
#include "dns/zonefile/zonefile.h"
#include "http/auth.h"
#include "http/url.h"

namespace berth::dyndns {
namespace {

using std::chrono::seconds;

dns::Name N(std::string_view t) { return *dns::Name::FromText(t); }
IpAddress Ip(std::string_view t) { return *IpAddress::Parse(t); }

// ---------------------------------------------------------------------------------------------
// Parsing

TEST(ParseHostname, AcceptsFqdnsLowerCased) {
  EXPECT_EQ(ParseHostname("Home.Example.COM")->ToText(), "home.example.com.");
  EXPECT_EQ(ParseHostname("home.example.com.")->ToText(), "home.example.com.");
  EXPECT_EQ(ParseHostname("a-1.b2.example")->ToText(), "a-1.b2.example.");
  EXPECT_TRUE(ParseHostname(std::string(63, 'a') + ".example").ok());
}

TEST(ParseHostname, RejectsWhatIsNotAHostFqdn) {
  for (std::string bad : {"", ".", "localhost", "localhost.", "a..example", ".a.example", "a.example..",
                          "-a.example", "a-.example", "a_b.example", "*.example", "a b.example",
                          "\\065.example", "a\x01.example", "ünï.example", "a.example/x"}) {
    auto r = ParseHostname(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(ParseHostname(std::string(64, 'a') + ".example").ok());
  std::string long_name;
  while (long_name.size() < 260) long_name += "abcdefghij.";
  EXPECT_FALSE(ParseHostname(long_name + "example").ok());
}

TEST(ClientAddress, IsThePeerUnlessATrustedProxyForwards) {
  std::vector<Cidr> none;
  std::vector<Cidr> proxies = {*Cidr::Parse("10.0.0.0/8"), *Cidr::Parse("::1/128")};
  EXPECT_EQ(**ClientAddress("192.0.2.7", "", none), Ip("192.0.2.7"));
  EXPECT_EQ(**ClientAddress("2001:db8::7", "", none), Ip("2001:db8::7"));
  EXPECT_EQ(**ClientAddress("::ffff:192.0.2.7", "", none), Ip("192.0.2.7"));
  EXPECT_FALSE(ClientAddress("unix", "", none)->has_value());
  // Untrusted peers cannot claim another address.
  EXPECT_EQ(**ClientAddress("192.0.2.7", "203.0.113.1", none), Ip("192.0.2.7"));
  EXPECT_EQ(**ClientAddress("192.0.2.7", "203.0.113.1", proxies), Ip("192.0.2.7"));
  // A trusted proxy: the rightmost hop that is not one of ours (the left ones are client-made).
  EXPECT_EQ(**ClientAddress("10.1.1.1", "203.0.113.1", proxies), Ip("203.0.113.1"));
  EXPECT_EQ(**ClientAddress("10.1.1.1", "6.6.6.6, 203.0.113.1, 10.2.2.2", proxies), Ip("203.0.113.1"));
  EXPECT_EQ(**ClientAddress("::1", "2001:db8::5", proxies), Ip("2001:db8::5"));
  EXPECT_EQ(**ClientAddress("10.1.1.1", "10.3.3.3", proxies), Ip("10.3.3.3"));
  EXPECT_EQ(**ClientAddress("10.1.1.1", "", proxies), Ip("10.1.1.1"));
  auto bad = ClientAddress("10.1.1.1", "203.0.113.1, bogus", proxies);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bogus"), std::string::npos);
  EXPECT_FALSE(ClientAddress("10.1.1.1", "203.0.113.1,,", proxies).ok());
}

std::multimap<std::string, std::string> Q(std::string_view target) {
  return http::ParseTarget(target)->query;
}

TEST(ParseUpdateQuery, HostsAndExplicitAddresses) {
  auto client = std::optional<IpAddress>(Ip("192.0.2.9"));
  auto u = ParseUpdateQuery(Q("/nic/update?hostname=a.example,%20b.example&myip=198.51.100.4"), client);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->hosts, (std::vector<std::string>{"a.example", "b.example"}));
  EXPECT_EQ(u->v4, Ip("198.51.100.4"));
  EXPECT_FALSE(u->v6);

  u = ParseUpdateQuery(Q("/nic/update?hostname=a.example&myip=2001:db8::4"), client);
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->v4);
  EXPECT_EQ(u->v6, Ip("2001:db8::4"));

  u = ParseUpdateQuery(Q("/nic/update?hostname=a.example&myip=198.51.100.4,2001:db8::4"), client);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->v4, Ip("198.51.100.4"));
  EXPECT_EQ(u->v6, Ip("2001:db8::4"));

  u = ParseUpdateQuery(Q("/nic/update?hostname=a.example&myip=198.51.100.4&myipv6=2001:db8::4"), client);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->v4, Ip("198.51.100.4"));
  EXPECT_EQ(u->v6, Ip("2001:db8::4"));

  // myipv6 alone updates AAAA only: the client's (IPv4) address is not added behind its back.
  u = ParseUpdateQuery(Q("/nic/update?hostname=a.example&myipv6=2001:db8::4"), client);
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->v4);
  EXPECT_EQ(u->v6, Ip("2001:db8::4"));

  // IPv4-mapped addresses are IPv4; ignored extras do not matter.
  u = ParseUpdateQuery(Q("/nic/update?system=dyndns&hostname=a.example&myip=::ffff:198.51.100.4"
                         "&wildcard=ON&mx=mx.example&backmx=NO&offline=NO"),
                       client);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->v4, Ip("198.51.100.4"));
}

TEST(ParseUpdateQuery, DefaultsToTheClientAddressInItsFamily) {
  auto u = ParseUpdateQuery(Q("/nic/update?hostname=a.example"), Ip("192.0.2.9"));
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->v4, Ip("192.0.2.9"));
  EXPECT_FALSE(u->v6);
  // ddclient sends "myip=" when it has no address.
  u = ParseUpdateQuery(Q("/nic/update?hostname=a.example&myip="), Ip("2001:db8::9"));
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->v4);
  EXPECT_EQ(u->v6, Ip("2001:db8::9"));
  // No hostname: parses (the service answers notfqdn).
  u = ParseUpdateQuery(Q("/nic/update?myip=192.0.2.1"), std::nullopt);
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->hosts.empty());
}

TEST(ParseUpdateQuery, RejectsAmbiguousOrMalformedInput) {
  auto client = std::optional<IpAddress>(Ip("192.0.2.9"));
  for (std::string target : {
           "/nic/update?hostname=a.example&hostname=b.example",
           "/nic/update?hostname=a.example&myip=1.2.3.4&myip=1.2.3.5",
           "/nic/update?hostname=a.example&myip=1.2.3",
           "/nic/update?hostname=a.example&myip=1.2.3.4,",
           "/nic/update?hostname=a.example&myip=1.2.3.4,1.2.3.5",
           "/nic/update?hostname=a.example&myip=2001:db8::1,2001:db8::2",
           "/nic/update?hostname=a.example&myip=2001:db8::1&myipv6=2001:db8::2",
           "/nic/update?hostname=a.example&myipv6=192.0.2.1",
           "/nic/update?hostname=a.example&myip=0.0.0.0",
           "/nic/update?hostname=a.example&myip=224.0.0.1",
           "/nic/update?hostname=a.example&myip=255.255.255.255",
           "/nic/update?hostname=a.example&myip=::",
           "/nic/update?hostname=a.example&myip=ff02::1",
           "/nic/update?hostname=a.example&myip=fe80::1%25eth0",
           "/nic/update?hostname=a.example&myip=example.com",
       }) {
    auto u = ParseUpdateQuery(Q(target), client);
    EXPECT_FALSE(u.ok()) << target;
    EXPECT_EQ(u.status().code(), Code::kInvalidArgument) << target;
  }
  // No address anywhere (a unix-socket client).
  EXPECT_FALSE(ParseUpdateQuery(Q("/nic/update?hostname=a.example"), std::nullopt).ok());
}

// ---------------------------------------------------------------------------------------------
// The service, over fake zones and users

class FakeZones : public ZoneAccess {
 public:
  void Add(std::string_view origin, std::string_view text) {
    auto records = dns::ParseZoneText(text, N(origin), "test");
    ASSERT_TRUE(records.ok()) << records.status().ToString();
    contents_.emplace(N(origin).ToText(), dns::ZoneContent(N(origin), *records));
  }
  dns::ZoneContent& Content(std::string_view origin) { return contents_.at(N(origin).ToText()); }

  std::optional<dns::Name> FindZone(const dns::Name& host) const override {
    std::optional<dns::Name> best;
    for (const auto& [key, c] : contents_)
      if (host.IsSubdomainOf(c.origin()) && (!best || c.origin().LabelCount() > best->LabelCount()))
        best = c.origin();
    return best;
  }
  void EditAsync(const dns::Name& zone, daemon::EditFn edit, daemon::EditDone done) override {
    ++edits;
    if (hang) {
      hung.push_back(std::move(done));
      return;
    }
    auto it = contents_.find(zone.ToText());
    if (it == contents_.end() || vanish) return done(NotFound("zone " + zone.ToText() + " not served"));
    dns::ZoneContent& c = it->second;
    c.Begin();
    Status s = edit(c);
    if (s.ok() && !commit_error.ok()) s = commit_error;
    if (!s.ok()) {
      c.Rollback();
      return done(s);
    }
    daemon::EditOutcome out;
    out.changed = c.Changed();
    if (out.changed) ++commits;
    c.Commit();
    done(out);
  }

  int edits = 0;
  int commits = 0;
  bool hang = false;
  bool vanish = false;
  Status commit_error;
  std::vector<daemon::EditDone> hung;

 private:
  std::map<std::string, dns::ZoneContent> contents_;
};

class FakeAuth : public Authorizer {
 public:
  std::optional<std::string> Authenticate(std::string_view user, std::string_view password) const override {
    auto it = passwords.find(std::string(user));
    if (it == passwords.end() || !http::ConstantTimeEquals(it->second, password)) return std::nullopt;
    return it->first;
  }
  bool MayWrite(const std::string& user, const dns::Name& zone, const dns::Name& owner,
                uint16_t type) const override {
    for (const auto& g : grants)
      if (g.user == user && owner.IsSubdomainOf(g.below) && (g.type == 0 || g.type == type)) return true;
    return false;
  }
  struct Grant {
    std::string user;
    dns::Name below;
    uint16_t type = 0;
  };
  std::map<std::string, std::string> passwords;
  std::vector<Grant> grants;
};

constexpr std::string_view kExample =
    "$TTL 300\n"
    "@ SOA ns hostmaster 1 7200 900 1209600 60\n"
    "@ NS ns\n"
    "ns A 192.0.2.1\n"
    "home A 198.51.100.1\n"
    "home AAAA 2001:db8::1\n"
    "multi A 198.51.100.2\n"
    "multi A 198.51.100.3\n"
    "alias CNAME home\n"
    "sub NS ns.sub\n"
    "ns.sub A 192.0.2.53\n";

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    zones_.Add("example.com.", kExample);
    zones_.Add("other.net.", "@ 300 SOA ns.example.com. h.example.com. 1 2 3 4 5\n@ 300 NS ns.example.com.\n");
    auth_.passwords = {{"alice", "secret"}, {"bob", "hunter2"}};
    auth_.grants = {{"alice", N("example.com."), 0}, {"alice", N("other.net."), dns::type::kA},
                    {"bob", N("bob.example.com."), dns::type::kA}};
    options_.clock = [this] { return now_; };
    Make();
  }
  void Make() { service_ = std::make_unique<Service>(options_, zones_, auth_); }

  http::Response Get(std::string target, std::string user = "alice", std::string password = "secret",
                     std::string peer = "192.0.2.9", std::string xff = "") {
    http::Request req;
    req.method = "GET";
    req.target = target;
    auto t = http::ParseTarget(target);
    EXPECT_TRUE(t.ok()) << target;
    req.path = t->path;
    req.query = t->query;
    if (!user.empty()) req.headers.emplace("Authorization", "Basic " + http::Base64Encode(user + ":" + password));
    if (!xff.empty()) req.headers.emplace("X-Forwarded-For", xff);
    req.remote_address = peer;
    return service_->Handle(req);
  }
  std::vector<std::string> Addresses(std::string_view owner, uint16_t type, std::string_view zone = "example.com.") {
    std::vector<std::string> out;
    for (const auto& r : zones_.Content(zone).RRset(N(owner), type)) {
      std::array<uint8_t, 16> b{};
      std::copy(r.rdata.begin(), r.rdata.end(), b.begin());
      out.push_back(type == dns::type::kA ? IpAddress::V4({b[0], b[1], b[2], b[3]}).ToString()
                                          : IpAddress::V6(b).ToString());
    }
    return out;
  }

  FakeZones zones_;
  FakeAuth auth_;
  Options options_;
  Clock::time_point now_ = Clock::time_point() + std::chrono::hours(1);
  std::unique_ptr<Service> service_;
};

using V = std::vector<std::string>;

TEST_F(ServiceTest, GoodThenNochg) {
  auto r = Get("/nic/update?hostname=home.example.com&myip=203.0.113.5");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(r.body, "good 203.0.113.5\n");
  EXPECT_EQ(Addresses("home.example.com.", dns::type::kA), V{"203.0.113.5"});
  EXPECT_EQ(zones_.Content("example.com.").RRset(N("home.example.com."), dns::type::kA)[0].ttl, 60u);
  EXPECT_EQ(Addresses("home.example.com.", dns::type::kAAAA), V{"2001:db8::1"}) << "AAAA untouched";
  EXPECT_EQ(zones_.commits, 1);

  r = Get("/nic/update?hostname=home.example.com&myip=203.0.113.5");
  EXPECT_EQ(r.body, "nochg 203.0.113.5\n");
  EXPECT_EQ(zones_.commits, 1);
}

TEST_F(ServiceTest, NewNamesAndMultiRecordSetsBecomeOneRecord) {
  EXPECT_EQ(Get("/nic/update?hostname=new.example.com&myip=203.0.113.6").body, "good 203.0.113.6\n");
  EXPECT_EQ(Addresses("new.example.com.", dns::type::kA), V{"203.0.113.6"});
  // An RRset holding the address among others is not "no change".
  EXPECT_EQ(Get("/nic/update?hostname=multi.example.com&myip=198.51.100.2").body, "good 198.51.100.2\n");
  EXPECT_EQ(Addresses("multi.example.com.", dns::type::kA), V{"198.51.100.2"});
}

TEST_F(ServiceTest, DefaultsToClientAddressAndAcceptsAlternatePath) {
  auto r = Get("/v3/update?hostname=home.example.com", "alice", "secret", "::ffff:203.0.113.9");
  EXPECT_EQ(r.body, "good 203.0.113.9\n");
  EXPECT_EQ(Addresses("home.example.com.", dns::type::kA), V{"203.0.113.9"});
  r = Get("/nic/update?hostname=home.example.com", "alice", "secret", "2001:db8::99");
  EXPECT_EQ(r.body, "good 2001:db8::99\n");
  EXPECT_EQ(Addresses("home.example.com.", dns::type::kAAAA), V{"2001:db8::99"});
  EXPECT_EQ(Addresses("home.example.com.", dns::type::kA), V{"203.0.113.9"});
}

TEST_F(ServiceTest, ForwardedForOnlyFromTrustedProxies) {
  auto r = Get("/nic/update?hostname=home.example.com", "alice", "secret", "127.0.0.1", "203.0.113.50");
  EXPECT_EQ(r.body, "good 127.0.0.1\n");
  options_.trusted_proxies = {*Cidr::Parse("127.0.0.0/8")};
  Make();
  r = Get("/nic/update?hostname=home.example.com", "alice", "secret", "127.0.0.1", "203.0.113.50");
  EXPECT_EQ(r.body, "good 203.0.113.50\n");
  r = Get("/nic/update?hostname=home.example.com", "alice", "secret", "127.0.0.1", "junk");
  EXPECT_EQ(r.status, 400);
}

TEST_F(ServiceTest, DualStackInOneRequest) {
  auto r = Get("/nic/update?hostname=home.example.com&myip=203.0.113.5,2001:db8::5");
  EXPECT_EQ(r.body, "good 203.0.113.5,2001:db8::5\n");
  EXPECT_EQ(Addresses("home.example.com.", dns::type::kA), V{"203.0.113.5"});
  EXPECT_EQ(Addresses("home.example.com.", dns::type::kAAAA), V{"2001:db8::5"});
  r = Get("/nic/update?hostname=home.example.com&myip=203.0.113.5&myipv6=2001:db8::5");
  EXPECT_EQ(r.body, "nochg 203.0.113.5,2001:db8::5\n");
  // One family changed: good; the other is left as it was.
  r = Get("/nic/update?hostname=home.example.com&myip=203.0.113.5&myipv6=2001:db8::6");
  EXPECT_EQ(r.body, "good 203.0.113.5,2001:db8::6\n");
}

TEST_F(ServiceTest, SeveralHostsOneEditPerZoneAnswersInOrder) {
  auto r = Get("/nic/update?hostname=home.example.com,bad_name,a.other.net,nope.invalid,b.example.com,"
               "alias.example.com,x.sub.example.com&myip=203.0.113.7");
  EXPECT_EQ(r.body,
            "good 203.0.113.7\nnotfqdn\ngood 203.0.113.7\nnohost\ngood 203.0.113.7\nnohost\nnohost\n");
  EXPECT_EQ(zones_.edits, 2);
  EXPECT_EQ(Addresses("home.example.com.", dns::type::kA), V{"203.0.113.7"});
  EXPECT_EQ(Addresses("b.example.com.", dns::type::kA), V{"203.0.113.7"});
  EXPECT_EQ(Addresses("a.other.net.", dns::type::kA, "other.net."), V{"203.0.113.7"});
  EXPECT_TRUE(Addresses("alias.example.com.", dns::type::kA).empty()) << "CNAME kept alone";
  EXPECT_TRUE(Addresses("x.sub.example.com.", dns::type::kA).empty()) << "below a delegation";
  EXPECT_TRUE(Addresses("sub.example.com.", dns::type::kA).empty());
}

TEST_F(ServiceTest, NohostOutsideTheUsersScope) {
  // bob may write A below bob.example.com only.
  EXPECT_EQ(Get("/nic/update?hostname=home.example.com&myip=203.0.113.8", "bob", "hunter2").body, "nohost\n");
  EXPECT_EQ(Get("/nic/update?hostname=pc.bob.example.com&myip=2001:db8::8", "bob", "hunter2").body, "nohost\n");
  EXPECT_EQ(Get("/nic/update?hostname=pc.bob.example.com&myip=203.0.113.8,2001:db8::8", "bob", "hunter2").body,
            "nohost\n");
  EXPECT_EQ(Get("/nic/update?hostname=pc.bob.example.com&myip=203.0.113.8", "bob", "hunter2").body,
            "good 203.0.113.8\n");
  // alice may write only A in other.net.
  EXPECT_EQ(Get("/nic/update?hostname=a.other.net&myip=2001:db8::8").body, "nohost\n");
  EXPECT_EQ(Addresses("home.example.com.", dns::type::kA), V{"198.51.100.1"});
}

TEST_F(ServiceTest, RequestLevelAnswers) {
  EXPECT_EQ(Get("/nic/update?myip=203.0.113.5").body, "notfqdn\n");
  EXPECT_EQ(Get("/nic/update?hostname=&myip=203.0.113.5").body, "notfqdn\n");
  EXPECT_EQ(Get("/nic/update?system=bogus&hostname=home.example.com&myip=203.0.113.5").body, "badsys\n");
  std::string many;
  for (int i = 0; i < 21; ++i) many += (i ? "," : "") + std::string("h") + std::to_string(i) + ".example.com";
  EXPECT_EQ(Get("/nic/update?hostname=" + many + "&myip=203.0.113.5").body, "numhost\n");
  EXPECT_EQ(zones_.edits, 0);
  auto r = Get("/nic/update?hostname=home.example.com&myip=1.2.3");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, "badrequest: myip '1.2.3' is not an IP address\n");
  // 20 is fine.
  many = many.substr(0, many.rfind(','));
  r = Get("/nic/update?hostname=" + many + "&myip=203.0.113.5");
  EXPECT_EQ(std::count(r.body.begin(), r.body.end(), '\n'), 20);
  EXPECT_EQ(zones_.edits, 1);
}

TEST_F(ServiceTest, BadAuthIs401WithChallengeAndChangesNothing) {
  for (auto [user, pass] : {std::pair{"alice", "wrong"}, {"mallory", "secret"}, {"", ""}}) {
    auto r = Get("/nic/update?hostname=home.example.com&myip=203.0.113.5", user, pass);
    EXPECT_EQ(r.status, 401) << user;
    EXPECT_EQ(r.body, "badauth\n");
    ASSERT_EQ(r.headers.size(), 1u);
    EXPECT_EQ(r.headers[0].first, "WWW-Authenticate");
    EXPECT_EQ(r.headers[0].second, "Basic realm=\"berth\"");
  }
  http::Request req;
  req.query = Q("/nic/update?hostname=home.example.com&myip=203.0.113.5");
  req.headers.emplace("Authorization", "Bearer abc");
  req.remote_address = "192.0.2.9";
  EXPECT_EQ(service_->Handle(req).status, 401);
  EXPECT_EQ(zones_.edits, 0);
  EXPECT_EQ(Addresses("home.example.com.", dns::type::kA), V{"198.51.100.1"});
}

TEST_F(ServiceTest, FailedLoginsLockTheClientAddressOut) {
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(Get("/nic/update?hostname=home.example.com", "alice", "guess", "198.51.100.66").status, 401);
  // Now even the right password from that address is refused, without being checked.
  auto r = Get("/nic/update?hostname=home.example.com,b.example.com", "alice", "secret", "198.51.100.66");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "abuse\nabuse\n");
  // Other addresses are not affected; missing credentials do not count.
  EXPECT_EQ(Get("/nic/update?hostname=home.example.com", "alice", "secret", "198.51.100.67").body,
            "good 198.51.100.67\n");
  EXPECT_EQ(Get("/nic/update?hostname=home.example.com", "", "", "198.51.100.66").status, 401);
  now_ += seconds(60);
  EXPECT_EQ(Get("/nic/update?hostname=home.example.com", "alice", "secret", "198.51.100.66").body,
            "good 198.51.100.66\n");
}

TEST_F(ServiceTest, PerUserChangeRateLimit) {
  auto addr = [](int i) { return "203.0.113." + std::to_string(10 + i); };
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(Get("/nic/update?hostname=home.example.com&myip=" + addr(i)).body, "good " + addr(i) + "\n") << i;
  EXPECT_EQ(Get("/nic/update?hostname=home.example.com,b.example.com&myip=203.0.113.99").body, "abuse\nabuse\n");
  EXPECT_EQ(Addresses("home.example.com.", dns::type::kA), V{addr(9)});
  // Another user has its own buckets.
  EXPECT_EQ(Get("/nic/update?hostname=pc.bob.example.com&myip=203.0.113.6", "bob", "hunter2").body,
            "good 203.0.113.6\n");
  now_ += seconds(5);
  EXPECT_EQ(Get("/nic/update?hostname=home.example.com&myip=203.0.113.6").body, "good 203.0.113.6\n");
  EXPECT_EQ(Get("/nic/update?hostname=home.example.com&myip=203.0.113.6").body, "abuse\n");
}

TEST_F(ServiceTest, ReconfigureAppliesToTheNextRequest) {
  EXPECT_EQ(Get("/nic/update?hostname=home.example.com&myip=203.0.113.5").body, "good 203.0.113.5\n");
  EXPECT_EQ(zones_.Content("example.com.").RRset(N("home.example.com."), dns::type::kA)[0].ttl, 60u);
  Options changed;
  changed.ttl = 300;
  changed.max_hosts = 1;
  changed.trusted_proxies.push_back(*Cidr::Parse("192.0.2.0/24"));
  changed.bad_auth_per_client = {1, seconds(60)};
  service_->Reconfigure(changed);
  EXPECT_EQ(service_->options()->ttl, 300u);
  // The new TTL, the new proxy trust (the peer 192.0.2.9 now forwards for the client)...
  EXPECT_EQ(Get("/nic/update?hostname=home.example.com", "alice", "secret", "192.0.2.9", "203.0.113.77").body,
            "good 203.0.113.77\n");
  EXPECT_EQ(zones_.Content("example.com.").RRset(N("home.example.com."), dns::type::kA)[0].ttl, 300u);
  // ...the new host limit...
  EXPECT_EQ(Get("/nic/update?hostname=home.example.com,b.example.com&myip=203.0.113.5").body, "numhost\n");
  // ...and the new lockout: one failed login is enough now. The injected clock stays.
  EXPECT_EQ(Get("/nic/update?hostname=home.example.com", "alice", "guess", "198.51.100.66").status, 401);
  EXPECT_EQ(Get("/nic/update?hostname=home.example.com", "alice", "secret", "198.51.100.66").body, "abuse\n");
  now_ += seconds(60);
  EXPECT_EQ(Get("/nic/update?hostname=home.example.com", "alice", "secret", "198.51.100.66").body,
            "good 198.51.100.66\n");
}

TEST_F(ServiceTest, NochgIsLimitedOnlyWhenHammering) {
  // nochg does not use up the change budget...
  for (int i = 0; i < 60; ++i)
    ASSERT_EQ(Get("/nic/update?hostname=home.example.com&myip=198.51.100.1").body, "nochg 198.51.100.1\n") << i;
  // ...but 60 requests at once exhaust the request budget.
  EXPECT_EQ(Get("/nic/update?hostname=home.example.com&myip=198.51.100.1").body, "abuse\n");
  now_ += seconds(1);
  EXPECT_EQ(Get("/nic/update?hostname=home.example.com&myip=203.0.113.1").body, "good 203.0.113.1\n");
}

TEST_F(ServiceTest, NormallySpacedNochgIsNeverAbuse) {
  // ddclient's default daemon interval is 300 s; even every 2 s must pass forever.
  for (int i = 0; i < 2000; ++i, now_ += seconds(2))
    ASSERT_EQ(Get("/nic/update?hostname=home.example.com&myip=198.51.100.1").body, "nochg 198.51.100.1\n") << i;
}

TEST_F(ServiceTest, DnserrWhenTheCommitFailsAndNothingChanges) {
  zones_.commit_error = InvalidArgument("zone rule violated");
  auto r = Get("/nic/update?hostname=home.example.com,ns.example.com&myip=192.0.2.1");
  EXPECT_EQ(r.body, "dnserr\nnochg 192.0.2.1\n");
  EXPECT_EQ(Addresses("home.example.com.", dns::type::kA), V{"198.51.100.1"});
  zones_.commit_error = Status::Ok();
  zones_.vanish = true;
  EXPECT_EQ(Get("/nic/update?hostname=home.example.com&myip=192.0.2.1").body, "nohost\n");
}

TEST_F(ServiceTest, Answers911WhenTheCommitterDoesNotAnswer) {
  options_.commit_wait = std::chrono::milliseconds(20);
  Make();
  zones_.hang = true;
  EXPECT_EQ(Get("/nic/update?hostname=home.example.com&myip=192.0.2.1").body, "911\n");
  // A late completion must be harmless.
  for (auto& done : zones_.hung) done(daemon::EditOutcome{});
}

}  // namespace
}  // namespace berth::dyndns
