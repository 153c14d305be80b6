#include "dns/zone/test_records.h"
#include "dns/zone/zone_content.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <tuple>

#include "dns/wire/types.h"

namespace berth::dns {
namespace {

using test::N;
using test::R;
using test::Soa;

Record A(std::string_view owner, uint8_t last, uint32_t ttl = 300) {
  return R(owner, type::kA, std::string("\x0a\0\0", 3) + static_cast<char>(last), ttl);
}

ZoneContent Base() {
  return ZoneContent(N("example."), {R("example.", type::kSOA, Soa(7), 3600),
                                     R("example.", type::kNS, std::string(N("ns.example.").wire())),
                                     A("ns.example.", 1), A("www.example.", 2), A("www.example.", 3)});
}

TEST(ZoneContent, LooksUpCaseInsensitively) {
  ZoneContent z = Base();
  EXPECT_EQ(z.serial(), 7u);
  EXPECT_EQ(z.record_count(), 5u);
  EXPECT_TRUE(z.NameExists(N("WWW.example.")));
  EXPECT_FALSE(z.NameExists(N("nope.example.")));
  EXPECT_TRUE(z.HasRRset(N("www.EXAMPLE."), type::kA));
  EXPECT_FALSE(z.HasRRset(N("www.example."), type::kAAAA));
  EXPECT_EQ(z.RRset(N("www.example."), type::kA).size(), 2u);
  EXPECT_EQ(z.RecordsAt(N("example.")).size(), 2u);
  auto all = z.Records();
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[0].type, type::kSOA);
}

TEST(ZoneContent, AddIgnoresDuplicatesAndUnifiesTtl) {
  ZoneContent z = Base();
  z.Begin();
  EXPECT_FALSE(z.Add(A("www.example.", 2)));
  EXPECT_FALSE(z.Changed());
  EXPECT_TRUE(z.Add(A("www.example.", 4, 60)));
  auto set = z.RRset(N("www.example."), type::kA);
  ASSERT_EQ(set.size(), 3u);
  for (const auto& r : set) EXPECT_EQ(r.ttl, 60u);
  auto d = z.Diff();
  EXPECT_EQ(d.removed.size(), 2u);  // the two old-TTL records
  EXPECT_EQ(d.added.size(), 3u);
  EXPECT_EQ(z.record_count(), 6u);
}

TEST(ZoneContent, RemoveAndRollbackRestoreEverything) {
  ZoneContent z = Base();
  auto before = z.Records();
  z.Begin();
  EXPECT_TRUE(z.Remove(A("WWW.example.", 2, 1)));  // TTL ignored
  EXPECT_FALSE(z.Remove(A("www.example.", 9)));
  EXPECT_EQ(z.RemoveName(N("www.example.")), 1u);
  EXPECT_FALSE(z.NameExists(N("www.example.")));
  EXPECT_EQ(z.RemoveRRset(N("ns.example."), type::kA), 1u);
  EXPECT_TRUE(z.Add(A("new.example.", 9)));
  ASSERT_TRUE(z.SetSerial(8).ok());
  EXPECT_EQ(z.serial(), 8u);
  EXPECT_EQ(z.record_count(), 3u);
  EXPECT_TRUE(z.Changed());
  z.Rollback();
  EXPECT_EQ(z.Records(), before);
  EXPECT_EQ(z.record_count(), 5u);
  EXPECT_TRUE(z.NameExists(N("www.example.")));
  EXPECT_FALSE(z.NameExists(N("new.example.")));
}

TEST(ZoneContent, DiffIsNetOfTheWholeEdit) {
  ZoneContent z = Base();
  z.Begin();
  EXPECT_TRUE(z.Remove(A("www.example.", 2)));
  EXPECT_TRUE(z.Add(A("www.example.", 2)));  // back as it was
  EXPECT_FALSE(z.Changed());
  EXPECT_TRUE(z.ReplaceRRset(N("www.example."), type::kA, {A("www.example.", 5)}));
  EXPECT_FALSE(z.ReplaceRRset(N("www.example."), type::kA, {A("www.example.", 5)}));
  EXPECT_FALSE(z.ReplaceRRset(N("gone.example."), type::kA, {}));
  auto d = z.Diff();
  EXPECT_EQ(d.removed.size(), 2u);
  ASSERT_EQ(d.added.size(), 1u);
  EXPECT_EQ(d.added[0].rdata.back(), 5);
  z.Commit();
  EXPECT_FALSE(z.Changed());
  EXPECT_TRUE(z.Diff().added.empty());
}

TEST(ZoneContent, CheckTouchedEnforcesZoneRules) {
  ZoneContent z = Base();
  z.Begin();
  z.Add(R("alias.example.", type::kCNAME, std::string(N("www.example.").wire())));
  EXPECT_TRUE(z.CheckTouched().ok());
  z.Add(A("alias.example.", 7));
  EXPECT_EQ(z.CheckTouched().code(), Code::kInvalidArgument);
  z.Rollback();
  z.Begin();
  z.Add(A("outside.org.", 1));
  EXPECT_EQ(z.CheckTouched().code(), Code::kInvalidArgument);
  z.Rollback();
  z.Begin();
  z.Add(R("www.example.", type::kA, "\x01"));  // bad RDATA length
  EXPECT_EQ(z.CheckTouched().code(), Code::kInvalidArgument);
  z.Rollback();
  z.Begin();
  z.RemoveRRset(N("example."), type::kSOA);
  EXPECT_EQ(z.CheckTouched().code(), Code::kInvalidArgument);
  z.Rollback();
  z.Begin();
  z.Add(R("sub.example.", type::kSOA, Soa(1)));
  EXPECT_EQ(z.CheckTouched().code(), Code::kInvalidArgument);
  z.Rollback();
  EXPECT_EQ(z.record_count(), 5u);
}

TEST(ZoneContent, NamesInsideRdataCompareWithoutCase) {
  ZoneContent z = Base();
  z.Begin();
  Record upper = R("example.", type::kNS, std::string(N("NS.Example.").wire()));
  EXPECT_TRUE(z.Add(upper));  // the same NS spelled differently: replaced, not added
  auto ns = z.RRset(N("example."), type::kNS);
  ASSERT_EQ(ns.size(), 1u);
  EXPECT_EQ(ns[0].rdata, upper.rdata);
  EXPECT_FALSE(z.Add(upper));
  EXPECT_TRUE(z.Remove(R("example.", type::kNS, std::string(N("ns.EXAMPLE.").wire()))));
  EXPECT_FALSE(z.HasRRset(N("example."), type::kNS));
  // Other fields still compare byte for byte.
  EXPECT_TRUE(z.Add(R("t.example.", type::kTXT, "\x02Hi")));
  EXPECT_TRUE(z.Add(R("t.example.", type::kTXT, "\x02hi")));
  EXPECT_EQ(z.RRset(N("t.example."), type::kTXT).size(), 2u);
}

TEST(ZoneContent, SetSerialNeedsAnSoa) {
  ZoneContent z(N("example."), {A("www.example.", 1)});
  EXPECT_EQ(z.serial(), 0u);
  EXPECT_EQ(z.SetSerial(3).code(), Code::kFailedPrecondition);
}

TEST(ZoneContent, OwnersHashWithoutCase) {
  ZoneContent z(N("example."), {R("example.", type::kSOA, Soa(7), 3600), A("Mixed.Case.example.", 1)});
  EXPECT_TRUE(z.NameExists(N("mixed.case.EXAMPLE.")));
  EXPECT_TRUE(z.HasRRset(N("MIXED.CASE.EXAMPLE."), type::kA));
  z.Begin();
  EXPECT_TRUE(z.Add(A("mIxEd.case.example.", 2)));  // the same RRset, not a second one
  EXPECT_EQ(z.RRset(N("mixed.case.example."), type::kA).size(), 2u);
  EXPECT_EQ(z.RecordsAt(N("MIXED.case.example.")).size(), 2u);
  EXPECT_EQ(z.RemoveName(N("MIXED.CASE.EXAMPLE.")), 2u);
  // Emptied during an edit: gone for every lookup, though kept until the edit ends.
  EXPECT_FALSE(z.NameExists(N("mixed.case.example.")));
  EXPECT_FALSE(z.HasRRset(N("mixed.case.example."), type::kA));
  EXPECT_TRUE(z.RecordsAt(N("mixed.case.example.")).empty());
  EXPECT_EQ(z.RemoveRRset(N("mixed.case.example."), type::kA), 0u);
  EXPECT_EQ(z.Records().size(), 1u);
  z.Commit();
  EXPECT_FALSE(z.NameExists(N("mixed.case.example.")));
  EXPECT_EQ(z.record_count(), 1u);
}

// Records() order as a std::map keyed by (canonical sort key, type) gave it: SOA first, then
// owner in canonical order, type, and insertion order inside an RRset.
std::vector<Record> Sorted(std::vector<Record> records) {
  const std::string apex = N("example.").CanonicalSortKey();
  auto key = [&](const Record& r) {
    std::string owner = r.name.CanonicalSortKey();
    return std::tuple(!(r.type == type::kSOA && owner == apex), owner, r.type);
  };
  std::stable_sort(records.begin(), records.end(), [&](const Record& a, const Record& b) { return key(a) < key(b); });
  return records;
}

TEST(ZoneContent, RecordsComeInCanonicalOrder) {
  std::mt19937 rng(1);
  const std::vector<std::string> labels = {"a", "A", "b", "*", "z", "Z", "a-b", "\\000", "a\\000", "yljkjljk", "0", "\\255"};
  const std::vector<uint16_t> types = {type::kA, type::kAAAA, type::kTXT, type::kMX, type::kNS};
  std::vector<Record> records;
  for (uint32_t i = 0; i < 400; ++i) {
    std::string owner = "example.";
    for (size_t n = rng() % 4; n > 0; --n) owner = labels[rng() % labels.size()] + "." + owner;
    uint16_t t = types[rng() % types.size()];
    // Unique RDATA per record: nothing collapses, so the reference is the input sorted.
    std::string rdata = t == type::kA ? std::string(4, '\0') : t == type::kAAAA ? std::string(16, '\0') : std::string(N("t.example.").wire());
    for (int b = 0; b < 4; ++b) rdata[rdata.size() - 1 - b] = static_cast<char>(i >> (8 * b));
    if (t == type::kTXT) rdata = "\x04" + rdata.substr(rdata.size() - 4);
    if (t == type::kMX) rdata = std::string("\0\0", 2) + std::string(N("mx" + std::to_string(i) + ".example.").wire());
    if (t == type::kNS) rdata = std::string(N("ns" + std::to_string(i) + ".example.").wire());
    records.push_back(R(owner, t, rdata));
  }
  records.push_back(R("Example.", type::kSOA, Soa(3), 3600));
  ZoneContent z(N("example."), records);
  EXPECT_EQ(z.Records(), Sorted(records));

  // Still after names come and go.
  z.Begin();
  std::vector<Record> kept;
  for (const auto& r : records) {
    if (r.type != type::kSOA && rng() % 3 == 0) {
      z.Remove(r);
    } else {
      kept.push_back(r);
    }
  }
  for (const auto& owner : {"new.example.", "*.New.example.", "a.new.example."}) {
    kept.push_back(A(owner, 9));
    z.Add(kept.back());
  }
  z.Commit();
  EXPECT_EQ(z.Records(), Sorted(kept));
  EXPECT_EQ(z.record_count(), kept.size());
}

TEST(ZoneContent, SerialFollowsTheSoaRRset) {
  ZoneContent z = Base();
  z.Begin();
  EXPECT_TRUE(z.ReplaceRRset(N("EXAMPLE."), type::kSOA, {R("EXAMPLE.", type::kSOA, Soa(20), 3600)}));
  EXPECT_EQ(z.serial(), 20u);
  ASSERT_TRUE(z.SetSerial(21).ok());
  EXPECT_EQ(z.serial(), 21u);
  EXPECT_EQ(z.RRset(N("example."), type::kSOA).front().name.ToText(), "EXAMPLE.");
  EXPECT_EQ(z.RemoveRRset(N("example."), type::kSOA), 1u);
  EXPECT_EQ(z.serial(), 0u);
  EXPECT_EQ(z.SetSerial(22).code(), Code::kFailedPrecondition);
  EXPECT_TRUE(z.Add(R("example.", type::kSOA, Soa(30), 3600)));
  EXPECT_EQ(z.serial(), 30u);
  z.Rollback();
  EXPECT_EQ(z.serial(), 7u);
  EXPECT_EQ(z.Records(), Base().Records());

  // Outside an edit, the apex may empty and fill again.
  EXPECT_EQ(z.RemoveName(N("example.")), 2u);
  EXPECT_FALSE(z.NameExists(N("example.")));
  EXPECT_EQ(z.serial(), 0u);
  EXPECT_TRUE(z.Add(R("example.", type::kSOA, Soa(40), 3600)));
  ASSERT_TRUE(z.SetSerial(41).ok());
  EXPECT_EQ(z.serial(), 41u);
  EXPECT_EQ(z.Records().front().type, type::kSOA);

  // Two SOAs: no serial to set.
  z.Begin();
  z.Add(R("example.", type::kSOA, Soa(50), 3600));
  EXPECT_EQ(z.SetSerial(51).code(), Code::kFailedPrecondition);
  z.Rollback();
  EXPECT_EQ(z.serial(), 41u);
}

TEST(ZoneContent, SurvivesMovesMidEdit) {
  std::map<std::string, ZoneContent> contents;
  contents.emplace("example.", Base());
  ZoneContent z = std::move(contents.at("example."));
  z.Begin();
  z.Add(A("new.example.", 1));
  ASSERT_TRUE(z.SetSerial(8).ok());
  ZoneContent moved = std::move(z);
  EXPECT_EQ(moved.serial(), 8u);
  EXPECT_EQ(moved.Diff().added.size(), 2u);
  moved.Rollback();
  EXPECT_EQ(moved.serial(), 7u);
  EXPECT_EQ(moved.Records(), Base().Records());
}

TEST(ZoneContent, RollsBackManyTouchedRRsets) {
  ZoneContent z = Base();
  for (int i = 0; i < 3000; ++i) z.Add(A("h" + std::to_string(i) + ".example.", 1));
  const auto before = z.Records();
  z.Begin();
  for (int i = 0; i < 3000; ++i) {
    Name h = N("h" + std::to_string(i) + ".example.");
    switch (i % 4) {
      case 0: z.RemoveRRset(h, type::kA); break;
      case 1: z.ReplaceRRset(h, type::kA, {A(h.ToText(), 2), A(h.ToText(), 3)}); break;
      case 2: z.Add(A(h.ToText(), 4, 60)); z.RemoveName(h); z.Add(A(h.ToText(), 5)); break;
      case 3: z.Add(A("new" + std::to_string(i) + "." + h.ToText(), 6)); break;
    }
    ASSERT_TRUE(z.SetSerial(100 + i).ok());  // the SOA touched over and over
  }
  EXPECT_TRUE(z.Changed());
  auto d = z.Diff();
  EXPECT_EQ(d.removed.size(), 1 + 750 * 3u);  // the SOA, and the A of cases 0-2
  EXPECT_EQ(d.added.size(), 1 + 750 * 4u);    // the SOA, two As for case 1, one for 2 and 3
  z.Rollback();
  EXPECT_EQ(z.Records(), before);
  EXPECT_EQ(z.record_count(), before.size());
  EXPECT_FALSE(z.NameExists(N("new3.h3.example.")));
  EXPECT_EQ(z.serial(), 7u);
  EXPECT_FALSE(z.Changed());
}

TEST(ZoneContent, DiffNetsOutWhatCameAndWent) {
  ZoneContent z = Base();
  z.Begin();
  EXPECT_TRUE(z.Add(A("new.example.", 9)));
  EXPECT_TRUE(z.Remove(A("new.example.", 9)));
  EXPECT_EQ(z.RemoveRRset(N("www.example."), type::kA), 2u);
  EXPECT_TRUE(z.Add(A("WWW.example.", 2)));
  EXPECT_TRUE(z.Add(A("www.example.", 3)));
  EXPECT_FALSE(z.Changed());
  auto d = z.Diff();
  EXPECT_TRUE(d.removed.empty());
  EXPECT_TRUE(d.added.empty());
  EXPECT_FALSE(z.NameExists(N("new.example.")));
  z.Commit();
  EXPECT_FALSE(z.NameExists(N("new.example.")));
  EXPECT_EQ(z.record_count(), 5u);
  // The same RDATA with another TTL is a change: out with the old TTL, in with the new.
  z.Begin();
  EXPECT_TRUE(z.Remove(A("ns.example.", 1)));
  EXPECT_TRUE(z.Add(A("ns.example.", 1, 60)));
  d = z.Diff();
  ASSERT_EQ(d.removed.size(), 1u);
  ASSERT_EQ(d.added.size(), 1u);
  EXPECT_EQ(d.removed[0].ttl, 300u);
  EXPECT_EQ(d.added[0].ttl, 60u);
}

TEST(ZoneContent, DiffAndErrorsComeInZoneOrder) {
  ZoneContent z = Base();
  z.Begin();
  z.Add(A("z.example.", 1));
  z.Add(A("a.example.", 1));
  ASSERT_TRUE(z.SetSerial(8).ok());
  z.Add(A("m.example.", 1));
  auto d = z.Diff();
  ASSERT_EQ(d.added.size(), 4u);
  EXPECT_EQ(d.added[0].type, type::kSOA);
  EXPECT_EQ(d.added[1].name.ToText(), "a.example.");
  EXPECT_EQ(d.added[2].name.ToText(), "m.example.");
  EXPECT_EQ(d.added[3].name.ToText(), "z.example.");
  z.Add(R("z.example.", type::kCNAME, std::string(N("www.example.").wire())));
  z.Add(R("b.example.", type::kCNAME, std::string(N("www.example.").wire())));
  z.Add(A("b.example.", 1));
  EXPECT_EQ(z.CheckTouched().message(), "CNAME and other data at b.example.");
}

}  // namespace
}  // namespace berth::dns
