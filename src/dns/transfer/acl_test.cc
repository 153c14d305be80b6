#include "dns/transfer/acl.h"

#include <gtest/gtest.h>

namespace berth::dns::transfer {
namespace {

IpAddress Ip(const char* text) { return *IpAddress::Parse(text); }
Name N(const char* text) { return *Name::FromText(text); }

TEST(TransferAcl, EmptyDeniesEveryone) {
  TransferAcl acl;
  EXPECT_TRUE(acl.empty());
  Name key = N("xfr.");
  EXPECT_FALSE(acl.Allows(Ip("127.0.0.1"), nullptr));
  EXPECT_FALSE(acl.Allows(Ip("127.0.0.1"), &key));
  auto parsed = TransferAcl::Parse({});
  ASSERT_TRUE(parsed.ok());
  EXPECT_FALSE(parsed->Allows(Ip("::1"), &key));
}

TEST(TransferAcl, MatchesAddressesAndPrefixes) {
  auto acl = TransferAcl::Parse({"127.0.0.0/8", "2001:db8::/32", "192.0.2.7"});
  ASSERT_TRUE(acl.ok()) << acl.status().ToString();
  EXPECT_TRUE(acl->Allows(Ip("127.0.0.1"), nullptr));
  EXPECT_TRUE(acl->Allows(Ip("127.255.0.9"), nullptr));
  EXPECT_TRUE(acl->Allows(Ip("::ffff:127.0.0.1"), nullptr));  // dual-stack socket
  EXPECT_TRUE(acl->Allows(Ip("2001:db8::53"), nullptr));
  EXPECT_TRUE(acl->Allows(Ip("192.0.2.7"), nullptr));
  EXPECT_FALSE(acl->Allows(Ip("192.0.2.8"), nullptr));
  EXPECT_FALSE(acl->Allows(Ip("10.0.0.1"), nullptr));
  EXPECT_FALSE(acl->Allows(Ip("::1"), nullptr));
  EXPECT_EQ(acl->prefixes().size(), 3u);
}

TEST(TransferAcl, MatchesVerifiedKeysCaseInsensitively) {
  auto acl = TransferAcl::Parse({"key:Xfr-Key.", "key:other"});
  ASSERT_TRUE(acl.ok()) << acl.status().ToString();
  ASSERT_EQ(acl->keys().size(), 2u);
  EXPECT_EQ(acl->keys()[1].ToText(), "other.");  // relative names are absolute
  Name k1 = N("xfr-key."), k2 = N("OTHER."), k3 = N("stranger.");
  EXPECT_TRUE(acl->Allows(Ip("10.0.0.1"), &k1));
  EXPECT_TRUE(acl->Allows(Ip("10.0.0.1"), &k2));
  EXPECT_FALSE(acl->Allows(Ip("10.0.0.1"), &k3));
  // A key entry never admits unsigned requests.
  EXPECT_FALSE(acl->Allows(Ip("10.0.0.1"), nullptr));
}

TEST(TransferAcl, KeyOrAddress) {
  auto acl = TransferAcl::Parse({"key:xfr.", "127.0.0.0/8"});
  ASSERT_TRUE(acl.ok());
  Name key = N("xfr."), other = N("other.");
  EXPECT_TRUE(acl->Allows(Ip("127.0.0.1"), nullptr));
  EXPECT_TRUE(acl->Allows(Ip("127.0.0.1"), &other));
  EXPECT_TRUE(acl->Allows(Ip("198.51.100.1"), &key));
  EXPECT_FALSE(acl->Allows(Ip("198.51.100.1"), &other));
}

TEST(TransferAcl, BadEntriesNameTheEntry) {
  for (const char* bad : {"key:", "key:a..b", "10.0.0.0/33", "bogus", "", "127.0.0.1:53", "Key:x."}) {
    auto acl = TransferAcl::Parse({"127.0.0.1", bad});
    ASSERT_FALSE(acl.ok()) << bad;
    EXPECT_EQ(acl.status().code(), Code::kInvalidArgument);
    EXPECT_NE(acl.status().message().find("'" + std::string(bad) + "'"), std::string::npos)
        << acl.status().message();
  }
}

}  // namespace
}  // namespace berth::dns::transfer
