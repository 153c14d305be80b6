#include "auth/scope.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "dns/wire/types.h"

namespace berth::auth {
namespace {

dns::Name N(const char* text) { return dns::Name::FromText(text).value(); }

ScopeRule Rule(const char* zone, std::vector<std::string> names, std::vector<std::string> types,
               const char* access = "write") {
  auto r = ScopeRule::Make(zone, names, types, access);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return *r;
}

constexpr uint16_t kA = dns::type::kA, kAAAA = dns::type::kAAAA, kTXT = dns::type::kTXT, kMX = dns::type::kMX;

TEST(Scope, ExactApexAndAny) {
  Scope s = {Rule("internal.", {"home", "@"}, {"A", "AAAA"})};
  EXPECT_TRUE(ScopeMayWrite(s, N("internal."), N("home.internal."), kA));
  EXPECT_TRUE(ScopeMayWrite(s, N("internal."), N("internal."), kAAAA));
  EXPECT_FALSE(ScopeMayWrite(s, N("internal."), N("nas.internal."), kA));
  EXPECT_FALSE(ScopeMayWrite(s, N("internal."), N("x.home.internal."), kA));  // exact, not below
  Scope any = {Rule("internal.", {"*"}, {})};
  EXPECT_TRUE(ScopeMayWrite(any, N("internal."), N("internal."), kMX));
  EXPECT_TRUE(ScopeMayWrite(any, N("internal."), N("a.b.c.internal."), kTXT));
  EXPECT_FALSE(ScopeMayWrite(any, N("internal."), N("other."), kA));  // outside the zone
}

TEST(Scope, CaseInsensitive) {
  Scope s = {Rule("Internal.", {"HoMe", "*.DyN"}, {"a"})};
  EXPECT_TRUE(ScopeMayWrite(s, N("INTERNAL."), N("home.INTERNAL."), kA));
  EXPECT_TRUE(ScopeMayWrite(s, N("internal."), N("X.dyn.internal."), kA));
  EXPECT_TRUE(ScopeMayRead(s, N("iNtErNaL.")));
}

TEST(Scope, WildcardDepth) {
  Scope s = {Rule("internal.", {"*.dyn"}, {})};
  EXPECT_FALSE(ScopeMayWrite(s, N("internal."), N("dyn.internal."), kA));  // strictly below
  EXPECT_TRUE(ScopeMayWrite(s, N("internal."), N("a.dyn.internal."), kA));
  EXPECT_TRUE(ScopeMayWrite(s, N("internal."), N("a.b.dyn.internal."), kA));
  EXPECT_FALSE(ScopeMayWrite(s, N("internal."), N("a.xdyn.internal."), kA));
  EXPECT_FALSE(ScopeMayWrite(s, N("internal."), N("dyn.a.internal."), kA));
}

TEST(Scope, TypeLists) {
  Scope s = {Rule("internal.", {"*"}, {"A", "AAAA", "TXT"})};
  EXPECT_TRUE(ScopeMayWrite(s, N("internal."), N("x.internal."), kTXT));
  EXPECT_FALSE(ScopeMayWrite(s, N("internal."), N("x.internal."), kMX));
  EXPECT_FALSE(ScopeMayManageZone(s, N("internal.")));  // not every type
  Scope star = {Rule("internal.", {"*"}, {"*"})};
  EXPECT_TRUE(ScopeMayWrite(star, N("internal."), N("x.internal."), kMX));
  EXPECT_TRUE(ScopeMayManageZone(star, N("internal.")));
}

TEST(Scope, ReadVersusWrite) {
  Scope s = {Rule("a.internal.", {"*"}, {}, "read")};
  EXPECT_TRUE(ScopeMayRead(s, N("a.internal.")));
  EXPECT_TRUE(ScopeMayReadRecord(s, N("a.internal."), N("www.a.internal."), kA));
  EXPECT_FALSE(ScopeMayWrite(s, N("a.internal."), N("www.a.internal."), kA));
  EXPECT_FALSE(ScopeMayManageZone(s, N("a.internal.")));
  Scope w = {Rule("a.internal.", {"www"}, {"A"})};  // write implies read
  EXPECT_TRUE(ScopeMayRead(w, N("a.internal.")));
  EXPECT_TRUE(ScopeMayReadRecord(w, N("a.internal."), N("www.a.internal."), kA));
  EXPECT_FALSE(ScopeMayReadRecord(w, N("a.internal."), N("www.a.internal."), kTXT));
}

TEST(Scope, ZoneBoundaries) {
  Scope s = {Rule("a.internal.", {"*"}, {})};
  // A child zone served separately is another zone: the rule does not reach it.
  EXPECT_FALSE(ScopeMayRead(s, N("b.a.internal.")));
  EXPECT_FALSE(ScopeMayWrite(s, N("b.a.internal."), N("x.b.a.internal."), kA));
  // Nor does it reach the parent or a sibling.
  EXPECT_FALSE(ScopeMayRead(s, N("internal.")));
  EXPECT_FALSE(ScopeMayWrite(s, N("internal."), N("x.a.internal."), kA));
  EXPECT_FALSE(ScopeMayRead(s, N("b.internal.")));
  EXPECT_FALSE(ScopeMayRead(s, N("xa.internal.")));
  // Inside its zone, names under b. are still a.internal.'s when b. is no zone of its own.
  EXPECT_TRUE(ScopeMayWrite(s, N("a.internal."), N("x.b.a.internal."), kA));
  // An owner outside the zone never matches even with the right zone argument.
  EXPECT_FALSE(ScopeMayWrite(s, N("a.internal."), N("x.b.internal."), kA));
}

TEST(Scope, RuleErrors) {
  EXPECT_FALSE(ScopeRule::Make("", {}, {}, "read").ok());
  EXPECT_FALSE(ScopeRule::Make("a..b", {}, {}, "read").ok());
  EXPECT_FALSE(ScopeRule::Make("a.", {"www.a."}, {}, "read").ok());  // absolute
  EXPECT_FALSE(ScopeRule::Make("a.", {"w*"}, {}, "read").ok());
  EXPECT_FALSE(ScopeRule::Make("a.", {"x.*.y"}, {}, "read").ok());
  EXPECT_FALSE(ScopeRule::Make("a.", {""}, {}, "read").ok());
  EXPECT_FALSE(ScopeRule::Make("a.", {"*"}, {"BOGUS"}, "read").ok());
  EXPECT_FALSE(ScopeRule::Make("a.", {"*"}, {"ANY"}, "read").ok());
  auto r = ScopeRule::Make("a.", {"*"}, {}, "admin");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("read' or 'write"), std::string::npos);
  // Zone without a final dot is accepted; names default to "*".
  auto ok = ScopeRule::Make("a", {}, {}, "read");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->zone.ToText(), "a.");
  EXPECT_TRUE(ok->CoversWholeZone());
}

TEST(Scope, JsonRoundTrip) {
  Scope s = {Rule("a.internal.", {"*", "@", "*.dyn"}, {"A", "TXT"}), Rule("b.", {"www"}, {}, "read")};
  nlohmann::json j = ScopeToJson(s);
  EXPECT_EQ(j[0]["types"], nlohmann::json({"A", "TXT"}));
  EXPECT_FALSE(j[1].contains("types"));
  auto back = ScopeFromJson(j);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(ScopeToJson(*back), j);
  EXPECT_FALSE(ScopeFromJson(nlohmann::json::object()).ok());
  EXPECT_FALSE(ScopeFromJson(nlohmann::json::parse(R"([{"zone": "a.", "nmes": ["*"]}])")).ok());
  EXPECT_FALSE(ScopeFromJson(nlohmann::json::parse(R"([{"zone": 3}])")).ok());
  auto err = ScopeFromJson(nlohmann::json::parse(R"([{"zone": "a."}, {"zone": "b.", "types": ["NOPE"]}])"));
  ASSERT_FALSE(err.ok());
  EXPECT_NE(err.status().message().find("scope[1]"), std::string::npos);
}

}  // namespace
}  // namespace berth::auth
