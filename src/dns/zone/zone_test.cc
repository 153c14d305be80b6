#include "dns/zone/test_records.h"
#include "dns/zone/zone.h"

#include <gtest/gtest.h>

#include "dns/zone/zone_table.h"

namespace berth::dns {
namespace {

using test::N;
using test::R;
using test::Soa;




std::vector<Record> Base() {
  return {R("example.", type::kSOA, Soa(7, 60), 3600), R("example.", type::kNS, std::string(N("ns.example.").wire())),
          R("ns.example.", type::kA, std::string("\x0a\0\0\x01", 4)),
          R("a.b.c.example.", type::kA, std::string("\x0a\0\0\x02", 4)),
          R("*.w.example.", type::kTXT, "\x02hi"), R("sub.example.", type::kNS, std::string(N("ns.sub.example.").wire()))};
}

TEST(Zone, BuildsNodesEmptyNonTerminalsAndFlags) {
  auto z = Zone::Build(N("example."), Base());
  ASSERT_TRUE(z.ok()) << z.status().ToString();
  const Zone& zone = **z;
  EXPECT_EQ(zone.serial(), 7u);
  EXPECT_EQ(zone.negative_ttl(), 60u);
  EXPECT_EQ(zone.record_count(), 6u);
  const auto* ent = zone.Find(N("b.c.example.").wire());
  ASSERT_NE(ent, nullptr);
  EXPECT_EQ(ent->rrset_count, 0);
  EXPECT_NE(zone.Find(N("c.example.").wire()), nullptr);
  EXPECT_EQ(zone.Find(N("x.example.").wire()), nullptr);
  const auto* w = zone.Find(N("w.example.").wire());
  ASSERT_NE(w, nullptr);
  EXPECT_TRUE(w->flags & Zone::kHasWildcardChild);
  EXPECT_TRUE(zone.Find(N("sub.example.").wire())->flags & Zone::kDelegation);
  EXPECT_FALSE(zone.apex()->flags & Zone::kDelegation);
  auto records = zone.Records();
  ASSERT_EQ(records.size(), 6u);
  EXPECT_EQ(records[0].type, type::kSOA);
}

TEST(Zone, LookupIgnoresCaseAndKeepsZoneCase) {
  auto recs = Base();
  recs.push_back(R("MiXeD.example.", type::kA, std::string("\x0a\0\0\x03", 4)));
  auto z = Zone::Build(N("example."), recs);
  ASSERT_TRUE(z.ok());
  const auto* n = (*z)->Find(N("mixed.example.").wire());
  ASSERT_NE(n, nullptr);
  EXPECT_EQ((*z)->NodeName(*n), N("MiXeD.example.").wire());
}

TEST(Zone, RejectsBadZones) {
  auto no_soa = Base();
  no_soa.erase(no_soa.begin());
  EXPECT_FALSE(Zone::Build(N("example."), no_soa).ok());
  auto outside = Base();
  outside.push_back(R("www.other.", type::kA, std::string(4, '\1')));
  EXPECT_NE(Zone::Build(N("example."), outside).status().message().find("outside"), std::string::npos);
  auto cname_clash = Base();
  cname_clash.push_back(R("ns.example.", type::kCNAME, std::string(N("x.example.").wire())));
  EXPECT_NE(Zone::Build(N("example."), cname_clash).status().message().find("CNAME and other data"), std::string::npos);
  auto two_soa = Base();
  two_soa.push_back(R("example.", type::kSOA, Soa(8, 60)));
  EXPECT_FALSE(Zone::Build(N("example."), two_soa).ok());
  auto bad_rdata = Base();
  bad_rdata.push_back(R("x.example.", type::kA, "abc"));
  EXPECT_FALSE(Zone::Build(N("example."), bad_rdata).ok());
}

TEST(ZoneTable, LongestMatchAndPublishing) {
  auto parent = *Zone::Build(N("example."), Base());
  std::vector<Record> child_recs = {R("sub.example.", type::kSOA, Soa(1, 30))};
  auto child = *Zone::Build(N("sub.example."), child_recs);
  ZoneTable table;
  ZoneSnapshot snap(table);
  EXPECT_EQ(snap.current().FindZone(N("x.example.").wire()), nullptr);
  table.Update([&](const ZoneSet& s) { return s.With(parent); });
  table.Update([&](const ZoneSet& s) { return s.With(child); });
  const ZoneSet& set = snap.Refresh();
  EXPECT_EQ(set.FindZone(N("a.sub.example.").wire())->origin(), N("sub.example."));
  EXPECT_EQ(set.FindZone(N("a.example.").wire())->origin(), N("example."));
  EXPECT_EQ(set.FindZone(N("example.").wire())->origin(), N("example."));
  EXPECT_EQ(set.FindZone(N("org.").wire()), nullptr);
  table.Update([&](const ZoneSet& s) { return s.Without(N("sub.example.")); });
  EXPECT_EQ(snap.Refresh().FindZone(N("a.sub.example.").wire())->origin(), N("example."));
}

}  // namespace
}  // namespace berth::dns
