// Route handlers over a real ZoneService, store and AuthPolicy (no sockets): authentication,
// scope filtering, tenant isolation and all-or-nothing writes.
#include "api/api.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "dns/wire/types.h"

namespace berth::api {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

auth::Scope S(const char* zone, std::vector<std::string> names, std::vector<std::string> types) {
  return {auth::ScopeRule::Make(zone, names, types, "write").value()};
}

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("berth-api-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    store_ = store::Store::Open(dir_.string()).value();
    zones_ = std::make_unique<daemon::ZoneService>(*store_, table_);
    auth::AuthConfig cfg;
    cfg.admin_token = auth::Secret::Plain("admin-token-0123456789");
    cfg.tokens.push_back({"a", auth::Secret::Plain("token-a-0123456789"), S("a.test.", {"*"}, {})});
    cfg.tokens.push_back({"b", auth::Secret::Plain("token-b-0123456789"), S("b.test.", {"*"}, {})});
    cfg.tokens.push_back({"www", auth::Secret::Plain("token-www-0123456789"), S("a.test.", {"www"}, {"A"})});
    policy_ = auth::AuthPolicy::Make(std::move(cfg), store_.get()).value();
    ApiContext ctx;
    ctx.zones = zones_.get();
    ctx.table = &table_;
    ctx.dns_metrics = &metrics_;
    ctx.auth = policy_.get();
    ASSERT_TRUE(RegisterRoutes(router_, ctx).ok());
    ASSERT_EQ(Call("POST", "/api/v1/zones", "admin-token-0123456789",
                   R"({"name": "a.test", "nameservers": ["ns1.a.test."],
                       "rrsets": [{"name": "www.a.test.", "type": "A", "records": [{"content": "10.0.0.1"}]},
                                  {"name": "www.a.test.", "type": "TXT", "records": [{"content": "\"t\""}]}]})")
                  .status,
              201);
    ASSERT_EQ(Call("POST", "/api/v1/zones", "token-b-0123456789", R"({"name": "b.test."})").status, 201);
  }
  void TearDown() override {
    zones_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  // token "" = none; "unix" = over the unix socket.
  http::Response Call(const std::string& method, const std::string& path, const std::string& token,
                      const std::string& body = "") {
    auto match = router_.Find(method, path);
    EXPECT_TRUE(match.ok() && match->kind == http::Router::Match::kFound) << method << " " << path;
    if (!match.ok() || match->kind != http::Router::Match::kFound) return {};
    http::Request req;
    req.method = method;
    req.path = path;
    req.body = body;
    req.params = match->params;
    req.remote_address = token == "unix" ? "unix" : "127.0.0.1";
    if (!token.empty() && token != "unix") req.headers.emplace("Authorization", "Bearer " + token);
    return (*match->handler)(req);
  }
  json Body(const http::Response& r) { return json::parse(r.body, nullptr, false); }
  std::vector<dns::Record> Records(const char* zone) {
    return zones_->Records(dns::Name::FromText(zone).value()).value();
  }

  fs::path dir_;
  std::unique_ptr<store::Store> store_;
  dns::ZoneTable table_;
  dns::DnsMetrics metrics_;
  std::unique_ptr<daemon::ZoneService> zones_;
  std::unique_ptr<auth::AuthPolicy> policy_;
  http::Router router_;
};

TEST_F(ApiTest, AuthenticationIsRequiredExceptOnTheSocket) {
  http::Response r = Call("GET", "/api/v1/zones", "");
  EXPECT_EQ(r.status, 401);
  EXPECT_TRUE(Body(r).contains("error"));
  EXPECT_EQ(Call("GET", "/api/v1/zones", "wrong-token-0123456789").status, 401);
  EXPECT_EQ(Call("GET", "/api/v1/zones", "unix").status, 200);
  EXPECT_EQ(Call("GET", "/healthz", "").status, 200);
}

TEST_F(ApiTest, ReadsAreFilteredByScope) {
  json list = Body(Call("GET", "/api/v1/zones", "token-a-0123456789"));
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["name"], "a.test.");
  EXPECT_EQ(Body(Call("GET", "/api/v1/zones", "admin-token-0123456789")).size(), 2u);
  EXPECT_EQ(Call("GET", "/api/v1/zones/a.test.", "token-b-0123456789").status, 404);
  json zone = Body(Call("GET", "/api/v1/zones/a.test", "token-www-0123456789"));
  ASSERT_EQ(zone["rrsets"].size(), 1u);  // www A only: not the SOA, NS or TXT
  EXPECT_EQ(zone["rrsets"][0]["type"], "A");
  http::Response exp = Call("GET", "/api/v1/zones/a.test./export", "token-www-0123456789");
  EXPECT_EQ(exp.body.find("TXT"), std::string::npos);
  EXPECT_NE(exp.body.find("10.0.0.1"), std::string::npos);
}

TEST_F(ApiTest, PatchIsAllOrNothingAndScoped) {
  auto before = Records("a.test.");
  http::Response r = Call("PATCH", "/api/v1/zones/a.test.", "token-a-0123456789",
                          R"({"rrsets": [{"name": "x.a.test.", "type": "A", "ttl": 60, "changetype": "REPLACE",
                                          "records": [{"content": "10.0.0.2"}]},
                                         {"name": "y.a.test.", "type": "MX", "ttl": 60, "changetype": "REPLACE",
                                          "records": [{"content": "ten mail"}]}]})");
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("y.a.test. MX"), std::string::npos) << r.body;
  EXPECT_EQ(Records("a.test."), before);
  r = Call("PATCH", "/api/v1/zones/a.test.", "token-www-0123456789",
           R"({"rrsets": [{"name": "www.a.test.", "type": "A", "ttl": 60, "changetype": "REPLACE",
                           "records": [{"content": "10.0.0.3"}]},
                          {"name": "www.a.test.", "type": "TXT", "changetype": "DELETE"}]})");
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("rrsets[1] (www.a.test. TXT)"), std::string::npos) << r.body;
  EXPECT_EQ(Records("a.test."), before);
  EXPECT_EQ(Call("PATCH", "/api/v1/zones/a.test.", "token-b-0123456789", R"({"rrsets": []})").status, 404);
  r = Call("PATCH", "/api/v1/zones/a.test.", "token-a-0123456789",
           R"({"rrsets": [{"name": "x.a.test.", "type": "A", "ttl": 60, "changetype": "REPLACE",
                           "records": [{"content": "10.0.0.2"}, {"content": "10.0.0.4"}]},
                          {"name": "www.a.test.", "type": "TXT", "changetype": "DELETE"}]})");
  EXPECT_EQ(r.status, 204) << r.body;
  auto after = Records("a.test.");
  EXPECT_EQ(std::count_if(after.begin(), after.end(), [](const dns::Record& x) { return x.type == dns::type::kTXT; }), 0);
  EXPECT_EQ(std::count_if(after.begin(), after.end(),
                          [](const dns::Record& x) { return x.name.ToText() == "x.a.test."; }),
            2);
}

TEST_F(ApiTest, UpdateAndZoneLifecycle) {
  http::Response r = Call("POST", "/api/v1/update", "token-www-0123456789",
                          R"({"name": "www.a.test.", "type": "A", "content": "10.0.0.9", "ttl": 30})");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = Body(r);
  EXPECT_EQ(j["zone"], "a.test.");
  EXPECT_TRUE(j["changed"].get<bool>());
  uint32_t serial = j["serial"];
  r = Call("POST", "/api/v1/update", "token-www-0123456789",
           R"({"name": "www.a.test.", "type": "A", "content": "10.0.0.9", "ttl": 30})");
  EXPECT_FALSE(Body(r)["changed"].get<bool>());  // the same record again: a no-op
  EXPECT_EQ(Body(r)["serial"], serial);
  EXPECT_EQ(Call("POST", "/api/v1/update", "token-www-0123456789",
                 R"({"name": "www.b.test.", "type": "A", "content": "10.0.0.9"})").status, 404);
  EXPECT_EQ(Call("DELETE", "/api/v1/zones/a.test.", "token-www-0123456789").status, 403);
  EXPECT_EQ(Call("DELETE", "/api/v1/zones/a.test.", "token-b-0123456789").status, 404);
  EXPECT_EQ(Call("DELETE", "/api/v1/zones/b.test.", "token-b-0123456789").status, 204);
  EXPECT_EQ(Call("POST", "/api/v1/zones", "token-a-0123456789", R"({"name": "a.test."})").status, 409);
  EXPECT_EQ(Call("POST", "/api/v1/zones", "token-a-0123456789", R"({"name": "c.test."})").status, 403);
  EXPECT_EQ(Call("POST", "/api/v1/zones", "unix", R"({"name": "c.test.", "kind": "Slave"})").status, 422);
}

TEST_F(ApiTest, CredentialManagement) {
  EXPECT_EQ(Call("GET", "/api/v1/auth/tokens", "token-a-0123456789").status, 403);
  http::Response r = Call("POST", "/api/v1/auth/tokens", "unix",
                          R"({"name": "c", "scope": [{"zone": "b.test.", "access": "read"}]})");
  ASSERT_EQ(r.status, 201) << r.body;
  std::string secret = Body(r)["secret"];
  EXPECT_EQ(Body(Call("GET", "/api/v1/zones", secret)).size(), 1u);
  r = Call("GET", "/api/v1/auth/tokens", "admin-token-0123456789");
  EXPECT_EQ(r.body.find(secret), std::string::npos);
  EXPECT_EQ(r.body.find("token-a-0123456789"), std::string::npos);
  EXPECT_EQ(Call("POST", "/api/v1/auth/tokens", "unix", R"({"name": "d", "secret": "short"})").status, 422);
  EXPECT_EQ(Call("POST", "/api/v1/auth/tokens", "unix", R"({"name": "d", "scope": [{"zone": "a..b"}]})").status, 422);
  EXPECT_EQ(Call("POST", "/api/v1/auth/users", "unix", R"({"name": "u", "password": "pw"})").status, 201);
  EXPECT_EQ(policy_->AuthenticateUser("u", "pw")->name, "u");
  r = Call("POST", "/api/v1/auth/tsig-keys", "unix", R"({"name": "k1", "algorithm": "hmac-sha512"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Body(r)["name"], "k1.");
  EXPECT_NE(policy_->Keyring()->Find(dns::Name::FromText("k1.").value()), nullptr);
  EXPECT_EQ(Call("DELETE", "/api/v1/auth/tsig-keys/k1.", "unix").status, 204);
  EXPECT_EQ(Call("DELETE", "/api/v1/auth/tokens/a", "unix").status, 409);
  EXPECT_EQ(Call("DELETE", "/api/v1/auth/tokens/c", "unix").status, 204);
  EXPECT_EQ(Call("GET", "/api/v1/zones", secret).status, 401);
}

}  // namespace
}  // namespace berth::api
