#include "dns/wire/message.h"

#include <gtest/gtest.h>

#include "dns/wire/rdata.h"

namespace berth::dns {
namespace {

Name N(std::string_view text) { return *Name::FromText(text); }

std::string NameRdata(std::string_view text) { return std::string(N(text).wire()); }

TEST(Message, RoundTripsWithCompression) {
  Message m;
  m.id = 0x1234;
  m.flags = flag::kQR | flag::kAA;
  m.questions.push_back({N("www.example."), type::kA, cls::kIN});
  m.answers.push_back({N("www.example."), type::kCNAME, cls::kIN, 300, NameRdata("web.example.")});
  m.answers.push_back({N("web.example."), type::kA, cls::kIN, 300, std::string("\x0a\x00\x00\x01", 4)});
  std::string mx("\x00\x0a", 2);
  mx += NameRdata("mail.example.");
  m.authority.push_back({N("example."), type::kMX, cls::kIN, 60, mx});
  m.edns = Edns{};
  m.edns->udp_size = 4096;
  m.edns->dnssec_ok = true;
  std::string wire = m.Build();
  auto back = Message::Parse(reinterpret_cast<const uint8_t*>(wire.data()), wire.size());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->id, 0x1234);
  EXPECT_EQ(back->answers, m.answers);
  EXPECT_EQ(back->authority, m.authority);
  ASSERT_TRUE(back->edns);
  EXPECT_EQ(back->edns->udp_size, 4096);
  EXPECT_TRUE(back->edns->dnssec_ok);
  // Compression shrank the message: "example." appears in full only once.
  EXPECT_EQ(wire.find("\x07" "example", 20), std::string::npos);
}

TEST(Message, TruncatesAtRecordBoundaryAndSetsTc) {
  Message m;
  m.flags = flag::kQR;
  m.questions.push_back({N("big.example."), type::kTXT, cls::kIN});
  for (int i = 0; i < 20; ++i)
    m.answers.push_back({N("big.example."), type::kTXT, cls::kIN, 1, std::string(1, char(60)) + std::string(60, 'x')});
  std::string wire = m.Build(512);
  ASSERT_LE(wire.size(), 512u);
  auto back = Message::Parse(reinterpret_cast<const uint8_t*>(wire.data()), wire.size());
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->has(flag::kTC));
  EXPECT_LT(back->answers.size(), 20u);
}

TEST(Message, RejectsMalformedInput) {
  const uint8_t short_header[] = {0, 1, 0};
  EXPECT_FALSE(Message::Parse(short_header, sizeof short_header).ok());
  // One question whose name is a pointer to itself.
  const uint8_t loop[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1};
  EXPECT_FALSE(Message::Parse(loop, sizeof loop).ok());
  // A record with an A rdata of 3 bytes.
  const uint8_t bad_a[] = {0, 1, 0x80, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 3, 1, 2, 3};
  EXPECT_FALSE(Message::Parse(bad_a, sizeof bad_a).ok());
  // Trailing garbage.
  const uint8_t trailing[] = {0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
  EXPECT_FALSE(Message::Parse(trailing, sizeof trailing).ok());
}

TEST(Rdata, ValidatesLayouts) {
  EXPECT_TRUE(ValidateRdata(type::kA, std::string(4, '\1')).ok());
  EXPECT_FALSE(ValidateRdata(type::kA, std::string(5, '\1')).ok());
  EXPECT_FALSE(ValidateRdata(type::kTXT, "").ok());
  EXPECT_TRUE(ValidateRdata(type::kTXT, std::string("\x03" "abc\x00", 5)).ok());
  EXPECT_FALSE(ValidateRdata(type::kTXT, std::string("\x04" "abc", 4)).ok());
  EXPECT_TRUE(ValidateRdata(4242, "anything").ok());
  std::string soa = NameRdata("ns.example.") + NameRdata("host.example.") + std::string(20, '\0');
  EXPECT_TRUE(ValidateRdata(type::kSOA, soa).ok());
  EXPECT_FALSE(ValidateRdata(type::kSOA, soa.substr(0, soa.size() - 1)).ok());
}

}  // namespace
}  // namespace berth::dns
