#include "api/zone_write_request.h"

#include <gtest/gtest.h>

#include "dns/wire/types.h"

namespace berth::api {
namespace {

using nlohmann::json;

dns::Name Zone() { return *dns::Name::FromText("a.internal."); }

TEST(ZoneWriteRequest, ParsesAReplaceAndADelete) {
  auto r = ParseRRset(json::parse(R"({"name": "www.a.internal", "type": "a", "ttl": 60, "changetype": "replace",
                                      "records": [{"content": "10.0.0.1"}, {"content": "10.0.0.2", "disabled": false}]})"),
                      Zone(), 0, /*patch=*/true);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->owner.ToText(), "www.a.internal.");
  EXPECT_EQ(r->type, dns::type::kA);
  EXPECT_FALSE(r->remove);
  ASSERT_EQ(r->records.size(), 2u);
  EXPECT_EQ(r->records[1].ttl, 60u);
  EXPECT_EQ(r->records[1].rdata, std::string("\x0a\0\0\x02", 4));
  EXPECT_EQ(r->label, "www.a.internal. A");
  auto d = ParseRRset(json::parse(R"({"name": "old.a.internal.", "type": "TXT", "changetype": "DELETE"})"), Zone(), 3, true);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_TRUE(d->remove);
  EXPECT_TRUE(d->records.empty());
}

TEST(ZoneWriteRequest, ErrorsNameTheRRsetAndRecord) {
  struct Case {
    const char* body;
    const char* want;
  };
  const Case cases[] = {
      {R"([])", "rrsets[2]: expected an object"},
      {R"({"name": "", "type": "A"})", "rrsets[2]: name is empty"},
      {R"({"name": "x.a.internal.", "type": "BOGUS"})", "unknown record type 'BOGUS'"},
      {R"({"name": "x.a.internal.", "type": "ANY", "changetype": "DELETE"})", "unknown record type 'ANY'"},
      {R"({"name": "x.b.internal.", "type": "A", "changetype": "DELETE"})", "(x.b.internal. A): name is outside zone"},
      {R"({"name": "x.a.internal.", "type": "A", "changetype": "ADD"})", "changetype must be REPLACE or DELETE"},
      {R"({"name": "x.a.internal.", "type": "A", "changetype": "REPLACE", "records": []})", "ttl is missing"},
      {R"({"name": "x.a.internal.", "type": "A", "changetype": "REPLACE", "ttl": -1, "records": []})", "ttl must be"},
      {R"({"name": "x.a.internal.", "type": "A", "changetype": "REPLACE", "ttl": 1, "records": {}})", "records must be a list"},
      {R"({"name": "x.a.internal.", "type": "A", "changetype": "REPLACE", "ttl": 1, "records": [{"content": 5}]})",
       "records[0]: expected {\"content\""},
      {R"({"name": "x.a.internal.", "type": "A", "changetype": "REPLACE", "ttl": 1,
           "records": [{"content": "10.0.0.1", "disabled": "yes"}]})", "records[0]: disabled must be true or false"},
      {R"({"name": "x.a.internal.", "type": "A", "changetype": "REPLACE", "ttl": 1,
           "records": [{"content": "10.0.0.1"}, {"content": "10.0.0.300"}]})", "(x.a.internal. A).records[1]: "},
  };
  for (const auto& c : cases) {
    auto r = ParseRRset(json::parse(c.body), Zone(), 2, /*patch=*/true);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.want), std::string::npos) << r.status().message();
  }
  // Without changetype (zone creation) the TTL defaults to 3600.
  auto created = ParseRRset(json::parse(R"({"name": "x.a.internal.", "type": "A", "records": [{"content": "10.0.0.1"}]})"),
                            Zone(), 0, /*patch=*/false);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->records[0].ttl, 3600u);
}

TEST(ZoneWriteRequest, SimpleUpdateDefaultsAndMessages) {
  auto u = ParseSimpleUpdate(json::parse(R"({"name": "h.a.internal", "content": "10.1.1.1"})"), Zone());
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->type, dns::type::kA);
  ASSERT_EQ(u->records.size(), 1u);
  EXPECT_EQ(u->records[0].ttl, 300u);
  auto t = ParseSimpleUpdate(json::parse(R"({"name": "h.a.internal.", "type": "TXT", "content": "\"hi\"", "ttl": 5})"), Zone());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->records[0].ttl, 5u);
  auto bad = ParseSimpleUpdate(json::parse(R"({"name": "h.a.internal.", "content": "300.1.1.1"})"), Zone());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().find("rrsets[0]"), std::string::npos) << bad.status().message();
  EXPECT_FALSE(ParseSimpleUpdate(json::parse(R"({"name": "h.a.internal."})"), Zone()).ok());  // no content
  EXPECT_FALSE(ParseSimpleUpdate(json::parse(R"([1])"), Zone()).ok());
  EXPECT_FALSE(ParseSimpleUpdate(json::parse(R"({"name": "h.a.internal.", "type": 1, "content": "x"})"), Zone()).ok());
}

TEST(ZoneWriteRequest, NewZoneGetsAnSoaAndItsNameservers) {
  auto r = NewZoneRecords(Zone(), json::parse(R"({"nameservers": ["ns1.a.internal.", "ns2.example"]})"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].type, dns::type::kSOA);
  EXPECT_EQ((*r)[1].type, dns::type::kNS);
  EXPECT_EQ((*r)[2].type, dns::type::kNS);
  auto own = NewZoneRecords(Zone(), json::parse(R"({"soa": "ns hostmaster 7 3600 600 86400 60"})"));
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  EXPECT_EQ(own->size(), 1u);
  EXPECT_FALSE(NewZoneRecords(Zone(), json::parse(R"({"nameservers": "ns1"})")).ok());
  EXPECT_FALSE(NewZoneRecords(Zone(), json::parse(R"({"nameservers": [1]})")).ok());
  EXPECT_FALSE(NewZoneRecords(Zone(), json::parse(R"({"soa": "ns hostmaster x"})")).ok());
}

}  // namespace
}  // namespace berth::api
