#include "auth/policy.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "dns/wire/types.h"

namespace berth::auth {
namespace {

dns::Name N(const char* text) { return dns::Name::FromText(text).value(); }
constexpr uint16_t kA = dns::type::kA, kTXT = dns::type::kTXT;

Scope S(const char* zone, std::vector<std::string> names, std::vector<std::string> types, const char* access) {
  return {ScopeRule::Make(zone, names, types, access).value()};
}

AuthConfig TwoTenants() {
  AuthConfig c;
  c.admin_token = Secret::Plain("admin-secret-token");
  c.tokens.push_back({"tenant-a", Secret::Plain("token-a-secret"), S("a.internal.", {"*"}, {}, "write")});
  c.tokens.push_back({"tenant-b", Secret::Plain("token-b-secret"), S("b.internal.", {"*"}, {"A"}, "write")});
  c.tokens.push_back({"hashed", Secret::CryptHash(HashPassword("crypt-token").value()).value(),
                      S("a.internal.", {"*"}, {}, "read")});
  c.users.push_back({"home", Secret::CryptHash(HashPassword("pw").value()).value(),
                     S("internal.", {"home", "nas"}, {"A", "AAAA"}, "write")});
  c.tsig_keys.push_back({dns::TsigKey::Make("ddns-key.", "hmac-sha256", "c2VjcmV0c2VjcmV0").value(),
                         S("internal.", {"*.dyn"}, {"A", "AAAA"}, "write")});
  return c;
}

TEST(Policy, Authenticate) {
  auto p = AuthPolicy::Make(TwoTenants(), nullptr).value();
  EXPECT_TRUE(p->AuthenticateBearer("admin-secret-token")->is_admin());
  EXPECT_EQ(p->AuthenticateBearer("token-a-secret")->name, "tenant-a");
  EXPECT_EQ(p->AuthenticateBearer("crypt-token")->name, "hashed");
  EXPECT_EQ(p->AuthenticateBearer("crypt-token")->name, "hashed");  // from the cache
  EXPECT_EQ(p->AuthenticateBearer("nope").status().code(), Code::kUnauthenticated);
  EXPECT_EQ(p->AuthenticateUser("home", "pw")->name, "home");
  EXPECT_FALSE(p->AuthenticateUser("home", "PW").ok());
  EXPECT_FALSE(p->AuthenticateUser("nobody", "pw").ok());
  EXPECT_FALSE(p->AuthenticateUser("tenant-a", "token-a-secret").ok());  // tokens are not users
}

TEST(Policy, TenantsAreIsolated) {
  auto p = AuthPolicy::Make(TwoTenants(), nullptr).value();
  Principal a = Principal::Token("tenant-a"), b = Principal::Token("tenant-b");
  std::vector<dns::Name> zones = {N("a.internal."), N("b.internal."), N("internal.")};
  EXPECT_EQ(p->VisibleZones(a, zones), std::vector<dns::Name>{N("a.internal.")});
  EXPECT_EQ(p->VisibleZones(b, zones), std::vector<dns::Name>{N("b.internal.")});
  EXPECT_EQ(p->VisibleZones(Principal::Admin(), zones).size(), 3u);
  EXPECT_FALSE(p->MayRead(b, N("a.internal.")));
  EXPECT_FALSE(p->MayWrite(b, N("a.internal."), N("www.a.internal."), kA));
  EXPECT_TRUE(p->MayWrite(a, N("a.internal."), N("www.a.internal."), kTXT));
  EXPECT_FALSE(p->MayWrite(b, N("b.internal."), N("www.b.internal."), kTXT));
  EXPECT_TRUE(p->MayManageZone(a, N("a.internal.")));
  EXPECT_FALSE(p->MayManageZone(b, N("b.internal.")));  // type-limited
  EXPECT_FALSE(p->MayWrite(Principal::Token("hashed"), N("a.internal."), N("x.a.internal."), kA));
  EXPECT_FALSE(p->MayRead(Principal::Token("ghost"), N("a.internal.")));
  Principal key = Principal::TsigKey(N("DDNS-Key."));
  EXPECT_TRUE(p->MayWrite(key, N("internal."), N("pc.dyn.internal."), kA));
  EXPECT_FALSE(p->MayWrite(key, N("internal."), N("home.internal."), kA));
  EXPECT_TRUE(p->MayWrite(Principal::User("home"), N("internal."), N("nas.internal."), kA));
  EXPECT_FALSE(p->MayWrite(Principal::User("home"), N("internal."), N("nas.internal."), kTXT));
}

TEST(Policy, Keyring) {
  auto p = AuthPolicy::Make(TwoTenants(), nullptr).value();
  auto ring = p->Keyring();
  ASSERT_NE(ring->Find(N("ddns-key.")), nullptr);
  ASSERT_TRUE(p->CreateTsigKey(dns::TsigKey::Make("k2.", "hmac-sha512", "c2VjcmV0").value(),
                               S("internal.", {"*"}, {}, "write")).ok());
  EXPECT_EQ(ring->size(), 1u);  // an old snapshot stays as it was
  EXPECT_EQ(p->Keyring()->size(), 2u);
  EXPECT_NE(p->Keyring()->Find(N("K2.")), nullptr);
  EXPECT_TRUE(p->Remove(CredentialKind::kTsigKey, "K2").ok());
  EXPECT_EQ(p->Keyring()->size(), 1u);
}

TEST(Policy, ConfigErrors) {
  AuthConfig c = TwoTenants();
  c.tokens.push_back({"tenant-a", Secret::Plain("x-secret-other"), {}});
  EXPECT_EQ(AuthPolicy::Make(c, nullptr).status().code(), Code::kAlreadyExists);
  c = TwoTenants();
  c.tokens.push_back({"dup", Secret::Plain("token-a-secret"), {}});
  EXPECT_EQ(AuthPolicy::Make(c, nullptr).status().code(), Code::kAlreadyExists);
}

class PolicyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("berth-auth-" + std::to_string(getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(PolicyStoreTest, RuntimeCredentialsPersist) {
  {
    auto store = store::Store::Open(dir_.string()).value();
    auto p = AuthPolicy::Make(TwoTenants(), store.get()).value();
    ASSERT_TRUE(p->CreateToken("tenant-c", Secret::Sha256Of("token-c-secret"), S("c.internal.", {"*"}, {}, "write")).ok());
    ASSERT_TRUE(p->CreateUser("router", Secret::CryptHash(HashPassword("pw2").value()).value(),
                              S("internal.", {"router"}, {"A"}, "write")).ok());
    ASSERT_TRUE(p->CreateTsigKey(dns::TsigKey::Make("rt-key.", "hmac-md5", "c2VjcmV0").value(), {}).ok());
    // Name clashes with config or runtime credentials are refused and change nothing.
    auto clash = p->CreateToken("tenant-a", Secret::Sha256Of("zzzzzzzzzzzzzzzz"), {});
    EXPECT_EQ(clash.code(), Code::kAlreadyExists);
    EXPECT_NE(clash.message().find("config"), std::string::npos);
    EXPECT_EQ(p->CreateToken("tenant-c", Secret::Sha256Of("other-secret-xx"), {}).code(), Code::kAlreadyExists);
    EXPECT_EQ(p->CreateToken("same-secret", Secret::Sha256Of("token-a-secret"), {}).code(), Code::kAlreadyExists);
    EXPECT_EQ(p->CreateToken("bad name", Secret::Sha256Of("token-x-secret"), {}).code(), Code::kInvalidArgument);
    EXPECT_EQ(p->Remove(CredentialKind::kToken, "tenant-a").code(), Code::kFailedPrecondition);
    EXPECT_EQ(p->Remove(CredentialKind::kToken, "nobody").code(), Code::kNotFound);
    EXPECT_EQ(p->AuthenticateBearer("token-c-secret")->name, "tenant-c");
  }
  auto store = store::Store::Open(dir_.string()).value();
  auto p = AuthPolicy::Make(TwoTenants(), store.get()).value();
  EXPECT_EQ(p->AuthenticateBearer("token-c-secret")->name, "tenant-c");
  EXPECT_TRUE(p->MayWrite(Principal::Token("tenant-c"), N("c.internal."), N("x.c.internal."), kA));
  EXPECT_EQ(p->AuthenticateUser("router", "pw2")->name, "router");
  const dns::TsigKey* k = p->Keyring()->Find(N("rt-key."));
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->algorithm, dns::TsigAlgorithm::kHmacMd5);
  EXPECT_EQ(k->secret, "secret");
  auto tokens = p->List(CredentialKind::kToken);
  ASSERT_EQ(tokens.size(), 4u);
  EXPECT_EQ(tokens[3].name, "tenant-c");  // by name: hashed, tenant-a, tenant-b, tenant-c
  EXPECT_FALSE(tokens[3].from_config);
  EXPECT_TRUE(tokens[0].from_config);
  ASSERT_TRUE(p->Remove(CredentialKind::kToken, "tenant-c").ok());
  EXPECT_FALSE(p->AuthenticateBearer("token-c-secret").ok());
  auto again = AuthPolicy::Make(TwoTenants(), store.get()).value();
  EXPECT_FALSE(again->AuthenticateBearer("token-c-secret").ok());
}

TEST_F(PolicyStoreTest, ConfigShadowsStored) {
  auto store = store::Store::Open(dir_.string()).value();
  {
    auto p = AuthPolicy::Make({}, store.get()).value();
    ASSERT_TRUE(p->CreateToken("tenant-a", Secret::Sha256Of("stored-a-secret"), S("z.", {"*"}, {}, "write")).ok());
  }
  auto p = AuthPolicy::Make(TwoTenants(), store.get()).value();
  EXPECT_FALSE(p->AuthenticateBearer("stored-a-secret").ok());
  EXPECT_EQ(p->AuthenticateBearer("token-a-secret")->name, "tenant-a");
  // Reconfigure keeps runtime credentials and swaps config ones.
  ASSERT_TRUE(p->CreateToken("rt", Secret::Sha256Of("runtime-secret-x"), {}).ok());
  ASSERT_TRUE(p->Reconfigure({}).ok());
  EXPECT_EQ(p->AuthenticateBearer("stored-a-secret")->name, "tenant-a");
  EXPECT_EQ(p->AuthenticateBearer("runtime-secret-x")->name, "rt");
  EXPECT_FALSE(p->AuthenticateBearer("admin-secret-token").ok());
}

TEST(Policy, ConcurrentReadersAndWriters) {
  auto p = AuthPolicy::Make(TwoTenants(), nullptr).value();
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop.load()) {
      ASSERT_TRUE(p->AuthenticateBearer("token-a-secret").ok());
      ASSERT_NE(p->Keyring()->Find(N("ddns-key.")), nullptr);
    }
  });
  for (int i = 0; i < 200; ++i) {
    std::string name = "t" + std::to_string(i);
    ASSERT_TRUE(p->CreateToken(name, Secret::Sha256Of("secret-" + name), {}).ok());
    if (i % 2) ASSERT_TRUE(p->Remove(CredentialKind::kToken, name).ok());
  }
  stop = true;
  reader.join();
  EXPECT_EQ(p->List(CredentialKind::kToken).size(), 103u);
}

}  // namespace
}  // namespace berth::auth
