#include "dns/zone/test_records.h"
#include "dns/zone/zone_content.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace berth::dns
