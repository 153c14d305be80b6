#include "dns/zonefile/rdata_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dns/wire/rdata.h"
#include "dns/wire/types.h"

namespace berth::dns {
namespace {

using ::testing::HasSubstr;

const Name& Origin() {
  static const Name origin = *Name::FromText("example.com.");
  return origin;
}

Result<std::string> Parse(uint16_t t, std::string_view text) { return RdataFromText(t, text, Origin()); }

// text -> rdata -> text gives `expected`, and that text parses back to the same rdata.
void ExpectRoundTrip(uint16_t t, std::string_view text, std::string_view expected) {
  SCOPED_TRACE(TypeToText(t) + " " + std::string(text));
  auto rdata = Parse(t, text);
  ASSERT_TRUE(rdata.ok()) << rdata.status().ToString();
  EXPECT_TRUE(ValidateRdata(t, *rdata).ok());
  std::string printed = RdataToText(t, *rdata);
  EXPECT_EQ(printed, expected);
  auto again = Parse(t, printed);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, *rdata);
  // The generic form of the same bytes is accepted for every type.
  auto generic = Parse(t, "\\# " + std::to_string(rdata->size()) + " " +
                              RdataToText(65280, *rdata).substr(3 + std::to_string(rdata->size()).size()));
  ASSERT_TRUE(generic.ok()) << generic.status().ToString();
  EXPECT_EQ(*generic, *rdata);
}

TEST(RdataText, EveryLayoutRoundTrips) {
  ExpectRoundTrip(type::kA, "192.0.2.1", "192.0.2.1");
  ExpectRoundTrip(type::kNS, "ns1", "ns1.example.com.");
  ExpectRoundTrip(type::kCNAME, "@", "example.com.");
  ExpectRoundTrip(type::kSOA, "ns1 hostmaster.example.net. ( 2024010101 1h 15m 2w 300 )",
                  "ns1.example.com. hostmaster.example.net. 2024010101 3600 900 1209600 300");
  ExpectRoundTrip(type::kPTR, "host.example.org.", "host.example.org.");
  ExpectRoundTrip(type::kHINFO, "INTEL \"Linux 6\"", "\"INTEL\" \"Linux 6\"");
  ExpectRoundTrip(type::kMX, "10 mail", "10 mail.example.com.");
  ExpectRoundTrip(type::kTXT, "\"v=spf1 -all\"", "\"v=spf1 -all\"");
  ExpectRoundTrip(type::kTXT, "a \"b c\" \"\"", "\"a\" \"b c\" \"\"");
  ExpectRoundTrip(type::kRP, "admin.example.com. .", "admin.example.com. .");
  ExpectRoundTrip(type::kAAAA, "2001:DB8::1", "2001:db8::1");
  ExpectRoundTrip(type::kAAAA, "::ffff:192.0.2.1", "::ffff:192.0.2.1");
  ExpectRoundTrip(type::kSRV, "0 5 5060 sip", "0 5 5060 sip.example.com.");
  ExpectRoundTrip(type::kNAPTR, "100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp",
                  "100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.example.com.");
  ExpectRoundTrip(type::kDNAME, "example.net.", "example.net.");
  ExpectRoundTrip(type::kDS, "60485 5 1 2BB183AF5F22588179A53B0A 98631FAD1A292118",
                  "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118");
  ExpectRoundTrip(type::kSSHFP, "4 2 123456789abcdef67890123456789abcdef67890123456789abcdef1234567890a",
                  "4 2 123456789ABCDEF67890123456789ABCDEF67890123456789ABCDEF1234567890A");
  ExpectRoundTrip(type::kRRSIG,
                  "A 8 3 86400 20300101000000 20240101000000 12345 example.com. "
                  "oJB1W6WNGv+ldvQ3WDG0MQkg5IEhjRip8WTr PYGv07h108dUKGMeDPKijVCHX3DDKdfb+v6o B9wfuh3DTJXUAfI/M0zmO/zz8bW0Rznl8O3t GNazPwQKkRN20XPXV6nwwfoXmJQbsLNrLfkG J5D6fwFm8nN+6pBzeDQfsS3Ap3o=",
                  "A 8 3 86400 20300101000000 20240101000000 12345 example.com. "
                  "oJB1W6WNGv+ldvQ3WDG0MQkg5IEhjRip8WTrPYGv07h108dUKGMeDPKijVCHX3DDKdfb+v6oB9wfuh3DTJXUAfI/M0zmO/zz8bW0Rznl8O3tGNazPwQKkRN20XPXV6nwwfoXmJQbsLNrLfkGJ5D6fwFm8nN+6pBzeDQfsS3Ap3o=");
  ExpectRoundTrip(type::kNSEC, "host.example.com. A MX RRSIG NSEC TYPE1234",
                  "host.example.com. A MX RRSIG NSEC TYPE1234");
  ExpectRoundTrip(type::kNSEC, "host", "host.example.com.");
  ExpectRoundTrip(type::kDNSKEY, "257 3 8 AwEA AagB AgM=", "257 3 8 AwEAAagBAgM=");
  // Separately padded pieces, as Knot accepts them.
  ExpectRoundTrip(type::kDNSKEY, "257 3 8 AwE= AQID", "257 3 8 AwEBAgM=");
  ExpectRoundTrip(type::kTLSA, "3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6",
                  "3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6");
  ExpectRoundTrip(type::kSPF, "\"v=spf1 mx -all\"", "\"v=spf1 mx -all\"");
  ExpectRoundTrip(type::kCAA, "0 issue \"letsencrypt.org\"", "0 issue \"letsencrypt.org\"");
  ExpectRoundTrip(type::kCAA, "128 iodef mailto:security@example.com",
                  "128 iodef \"mailto:security@example.com\"");
  ExpectRoundTrip(type::kCAA, "0 issue \"\"", "0 issue \"\"");
}

TEST(RdataText, AllLayoutsAreCovered) {
  // Guards the test above: a new layout in types.h must get a round-trip case here.
  int count = 0;
  for (uint32_t t = 0; t < 65536; ++t)
    if (LayoutOf(static_cast<uint16_t>(t))) ++count;
  EXPECT_EQ(count, 21);
}

TEST(RdataText, WireBytesOfSimpleTypes) {
  EXPECT_EQ(*Parse(type::kA, "10.0.0.1"), std::string("\x0a\x00\x00\x01", 4));
  std::string mx = *Parse(type::kMX, "10 mail");
  EXPECT_EQ(mx, std::string("\x00\x0a\x04mail\x07" "example\x03" "com\x00", 20));
  EXPECT_EQ(*Parse(type::kTXT, "\"a\\\"b\" \\065\\066"), std::string("\x03" "a\"b\x02" "AB", 7));
  EXPECT_EQ(*Parse(type::kCAA, "0 issue \";\""), std::string("\x00\x05issue;", 8));
}

TEST(RdataText, TakesTokensAsTheTokenizerSplitsThem) {
  // Raw tokens: quotes kept, escapes undecoded, names relative to the origin.
  std::vector<std::string_view> tokens = {"10", "mail\\.box"};
  auto mx = RdataFromText(type::kMX, tokens, Origin());
  ASSERT_TRUE(mx.ok()) << mx.status().ToString();
  EXPECT_EQ(RdataToText(type::kMX, *mx), "10 mail\\.box.example.com.");
  tokens = {"\"a b\"", "c\\ d"};
  EXPECT_EQ(*RdataFromText(type::kTXT, tokens, Origin()), std::string("\x03" "a b\x03" "c d", 8));
  EXPECT_FALSE(RdataFromText(type::kA, std::vector<std::string_view>{}, Origin()).ok());
  EXPECT_FALSE(RdataFromText(type::kA, std::vector<std::string_view>{""}, Origin()).ok());
}

TEST(RdataText, NsecBitmapWindows) {
  auto r = Parse(type::kNSEC, "next. TYPE1234 A A MX");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::string want("\x04next\x00\x00\x02\x40\x01", 10);
  want += std::string("\x04\x1b", 2) + std::string(26, '\0') + "\x20";
  EXPECT_EQ(*r, want);
  EXPECT_EQ(RdataToText(type::kNSEC, *r), "next. A MX TYPE1234");
}

TEST(RdataText, CharStringEscapes) {
  EXPECT_EQ(*CharStringFromText("\"a\\\\b\\\"c\""), "a\\b\"c");
  EXPECT_EQ(*CharStringFromText("\\255\\000x"), std::string("\xff\x00x", 3));
  EXPECT_EQ(CharStringToText(std::string("\x01\"\\\x7f\xe9 a", 7)), "\"\\001\\\"\\\\\\127\\233 a\"");
  EXPECT_FALSE(CharStringFromText("\\256").ok());
  EXPECT_FALSE(CharStringFromText("\\25").ok());
  EXPECT_FALSE(CharStringFromText("abc\\").ok());
  EXPECT_TRUE(CharStringFromText(std::string(255, 'x')).ok());
  EXPECT_FALSE(CharStringFromText(std::string(256, 'x')).ok());
  // A string of 255 escaped bytes is 255 bytes, not 1020.
  std::string escaped;
  for (int i = 0; i < 255; ++i) escaped += "\\007";
  EXPECT_TRUE(CharStringFromText(escaped).ok());
  // Printable bytes survive a round trip whatever they are.
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  EXPECT_EQ(*CharStringFromText(CharStringToText(all), 1000), all);
}

TEST(RdataText, LongTxtIsSeveralStrings) {
  std::string t = "\"" + std::string(255, 'a') + "\" \"" + std::string(10, 'b') + "\"";
  auto r = Parse(type::kTXT, t);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 256u + 11u);
  auto bad = Parse(type::kTXT, "\"" + std::string(256, 'a') + "\"");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("longer than 255"));
}

TEST(RdataText, TtlUnits) {
  EXPECT_EQ(*TtlFromText("3600"), 3600u);
  EXPECT_EQ(*TtlFromText("1h30m"), 5400u);
  EXPECT_EQ(*TtlFromText("2w"), 1209600u);
  EXPECT_EQ(*TtlFromText("1D"), 86400u);
  EXPECT_EQ(*TtlFromText("4294967295"), 4294967295u);
  EXPECT_EQ(*TtlFromText("0"), 0u);
  for (const char* bad : {"", "h", "1x", "-1", "4294967296", "7102w", "1h h", "+5", "1.5h", "1h30"})
    EXPECT_FALSE(TtlFromText(bad).ok()) << bad;
}

TEST(RdataText, RrsigTimestamps) {
  auto a = Parse(type::kRRSIG, "A 8 2 300 1700000000 20231114221320 1 example.com. AAAA");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  // 1700000000 is 2023-11-14 22:13:20 UTC: both fields hold the same value.
  EXPECT_EQ(a->substr(8, 4), a->substr(12, 4));
  EXPECT_THAT(RdataToText(type::kRRSIG, *a), HasSubstr(" 20231114221320 20231114221320 "));
  EXPECT_FALSE(Parse(type::kRRSIG, "A 8 2 300 20230230000000 20231114221320 1 . AAAA").ok());
  EXPECT_FALSE(Parse(type::kRRSIG, "A 8 2 300 2023111422132 20231114221320 1 . AAAA").ok());
  EXPECT_TRUE(Parse(type::kRRSIG, "A 8 2 300 21060207062815 20240229000000 1 . AAAA").ok());
}

TEST(RdataText, GenericForm) {
  EXPECT_EQ(*Parse(type::kA, "\\# 4 0a000001"), std::string("\x0a\x00\x00\x01", 4));
  EXPECT_EQ(*Parse(65000, "\\# 4 0A 00 0001"), std::string("\x0a\x00\x00\x01", 4));
  EXPECT_EQ(*Parse(65000, "\\# 0"), "");
  EXPECT_EQ(RdataToText(65000, std::string("\x0a\x00\x00\x01", 4)), "\\# 4 0a000001");
  EXPECT_EQ(RdataToText(65000, ""), "\\# 0");
  EXPECT_EQ(RdataToText(type::kSVCB, "\x01"), "\\# 1 01");
  auto unknown = Parse(65000, "0a000001");
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.status().message(), HasSubstr("\\#"));
  EXPECT_FALSE(Parse(65000, "\\# 3 0a000001").ok());   // length mismatch
  EXPECT_FALSE(Parse(65000, "\\# 2 0a0").ok());        // odd hex
  EXPECT_FALSE(Parse(65000, "\\# 0 00").ok());
  EXPECT_FALSE(Parse(65000, "\\# 70000 00").ok());
  EXPECT_FALSE(Parse(type::kA, "\\# 3 0a0000").ok());  // validated against the A layout
  EXPECT_FALSE(Parse(type::kMX, "\\# 3 000a05").ok());
}

TEST(RdataText, BytesWithoutFaithfulTextUseGenericForm) {
  // A CAA tag with a non-alphanumeric byte and a DS with an empty digest.
  std::string caa("\x00\x02" "a-" "v", 5);
  ASSERT_TRUE(ValidateRdata(type::kCAA, caa).ok());
  EXPECT_EQ(RdataToText(type::kCAA, caa), "\\# 5 0002612d76");
  EXPECT_EQ(*Parse(type::kCAA, RdataToText(type::kCAA, caa)), caa);
  std::string ds("\x00\x01\x08\x02", 4);
  EXPECT_EQ(RdataToText(type::kDS, ds), "\\# 4 00010802");
  // Malformed bytes never crash the printer.
  EXPECT_EQ(RdataToText(type::kA, "abc"), "\\# 3 616263");
}

TEST(RdataText, Errors) {
  struct Case {
    uint16_t type;
    const char* text;
    const char* message;
  } cases[] = {
      {type::kA, "10.0.0.300", "bad IPv4 address '10.0.0.300'"},
      {type::kA, "10.0.0", "bad IPv4 address"},
      {type::kA, "", "missing IPv4 address"},
      {type::kA, "1.2.3.4 5.6.7.8", "unexpected '5.6.7.8'"},
      {type::kA, "\"1.2.3.4\"", "expected IPv4 address"},
      {type::kAAAA, "2001:db8::g", "bad IPv6 address"},
      {type::kMX, "65536 mail", "bad number '65536'"},
      {type::kMX, "-1 mail", "bad number"},
      {type::kMX, "10", "missing domain name"},
      {type::kMX, "10 a..b", "bad domain name 'a..b'"},
      {type::kCNAME, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "label longer than 63"},
      {type::kSOA, "ns hm 1 2 3 4 5x", "bad TTL '5x'"},
      {type::kSOA, "ns hm 4294967296 2 3 4 5", "bad number"},
      {type::kTXT, "", "missing character-string"},
      {type::kTXT, "\"abc", "unterminated quoted string"},
      {type::kCAA, "0 is-sue \"x\"", "bad CAA tag"},
      {type::kCAA, "256 issue \"x\"", "bad number"},
      {type::kDS, "1 8 2 XYZ0", "bad hex data"},
      {type::kDS, "1 8 2", "missing hex data"},
      {type::kDNSKEY, "257 3 8 AwE", "bad base64"},
      {type::kDNSKEY, "257 3 8 A=wE", "bad base64"},
      {type::kDNSKEY, "257 3 8 AwE=A", "bad base64"},
      {type::kDNSKEY, "257 3 8 AA=B", "bad base64"},
      {type::kNSEC, "next. A BOGUS", "unknown type 'BOGUS'"},
      {type::kRRSIG, "BOGUS 8 2 300 1 2 3 . AAAA", "unknown type"},
      {type::kRRSIG, "A 8 2 300 20241301000000 2 3 . AAAA", "bad timestamp"},
      {type::kTXT, "\"a\"\n\"b\"", "several lines"},
  };
  for (const auto& c : cases) {
    auto r = Parse(c.type, c.text);
    ASSERT_FALSE(r.ok()) << c.text << " -> " << RdataToText(c.type, *r);
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr(c.message)) << c.text;
  }
}

TEST(RdataText, RdataLengthLimit) {
  std::string many;
  for (int i = 0; i < 260; ++i) many += "\"" + std::string(255, 'x') + "\" ";
  auto r = Parse(type::kTXT, many);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("65535"));
}

TEST(RdataText, RecordToTextLooksLikeDig) {
  Record r{*Name::FromText("www.example.com."), type::kA, cls::kIN, 300, std::string("\xc0\x00\x02\x01", 4)};
  EXPECT_EQ(RecordToText(r), "www.example.com.\t300\tIN\tA\t192.0.2.1");
  Record u{*Name::FromText("x.example.com."), 65280, cls::kIN, 60, "\x01\x02"};
  EXPECT_EQ(RecordToText(u), "x.example.com.\t60\tIN\tTYPE65280\t\\# 2 0102");
}

}  // namespace
}  // namespace berth::dns
