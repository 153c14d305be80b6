#include "store/change_codec.h"

#include <gtest/gtest.h>

#include "dns/wire/types.h"

namespace berth::store {
namespace {

dns::Record R(const char* owner, uint16_t type, uint32_t ttl, std::string rdata) {
  auto name = dns::Name::FromText(owner);
  EXPECT_TRUE(name.ok());
  return dns::Record{*name, type, dns::cls::kIN, ttl, std::move(rdata)};
}

// Format 1 is only ever read as a group of one (the version-5 migration).
std::vector<JournalEntry> DecodeFormat1(const std::string& blob, Status* status) {
  std::vector<JournalEntry> out;
  *status = DecodeChanges(ChangeAsGroup(7, 8, blob), out);
  return out;
}

TEST(ChangeCodec, RoundTripsRecordsWithCaseTtlAndEmptyRdata) {
  std::vector<dns::Record> removed = {R("Host.Example.", dns::type::kA, 600, std::string("\x0a\0\0\x01", 4))};
  std::vector<dns::Record> added = {R("host.example.", dns::type::kA, 60, std::string("\x0a\0\0\x02", 4)),
                                    R("x.example.", 65280, 0, "")};
  Status st;
  auto got = DecodeFormat1(EncodeChange(removed, added), &st);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].old_serial, 7u);
  EXPECT_EQ(got[0].new_serial, 8u);
  EXPECT_EQ(got[0].removed, removed);
  EXPECT_EQ(got[0].removed[0].name.ToText(), "Host.Example.");
  EXPECT_EQ(got[0].added, added);
  // Without SOA records, format 3 is format 2 but for its version byte.
  ChangeGroupWriter group;
  group.Add(7, 8, removed, added);
  std::string as_group = ChangeAsGroup(7, 8, EncodeChange(removed, added));
  EXPECT_EQ(as_group.substr(1), group.blob().substr(1));
  got = DecodeFormat1(EncodeChange({}, {}), &st);
  ASSERT_TRUE(st.ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].removed.empty() && got[0].added.empty());
}

TEST(ChangeCodec, EveryDamagedChangeIsAnIoErrorWhenRead) {
  std::string blob = EncodeChange({R("a.example.", dns::type::kTXT, 5, "\x03" "abc")},
                                  {R("b.example.", dns::type::kA, 5, std::string(4, '\1'))});
  Status st;
  // Every truncation, every trailing byte, absurd counts.
  for (size_t n = 0; n < blob.size(); ++n) {
    DecodeFormat1(blob.substr(0, n), &st);
    EXPECT_EQ(st.code(), Code::kIo) << n;
  }
  DecodeFormat1(blob + "x", &st);
  EXPECT_EQ(st.code(), Code::kIo);
  std::string huge = blob;
  huge[1] = '\x7f';
  DecodeFormat1(huge, &st);
  EXPECT_EQ(st.code(), Code::kIo);
  // An owner name that is not a valid wire name.
  std::string bad_owner = blob;
  bad_owner[10] = '\x3f';
  DecodeFormat1(bad_owner, &st);
  EXPECT_EQ(st.code(), Code::kIo);
}

TEST(ChangeCodec, GroupRoundTripsChangesInOrder) {
  ChangeGroupWriter group;
  EXPECT_EQ(group.count(), 0u);
  std::vector<JournalEntry> none;
  ASSERT_TRUE(DecodeChanges(group.blob(), none).ok());
  EXPECT_TRUE(none.empty());
  std::vector<dns::Record> r1 = {R("Host.Example.", dns::type::kA, 600, std::string("\x0a\0\0\x01", 4))};
  std::vector<dns::Record> a1 = {R("host.example.", dns::type::kA, 60, std::string("\x0a\0\0\x02", 4)),
                                 R("x.example.", 65280, 0, "")};
  group.Add(7, 8, r1, a1);
  group.Add(8, 4294967295u, {}, {});
  group.Add(4294967295u, 1, a1, r1);
  EXPECT_EQ(group.count(), 3u);
  std::vector<JournalEntry> got = {JournalEntry{}};  // appended to
  ASSERT_TRUE(DecodeChanges(group.blob(), got).ok());
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[1].old_serial, 7u);
  EXPECT_EQ(got[1].new_serial, 8u);
  EXPECT_EQ(got[1].removed, r1);
  EXPECT_EQ(got[1].removed[0].name.ToText(), "Host.Example.");
  EXPECT_EQ(got[1].added, a1);
  EXPECT_EQ(got[2].new_serial, 4294967295u);
  EXPECT_TRUE(got[2].removed.empty() && got[2].added.empty());
  EXPECT_EQ(got[3].removed, a1);
  EXPECT_EQ(got[3].added, r1);
}

TEST(ChangeCodec, EveryDamagedGroupIsAnIoError) {
  ChangeGroupWriter group;
  group.Add(1, 2, {R("a.example.", dns::type::kTXT, 5, "\x03" "abc")}, {R("b.example.", dns::type::kA, 5, std::string(4, '\1'))});
  group.Add(2, 3, {}, {R("c.example.", dns::type::kA, 5, std::string(4, '\2'))});
  const std::string& blob = group.blob();
  std::vector<JournalEntry> out;
  for (size_t n = 0; n < blob.size(); ++n) EXPECT_EQ(DecodeChanges(blob.substr(0, n), out).code(), Code::kIo) << n;
  EXPECT_EQ(DecodeChanges(blob + "x", out).code(), Code::kIo);
  std::string v1 = blob;
  v1[0] = 1;  // a single change's format is not a group
  EXPECT_EQ(DecodeChanges(v1, out).code(), Code::kIo);
  EXPECT_EQ(DecodeChanges(EncodeChange({}, {}), out).code(), Code::kIo);
  std::string huge = blob;
  huge[1] = '\x7f';
  EXPECT_EQ(DecodeChanges(huge, out).code(), Code::kIo);
  std::string huge_records = blob;
  huge_records[5 + 8] = '\x7f';  // the first change's removed count
  EXPECT_EQ(DecodeChanges(huge_records, out).code(), Code::kIo);
}

dns::Record Soa(const char* owner, uint32_t ttl, uint32_t serial, uint32_t minimum = 300) {
  std::string rdata = std::string("\2ns\0\4host\0", 9);
  for (uint32_t v : {serial, 3600u, 600u, 86400u, minimum})
    for (int shift = 24; shift >= 0; shift -= 8) rdata.push_back(static_cast<char>(v >> shift));
  return R(owner, dns::type::kSOA, ttl, rdata);
}

TEST(ChangeCodec, SoaRecordsThatDifferOnlyInTheSerialAreBackReferences) {
  ChangeGroupWriter group;
  std::vector<dns::Record> a1 = {R("h.example.", dns::type::kA, 60, std::string("\x0a\0\0\x01", 4))};
  std::vector<dns::Record> a2 = {R("h.example.", dns::type::kA, 60, std::string("\x0a\0\0\x02", 4))};
  std::vector<JournalEntry> want;
  auto add = [&](uint32_t from, uint32_t to, std::vector<dns::Record> removed, std::vector<dns::Record> added) {
    group.Add(from, to, removed, added);
    want.push_back(JournalEntry{from, to, 0, std::move(removed), std::move(added)});
  };
  add(1, 2, {Soa("example.", 3600, 1), a1[0]}, {Soa("example.", 3600, 2), a2[0]});
  const size_t first = group.blob().size();
  add(2, 3, {Soa("example.", 3600, 2), a2[0]}, {Soa("example.", 3600, 3), a1[0]});
  // The second change's two SOAs cost 5 bytes each.
  EXPECT_EQ(group.blob().size() - first, 16 + 2 * 5 + 2 * (1 + 11 + 10 + 4));
  // Anything else that differs is written in full, and becomes the SOA later references copy.
  add(3, 4, {Soa("example.", 3600, 3)}, {Soa("example.", 60, 4)});           // TTL
  add(4, 5, {Soa("example.", 60, 4)}, {Soa("Example.", 60, 5)});             // owner case
  add(5, 6, {Soa("Example.", 60, 5)}, {Soa("Example.", 60, 6, 60)});         // minimum
  add(6, 7, {Soa("Example.", 60, 6, 60)}, {Soa("Example.", 60, 4294967295u, 60)});
  // An SOA too short to hold a serial (opaque data) is written in full, never referred to.
  add(7, 8, {R("example.", dns::type::kSOA, 60, "abc")}, {Soa("Example.", 60, 8, 60)});
  std::vector<JournalEntry> got;
  ASSERT_TRUE(DecodeChanges(group.blob(), got).ok());
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].old_serial, want[i].old_serial) << i;
    EXPECT_EQ(got[i].new_serial, want[i].new_serial) << i;
    EXPECT_EQ(got[i].removed, want[i].removed) << i;
    EXPECT_EQ(got[i].added, want[i].added) << i;
  }
  EXPECT_EQ(got[3].added[0].name.ToText(), "Example.");
  // Every truncation of a group with references is an error, and so is a reference with no
  // SOA before it.
  const std::string& blob = group.blob();
  for (size_t n = 0; n < blob.size(); ++n) EXPECT_EQ(DecodeChanges(blob.substr(0, n), got).code(), Code::kIo) << n;
  ChangeGroupWriter a;
  a.Add(1, 2, {Soa("example.", 3600, 1)}, {Soa("example.", 3600, 2)});
  std::string orphan = a.blob();
  const size_t full_soa = 1 + 9 + 10 + 9 + 20;
  ASSERT_EQ(orphan.size(), 5 + 16 + full_soa + 5);
  orphan.erase(5 + 16, full_soa);                             // the removed SOA, in full
  orphan.replace(5 + 8, 4, std::string("\0\0\0\0", 4));  // removed count 0
  EXPECT_EQ(DecodeChanges(orphan, got).code(), Code::kIo);
}

}  // namespace
}  // namespace berth::store
