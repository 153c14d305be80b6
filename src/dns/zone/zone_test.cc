#include "dns/zone/test_records.h"
#include "dns/zone/zone.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

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

// Build sorts records by precomputed byte keys and derives empty non-terminals from the sorted
// order; this checks it against the plain definition on names chosen to trip byte keys up:
// 0x00 and 0x01 bytes, a label that extends another, mixed case, deep empty non-terminals,
// duplicates in small and large RRsets, shuffled input.
TEST(Zone, BuildAgreesWithTheDefinitionOnAwkwardNames) {
  const std::vector<std::string> labels = {"a", "A", "a\\000", "a\\001", "\\000", "\\001", "ab", "a-", "b", "zz", "*"};
  std::mt19937 rng(7);
  std::vector<Record> recs = {R("example.", type::kSOA, Soa(3, 60), 3600)};
  for (int i = 0; i < 400; ++i) {
    std::string owner;
    for (int depth = 1 + static_cast<int>(rng() % 4); depth > 0; --depth) owner += labels[rng() % labels.size()] + ".";
    const uint16_t t = rng() % 3 == 0 ? type::kTXT : type::kA;
    const uint8_t v = static_cast<uint8_t>(rng() % 20);  // few values: duplicates happen
    std::string rdata = t == type::kA ? std::string("\x0a\0\0", 3) + static_cast<char>(v) : std::string(1, '\1') + static_cast<char>('a' + v);
    recs.push_back(R(owner + "example.", t, rdata, 100 + i));
  }
  for (int i = 0; i < 30; ++i)  // one RRset with more than 8 items, duplicates included
    recs.push_back(R("big.example.", type::kA, std::string("\x0a\0\1", 3) + static_cast<char>(i % 12), 50 + i));
  std::shuffle(recs.begin() + 1, recs.end(), rng);

  // The definition: nodes in canonical order with every ancestor up to the origin, each named
  // as its first record; RRsets by type, items in input order without duplicates, first TTL.
  struct Want {
    std::string spelling;
    std::map<uint16_t, std::pair<uint32_t, std::vector<std::string>>> sets;
  };
  std::map<Name, Want> want;  // Name's operator< is canonical order, case-insensitive
  for (const auto& r : recs) {
    Want& w = want.try_emplace(r.name, Want{std::string(r.name.wire()), {}}).first->second;
    auto& [ttl, items] = w.sets.try_emplace(r.type, r.ttl, std::vector<std::string>{}).first->second;
    if (std::find(items.begin(), items.end(), r.rdata) == items.end()) items.push_back(r.rdata);
  }
  std::set<Name> ents;
  for (const auto& [name, w] : want)
    for (Name p = name.Parent(); p.IsSubdomainOf(N("example.")) && !(p == N("example.")); p = p.Parent())
      if (!want.count(p)) ents.insert(p);

  auto z = Zone::Build(N("example."), recs);
  ASSERT_TRUE(z.ok()) << z.status().ToString();
  const Zone& zone = **z;
  EXPECT_EQ(zone.node_count(), want.size() + ents.size());
  for (const auto& e : ents) {
    const auto* n = zone.Find(e.Lowercased().wire());
    ASSERT_NE(n, nullptr) << e.ToText();
    EXPECT_EQ(n->rrset_count, 0) << e.ToText();
    EXPECT_EQ(Name::FromWire(zone.NodeName(*n))->Lowercased().wire(), e.Lowercased().wire());
  }
  // Records(): SOA first, then the canonical order; rebuild the per-node view from it.
  auto got = zone.Records();
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got[0].type, type::kSOA);
  std::vector<Record> expected;
  for (const auto& [name, w] : want)
    for (const auto& [type, set] : w.sets)
      for (const auto& rd : set.second)
        expected.push_back(Record{*Name::FromWire(w.spelling), type, cls::kIN, set.first, rd});
  std::stable_partition(expected.begin(), expected.end(), [](const Record& r) { return r.type == type::kSOA; });
  ASSERT_EQ(got.size(), expected.size());
  EXPECT_EQ(zone.record_count(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].name.wire(), expected[i].name.wire()) << i << ": " << got[i].name.ToText() << " vs " << expected[i].name.ToText();
    EXPECT_EQ(got[i].type, expected[i].type) << got[i].name.ToText();
    EXPECT_EQ(got[i].ttl, expected[i].ttl) << got[i].name.ToText();
    EXPECT_EQ(got[i].rdata, expected[i].rdata) << got[i].name.ToText();
  }
  for (const auto& [name, w] : want) {
    const auto* n = zone.Find(name.Lowercased().wire());
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(static_cast<bool>(n->flags & Zone::kHasWildcardChild), want.count(*name.WildcardChild()) > 0 || ents.count(*name.WildcardChild()) > 0);
  }
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
