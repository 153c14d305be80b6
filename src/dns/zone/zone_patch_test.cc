#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "dns/zone/test_records.h"
#include "dns/zone/zone.h"

namespace berth::dns {
namespace {

using test::N;
using test::R;
using test::Soa;

using Change = Zone::RRsetChange;

std::string W(std::string_view t) { return std::string(N(t).wire()); }

std::string A(uint8_t last) { return std::string("\x0a\0\0", 3) + static_cast<char>(last); }

Change C(std::string_view owner, uint16_t type, std::vector<Record> records = {}) {
  return Change{N(owner), type, std::move(records)};
}

std::vector<Record> Base() {
  return {R("example.", type::kSOA, Soa(7, 60), 3600), R("example.", type::kNS, W("ns.example.")),
          R("ns.example.", type::kA, A(1)),           R("a.b.c.example.", type::kA, A(2)),
          R("*.w.example.", type::kTXT, "\x02hi"),     R("sub.example.", type::kNS, W("ns.sub.example."))};
}

std::shared_ptr<const Zone> BuildOk(const std::vector<Record>& records) {
  auto z = Zone::Build(N("example."), records);
  EXPECT_TRUE(z.ok()) << z.status().ToString();
  return z.ok() ? *z : nullptr;
}

// Reference semantics: Build of `zone`'s records with the changed RRsets replaced, in
// Records() order (SOA first, then owner in canonical order, then type).
Result<std::shared_ptr<const Zone>> Reference(const Zone& zone, std::span<const Change> changes) {
  std::map<std::pair<std::string, uint16_t>, std::vector<Record>> sets;
  for (auto& r : zone.Records()) sets[{r.name.CanonicalSortKey(), r.type}].push_back(r);
  for (const auto& c : changes) {
    if (c.records.empty()) sets.erase({c.owner.CanonicalSortKey(), c.type});
    else sets[{c.owner.CanonicalSortKey(), c.type}] = c.records;
  }
  std::vector<Record> records;
  const std::string apex = zone.origin().CanonicalSortKey();
  if (auto soa = sets.find({apex, type::kSOA}); soa != sets.end()) records = soa->second;
  for (const auto& [key, set] : sets)
    if (!(key.first == apex && key.second == type::kSOA)) records.insert(records.end(), set.begin(), set.end());
  return Zone::Build(zone.origin(), records);
}

std::vector<std::string> Rdatas(const Zone& z, const Zone::RRset& set) {
  std::vector<std::string> out;
  z.ForEachRdata(set, [&](std::string_view r) { out.emplace_back(r); });
  return out;
}

// Everything the query path can observe, for each name in `probes` (any case).
void ExpectSame(const Zone& got, const Zone& want, const std::vector<Name>& probes) {
  EXPECT_EQ(got.serial(), want.serial());
  EXPECT_EQ(got.negative_ttl(), want.negative_ttl());
  EXPECT_EQ(got.record_count(), want.record_count());
  EXPECT_EQ(got.node_count(), want.node_count());
  EXPECT_EQ(got.NodeName(*got.apex()), want.NodeName(*want.apex()));
  auto gr = got.Records(), wr = want.Records();
  ASSERT_EQ(gr.size(), wr.size());
  for (size_t i = 0; i < gr.size(); ++i) {
    EXPECT_EQ(gr[i].name.wire(), wr[i].name.wire()) << i << " " << wr[i].name.ToText();
    EXPECT_EQ(gr[i], wr[i]) << i << " " << wr[i].name.ToText();
  }
  for (const Name& probe : probes) {
    std::string key(probe.Lowercased().wire());
    const Zone::Node* g = got.Find(key);
    const Zone::Node* w = want.Find(key);
    ASSERT_EQ(g == nullptr, w == nullptr) << probe.ToText();
    if (!w) continue;
    EXPECT_EQ(g->flags, w->flags) << probe.ToText();
    ASSERT_EQ(g->rrset_count, w->rrset_count) << probe.ToText();
    // Build spells an empty non-terminal after any name below it: compare those without case.
    if (w->rrset_count > 0) EXPECT_EQ(got.NodeName(*g), want.NodeName(*w)) << probe.ToText();
    else EXPECT_TRUE(WireNamesEqual(got.NodeName(*g), want.NodeName(*w))) << probe.ToText();
    for (uint16_t i = 0; i < w->rrset_count; ++i) {
      const Zone::RRset& gs = got.RRsetsOf(*g)[i];
      const Zone::RRset& ws = want.RRsetsOf(*w)[i];
      EXPECT_EQ(gs.type, ws.type);
      EXPECT_EQ(gs.ttl, ws.ttl);
      EXPECT_EQ(Rdatas(got, gs), Rdatas(want, ws)) << probe.ToText() << " " << ws.type;
      EXPECT_EQ(got.FindRRset(*g, ws.type), &gs);
    }
  }
}

std::vector<Name> Probes(std::vector<std::string_view> texts) {
  std::vector<Name> out;
  for (auto t : texts) out.push_back(N(t));
  return out;
}

const std::vector<Name> kBaseProbes =
    Probes({"example.", "ns.example.", "a.b.c.example.", "b.c.example.", "c.example.", "*.w.example.",
            "w.example.", "sub.example.", "x.example.", "y.x.example.", "*.example.", "d.example."});

// Patches `base` and checks the result against Build of the same records.
std::shared_ptr<const Zone> PatchOk(const Zone& base, std::vector<Change> changes,
                                    const std::vector<Name>& probes = kBaseProbes) {
  auto want = Reference(base, changes);
  EXPECT_TRUE(want.ok()) << want.status().ToString();
  auto got = Zone::Patch(base, changes);
  EXPECT_TRUE(got.ok()) << got.status().ToString();
  if (!got.ok() || !want.ok()) return nullptr;
  ExpectSame(**got, **want, probes);
  return *got;
}

TEST(ZonePatch, NewNameCreatesEmptyNonTerminals) {
  auto base = BuildOk(Base());
  auto z = PatchOk(*base, {C("y.x.example.", type::kA, {R("y.x.example.", type::kA, A(9))})});
  ASSERT_TRUE(z);
  const auto* x = z->Find(W("x.example."));
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->rrset_count, 0);  // NODATA, not NXDOMAIN
  EXPECT_EQ(z->record_count(), base->record_count() + 1);
  // The old snapshot is untouched.
  EXPECT_EQ(base->Find(W("x.example.")), nullptr);
  ExpectSame(*base, *BuildOk(Base()), kBaseProbes);
}

TEST(ZonePatch, LastRRsetGoneRemovesNameAndItsEmptyNonTerminals) {
  auto base = BuildOk(Base());
  auto z = PatchOk(*base, {C("a.b.c.example.", type::kA)});
  ASSERT_TRUE(z);
  EXPECT_EQ(z->Find(W("a.b.c.example.")), nullptr);
  EXPECT_EQ(z->Find(W("b.c.example.")), nullptr);
  EXPECT_EQ(z->Find(W("c.example.")), nullptr);
}

TEST(ZonePatch, NameWithDataBelowBecomesEmptyNonTerminal) {
  auto recs = Base();
  recs.push_back(R("c.example.", type::kTXT, "\x01x"));
  auto base = BuildOk(recs);
  auto z = PatchOk(*base, {C("c.example.", type::kTXT)});
  ASSERT_TRUE(z);
  ASSERT_NE(z->Find(W("c.example.")), nullptr);
  EXPECT_EQ(z->Find(W("c.example."))->rrset_count, 0);
  // And once the data below goes too, so does it.
  z = PatchOk(*z, {C("a.b.c.example.", type::kA)});
  ASSERT_TRUE(z);
  EXPECT_EQ(z->Find(W("c.example.")), nullptr);
  // An empty non-terminal that gains data, and a sibling that keeps the parent alive.
  z = PatchOk(*base, {C("b.c.example.", type::kA, {R("b.c.example.", type::kA, A(3))}),
                      C("a.b.c.example.", type::kA), C("c.example.", type::kTXT)});
  ASSERT_TRUE(z);
  EXPECT_EQ(z->Find(W("a.b.c.example.")), nullptr);
  EXPECT_EQ(z->Find(W("c.example."))->rrset_count, 0);
}

TEST(ZonePatch, WildcardsSetAndClearTheParentFlag) {
  auto base = BuildOk(Base());
  auto z = PatchOk(*base, {C("*.x.example.", type::kA, {R("*.x.example.", type::kA, A(4))}),
                           C("*.w.example.", type::kTXT)});
  ASSERT_TRUE(z);
  EXPECT_TRUE(z->Find(W("x.example."))->flags & Zone::kHasWildcardChild);
  EXPECT_EQ(z->Find(W("w.example.")), nullptr);
  // A wildcard under the apex flags the apex.
  z = PatchOk(*z, {C("*.example.", type::kA, {R("*.example.", type::kA, A(5))})});
  ASSERT_TRUE(z);
  EXPECT_TRUE(z->apex()->flags & Zone::kHasWildcardChild);
  z = PatchOk(*z, {C("*.example.", type::kA)});
  ASSERT_TRUE(z);
  EXPECT_FALSE(z->apex()->flags & Zone::kHasWildcardChild);
  // A wildcard that is only an empty non-terminal still counts.
  z = PatchOk(*base, {C("a.*.c.example.", type::kA, {R("a.*.c.example.", type::kA, A(6))})});
  ASSERT_TRUE(z);
  EXPECT_TRUE(z->Find(W("c.example."))->flags & Zone::kHasWildcardChild);
}

TEST(ZonePatch, DelegationsComeAndGo) {
  auto base = BuildOk(Base());
  auto z = PatchOk(*base, {C("d.example.", type::kNS, {R("d.example.", type::kNS, W("ns.d.example."))}),
                           C("sub.example.", type::kNS),
                           C("example.", type::kNS, {R("example.", type::kNS, W("ns2.example."))})});
  ASSERT_TRUE(z);
  EXPECT_TRUE(z->Find(W("d.example."))->flags & Zone::kDelegation);
  EXPECT_EQ(z->Find(W("sub.example.")), nullptr);
  EXPECT_FALSE(z->apex()->flags & Zone::kDelegation);
}

TEST(ZonePatch, SoaChangeMovesSerialAndNegativeTtl) {
  auto base = BuildOk(Base());
  auto z = PatchOk(*base, {C("example.", type::kSOA, {R("example.", type::kSOA, Soa(8, 30), 20)})});
  ASSERT_TRUE(z);
  EXPECT_EQ(z->serial(), 8u);
  EXPECT_EQ(z->negative_ttl(), 20u);
  EXPECT_EQ(z->Records()[0].rdata, Soa(8, 30));
  EXPECT_EQ(base->serial(), 7u);
}

TEST(ZonePatch, SpellingFollowsBuild) {
  auto base = BuildOk(Base());
  auto z = PatchOk(*base, {C("MiXeD.example.", type::kTXT, {R("MiXeD.example.", type::kTXT, "\x01x")})});
  ASSERT_TRUE(z);
  EXPECT_EQ(z->NodeName(*z->Find(W("mixed.example."))), W("MiXeD.example."));
  // A higher type keeps the node's spelling; the lowest type's first record sets it.
  z = PatchOk(*z, {C("mixed.example.", type::kAAAA, {R("mixed.example.", type::kAAAA, std::string(16, '\1'))})});
  EXPECT_EQ(z->NodeName(*z->Find(W("mixed.example."))), W("MiXeD.example."));
  z = PatchOk(*z, {C("MIXED.example.", type::kA, {R("MIXED.example.", type::kA, A(1)), R("mixed.example.", type::kA, A(2))})});
  EXPECT_EQ(z->NodeName(*z->Find(W("mixed.example."))), W("MIXED.example."));
  z = PatchOk(*z, {C("Example.", type::kSOA, {R("Example.", type::kSOA, Soa(9, 60))})});
  EXPECT_EQ(z->NodeName(*z->apex()), W("Example."));
}

TEST(ZonePatch, CollapsesDuplicatesAndTakesFirstTtl) {
  auto base = BuildOk(Base());
  auto z = PatchOk(*base, {C("ns.example.", type::kA, {R("ns.example.", type::kA, A(1), 10), R("ns.example.", type::kA, A(1), 20),
                                                         R("ns.example.", type::kA, A(3), 30)})});
  ASSERT_TRUE(z);
  const auto* set = z->FindRRset(*z->Find(W("ns.example.")), type::kA);
  EXPECT_EQ(set->count, 2);
  EXPECT_EQ(set->ttl, 10u);
  // A later change of the same RRset wins.
  z = PatchOk(*base, {C("q.example.", type::kA, {R("q.example.", type::kA, A(1))}), C("q.example.", type::kA)});
  ASSERT_TRUE(z);
  EXPECT_EQ(z->Find(W("q.example.")), nullptr);
}

TEST(ZonePatch, RefusesWhatBuildRefuses) {
  auto base = BuildOk(Base());
  std::vector<std::vector<Change>> bad = {
      {C("ns.example.", type::kCNAME, {R("ns.example.", type::kCNAME, W("x.example."))})},
      {C("example.", type::kCNAME, {R("example.", type::kCNAME, W("x.example."))})},
      {C("q.example.", type::kCNAME, {R("q.example.", type::kCNAME, W("x.example.")), R("q.example.", type::kCNAME, W("y.example."))})},
      {C("example.", type::kSOA)},
      {C("example.", type::kSOA, {R("example.", type::kSOA, Soa(8, 60)), R("example.", type::kSOA, Soa(9, 60))})},
      {C("q.example.", type::kSOA, {R("q.example.", type::kSOA, Soa(8, 60))})},
      {C("www.other.", type::kA, {R("www.other.", type::kA, A(1))})},
      {C("q.example.", type::kA, {R("q.example.", type::kA, "abc")})},
      {C("q.example.", type::kA, {Record{N("q.example."), type::kA, cls::kCH, 300, A(1)}})},
      {C("q.example.", type::kANY, {R("q.example.", type::kANY, "")})},
  };
  for (const auto& changes : bad) {
    auto want = Reference(*base, changes);
    auto got = Zone::Patch(*base, changes);
    ASSERT_FALSE(want.ok());
    ASSERT_FALSE(got.ok()) << want.status().ToString();
    EXPECT_EQ(got.status().code(), Code::kInvalidArgument);
    EXPECT_EQ(got.status().message(), want.status().message());
  }
  // Not Build's: a record filed under another RRset.
  auto got = Zone::Patch(*base, std::vector<Change>{C("q.example.", type::kA, {R("r.example.", type::kA, A(1))})});
  EXPECT_EQ(got.status().code(), Code::kInvalidArgument);
  // Removing what is not there (even outside the zone) changes nothing.
  PatchOk(*base, {C("nothing.example.", type::kA), C("www.other.", type::kA), C("ns.example.", type::kMX)});
}

TEST(ZonePatch, OlderSnapshotsPatchIndependently) {
  auto base = BuildOk(Base());
  auto first = PatchOk(*base, {C("p.example.", type::kA, {R("p.example.", type::kA, A(1))})});
  auto second = PatchOk(*base, {C("q.example.", type::kA, {R("q.example.", type::kA, A(2))})});
  ASSERT_TRUE(first && second);
  EXPECT_NE(first->Find(W("p.example.")), nullptr);
  EXPECT_EQ(first->Find(W("q.example.")), nullptr);
  EXPECT_EQ(second->Find(W("p.example.")), nullptr);
  auto third = PatchOk(*first, {C("r.example.", type::kA, {R("r.example.", type::kA, A(3))})});
  ASSERT_TRUE(third);
  EXPECT_EQ(Rdatas(*first, *first->FindRRset(*first->Find(W("p.example.")), type::kA)), std::vector<std::string>{A(1)});
  EXPECT_GT(third->MemoryBytes(), 0u);
}

// Patches append to arenas the old snapshot shares: its readers must see it unchanged.
TEST(ZonePatch, ReadersOfTheOldSnapshotAreUndisturbed) {
  std::vector<Record> recs = Base();
  for (int i = 0; i < 200; ++i) recs.push_back(R("h" + std::to_string(i) + ".example.", type::kA, A(static_cast<uint8_t>(i))));
  auto base = BuildOk(recs);
  ASSERT_TRUE(base);
  std::atomic<bool> stop{false};
  std::atomic<int> wrong{0};
  auto read = [&](std::shared_ptr<const Zone> z) {
    do {
      for (int i = 0; i < 200; ++i) {
        const auto* n = z->Find(W("h" + std::to_string(i) + ".example."));
        if (!n || Rdatas(*z, *z->FindRRset(*n, type::kA)) != std::vector<std::string>{A(static_cast<uint8_t>(i))}) ++wrong;
      }
    } while (!stop.load());
  };
  std::thread reader(read, base);
  std::shared_ptr<const Zone> zone = base;
  for (int round = 0; round < 300; ++round) {
    std::string owner = "h" + std::to_string(round % 200) + ".example.";
    auto next = Zone::Patch(*zone, std::vector<Change>{C(owner, type::kA, {R(owner, type::kA, A(255))}),
                                                       C("n" + std::to_string(round) + ".example.", type::kTXT,
                                                         {R("n" + std::to_string(round) + ".example.", type::kTXT, "\x01x")})});
    EXPECT_TRUE(next.ok());
    if (!next.ok()) break;
    zone = *next;
  }
  stop = true;
  reader.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(zone->record_count(), base->record_count() + 300);
}

// Random batches against Build of the same records, chaining patches (through compactions
// and hash table growth), with errors mixed in.
TEST(ZonePatch, RandomBatchesMatchBuild) {
  std::mt19937 rng(20240611);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  const std::vector<std::string> labels = {"a", "b", "c", "*", "w"};
  std::vector<std::string> names;  // relative, lower case
  for (auto& x : labels) {
    names.push_back(x);
    for (auto& y : labels) {
      names.push_back(y + "." + x);
      for (auto& z : labels) names.push_back(z + "." + y + "." + x);
    }
  }
  std::vector<Name> probes = {N("example."), N("zzz.example."), N("a.zzz.example.")};
  for (auto& n : names) probes.push_back(N(n + ".example."));
  auto relative = [](const Name& n) {  // "x.y" of "x.y.example."
    std::string t = n.Lowercased().ToText();
    return t.substr(0, t.size() - std::string_view(".example.").size());
  };
  auto spell = [&](const std::string& rel) {  // random case
    std::string t = rel + ".example.";
    for (auto& ch : t)
      if (rng() % 3 == 0) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return N(t);
  };
  const uint16_t types[] = {type::kA, type::kA, type::kTXT, type::kAAAA, type::kNS, type::kMX, type::kCNAME};
  auto rdata = [&](uint16_t t) -> std::string {
    switch (t) {
      case type::kA: return A(static_cast<uint8_t>(pick(4)));
      case type::kAAAA: return std::string(15, '\x20') + static_cast<char>(pick(3));
      case type::kTXT: return std::string("\x01") + static_cast<char>('a' + pick(3));
      case type::kNS: return W("ns" + std::to_string(pick(3)) + ".example.");
      case type::kMX: return std::string("\0\x0a", 2) + W(names[pick(names.size())] + ".example.");
      default: return W(names[pick(names.size())] + ".example.");
    }
  };

  uint32_t serial = 1;
  std::vector<Record> initial = {R("example.", type::kSOA, Soa(serial, 60), 3600)};
  for (int i = 0; i < 30; ++i) initial.push_back(R(names[pick(names.size())] + ".example.", type::kA, A(static_cast<uint8_t>(i))));
  std::shared_ptr<const Zone> zone = BuildOk(initial);
  ASSERT_TRUE(zone);
  int applied = 0, refused = 0;
  for (int batch = 0; batch < 600; ++batch) {
    std::vector<Change> changes;
    const std::vector<Record> existing = zone->Records();
    // Phases of growth and of shrinking, so names and empty non-terminals come and go.
    const size_t removal_percent = (batch / 100) % 2 ? 70 : 25;
    size_t n = 1 + pick(batch % 50 == 0 ? 40 : 6);
    for (size_t i = 0; i < n; ++i) {
      Name owner = spell(names[pick(names.size())]);
      uint16_t t = types[pick(std::size(types))];
      bool remove = pick(100) < removal_percent;
      if (remove && existing.size() > 1 && pick(4) > 0) {  // mostly an RRset that exists
        const Record& r = existing[1 + pick(existing.size() - 1)];
        owner = spell(relative(r.name));
        t = r.type;
      }
      Change c{owner, t, {}};
      size_t count = remove ? 0 : 1 + pick(t == type::kCNAME ? 1 : 3);
      for (size_t k = 0; k < count; ++k) {
        // Records of one RRset may be spelled differently, TTLs differ (the first wins).
        Name spelled = pick(4) == 0 ? spell(relative(owner)) : owner;
        c.records.push_back(Record{spelled, t, cls::kIN, static_cast<uint32_t>(60 * (1 + pick(3))), rdata(t)});
      }
      if (pick(200) == 0 && !c.records.empty()) c.records[0].cls = cls::kCH;
      changes.push_back(std::move(c));
    }
    if (pick(2) == 0) {
      Name apex = pick(2) ? N("example.") : N("EXAMPLE.");
      changes.push_back(Change{apex, type::kSOA, {Record{apex, type::kSOA, cls::kIN, 3600, Soa(++serial, 30 + pick(60))}}});
    }
    auto want = Reference(*zone, changes);
    auto got = Zone::Patch(*zone, changes);
    ASSERT_EQ(got.ok(), want.ok()) << batch << ": " << got.status().ToString() << " / " << want.status().ToString();
    if (!want.ok()) {
      EXPECT_EQ(got.status().code(), want.status().code());
      ++refused;
      continue;
    }
    ExpectSame(**got, **want, probes);
    if (HasFatalFailure() || HasNonfatalFailure()) FAIL() << "batch " << batch;
    zone = *got;
    ++applied;
  }
  EXPECT_GT(applied, 300);
  EXPECT_GT(refused, 20);
}

}  // namespace
}  // namespace berth::dns
