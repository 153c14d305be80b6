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

TEST(ChangeCodec, RoundTripsRecordsWithCaseTtlAndEmptyRdata) {
  std::vector<dns::Record> removed = {R("Host.Example.", dns::type::kA, 600, std::string("\x0a\0\0\x01", 4))};
  std::vector<dns::Record> added = {R("host.example.", dns::type::kA, 60, std::string("\x0a\0\0\x02", 4)),
                                    R("x.example.", 65280, 0, "")};
  std::string blob = EncodeChange(removed, added);
  std::vector<dns::Record> got_removed, got_added;
  ASSERT_TRUE(DecodeChange(blob, got_removed, got_added).ok());
  EXPECT_EQ(got_removed, removed);
  EXPECT_EQ(got_removed[0].name.ToText(), "Host.Example.");
  EXPECT_EQ(got_added, added);
  std::vector<dns::Record> none_r, none_a;
  ASSERT_TRUE(DecodeChange(EncodeChange({}, {}), none_r, none_a).ok());
  EXPECT_TRUE(none_r.empty() && none_a.empty());
}

TEST(ChangeCodec, EveryDamagedBlobIsAnIoError) {
  std::string blob = EncodeChange({R("a.example.", dns::type::kTXT, 5, "\x03" "abc")},
                                  {R("b.example.", dns::type::kA, 5, std::string(4, '\1'))});
  std::vector<dns::Record> r, a;
  // Every truncation, every trailing byte, a wrong version and absurd counts.
  for (size_t n = 0; n < blob.size(); ++n) {
    EXPECT_EQ(DecodeChange(blob.substr(0, n), r, a).code(), Code::kIo) << n;
  }
  EXPECT_EQ(DecodeChange(blob + "x", r, a).code(), Code::kIo);
  std::string v2 = blob;
  v2[0] = 2;
  EXPECT_EQ(DecodeChange(v2, r, a).code(), Code::kIo);
  std::string huge = blob;
  huge[1] = '\x7f';
  EXPECT_EQ(DecodeChange(huge, r, a).code(), Code::kIo);
  // An owner name that is not a valid wire name.
  std::string bad_owner = blob;
  bad_owner[10] = '\x3f';
  EXPECT_EQ(DecodeChange(bad_owner, r, a).code(), Code::kIo);
}

}  // namespace
}  // namespace berth::store
