#include "dns/zonefile/zonefile.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "dns/wire/rdata.h"
#include "dns/wire/types.h"
#include "dns/zonefile/rdata_text.h"

namespace berth::dns {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

Name N(std::string_view text) { return *Name::FromText(text); }
const Name& Zone() {
  static const Name zone = N("example.com.");
  return zone;
}

Result<std::vector<Record>> Parse(std::string_view text, const ZoneFileOptions& opts = {}) {
  return ParseZoneText(text, Zone(), "test.zone", opts);
}

std::vector<std::string> Lines(const std::vector<Record>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(RecordToText(r));
  return out;
}

constexpr std::string_view kSoa =
    "@ IN SOA ns1 hostmaster ( 2024010101 ; serial\n"
    "            1h 15m 2w 300 ) ; timers\n";

TEST(ZoneFile, FullSyntax) {
  std::string text = std::string("$TTL 1h\n") + std::string(kSoa) +
                     "        NS   ns1          ; blank owner = @\n"
                     "        IN 600 NS ns2.example.net.\n"
                     "ns1     300 IN A 192.0.2.1\n"
                     "NS1     IN 300 AAAA 2001:db8::1\n"
                     "www     CNAME @\n"
                     "txt     TXT \"semi;colon\" \"quote\\\"d\" bare\n"
                     "multi   TXT ( \"one\"\n"
                     "              \"two\" )\n"
                     "\n"
                     "   ; a comment line\n"
                     "$ORIGIN sub.example.com.\n"
                     "a       A 10.0.0.1\n"
                     "        MX 10 @\n"
                     "$origin example.com.\n"
                     "b.c.example.com. 1d IN A 10.0.0.2\n"
                     "*       A 10.0.0.3\n"
                     "unk     TYPE65280 \\# 3 abcdef\n"
                     "a1      TYPE1 10.9.8.7\n"
                     "last    CAA 0 issue \"letsencrypt.org\"\r\n";
  auto r = Parse(text);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::vector<std::string> want = {
      "example.com.\t3600\tIN\tSOA\tns1.example.com. hostmaster.example.com. 2024010101 3600 900 1209600 300",
      "example.com.\t3600\tIN\tNS\tns1.example.com.",
      "example.com.\t600\tIN\tNS\tns2.example.net.",
      "ns1.example.com.\t300\tIN\tA\t192.0.2.1",
      "NS1.example.com.\t300\tIN\tAAAA\t2001:db8::1",
      "www.example.com.\t3600\tIN\tCNAME\texample.com.",
      "txt.example.com.\t3600\tIN\tTXT\t\"semi;colon\" \"quote\\\"d\" \"bare\"",
      "multi.example.com.\t3600\tIN\tTXT\t\"one\" \"two\"",
      "a.sub.example.com.\t3600\tIN\tA\t10.0.0.1",
      "a.sub.example.com.\t3600\tIN\tMX\t10 sub.example.com.",
      "b.c.example.com.\t86400\tIN\tA\t10.0.0.2",
      "*.example.com.\t3600\tIN\tA\t10.0.0.3",
      "unk.example.com.\t3600\tIN\tTYPE65280\t\\# 3 abcdef",
      "a1.example.com.\t3600\tIN\tA\t10.9.8.7",
      "last.example.com.\t3600\tIN\tCAA\t0 issue \"letsencrypt.org\"",
  };
  EXPECT_EQ(Lines(*r), want);
}

TEST(ZoneFile, DefaultTtlRules) {
  // No $TTL: the SOA takes its own minimum, later records the last explicit TTL (RFC 1035).
  auto r = Parse(std::string(kSoa) + "  NS ns1\nx 77 A 10.0.0.1\ny A 10.0.0.2\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].ttl, 300u);
  EXPECT_EQ((*r)[1].ttl, 300u);
  EXPECT_EQ((*r)[3].ttl, 77u);
  // $TTL wins over the last explicit TTL.
  r = Parse("$TTL 5m\n" + std::string(kSoa) + "x 77 A 10.0.0.1\ny A 10.0.0.2\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[2].ttl, 300u);
  EXPECT_EQ((*r)[0].ttl, 300u);
  // Nothing to default from.
  r = Parse("x A 10.0.0.1\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "test.zone:1: no TTL: give the record a TTL or add a $TTL line before it");
}

TEST(ZoneFile, ErrorsNameFileAndLine) {
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"$TTL 1h\n\nx A 10.0.0.300\n", "test.zone:3: bad IPv4 address '10.0.0.300'"},
      {"$TTL 1h\nx IN A\n", "test.zone:2: missing IPv4 address"},
      {"$TTL 1h\nx IN\n", "test.zone:2: missing record type"},
      {"$TTL 1h\nx IN BOGUS 1\n", "test.zone:2: unknown record type 'BOGUS'"},
      {"$TTL 1h\nx CH A 10.0.0.1\n", "test.zone:2: class CH is not supported"},
      {"$TTL 1h\nx 1y A 10.0.0.1\n", "test.zone:2: bad TTL '1y'"},
      {"$TTL 1h\nwww.example.org. A 10.0.0.1\n", "test.zone:2: owner 'www.example.org.' is outside the zone"},
      {"$TTL 1h\n$ORIGIN example.net.\nwww A 10.0.0.1\n", "test.zone:3: owner 'www.example.net.'"},
      {"$TTL 1h\n  A 10.0.0.1\n", "test.zone:2: line starts with a blank but there is no previous owner"},
      {"$TTL 1h\nx TXT \"abc\n", "test.zone:2: unterminated quoted string"},
      {"$TTL 1h\nx TXT ( \"a\"\n\n", "test.zone:2: '(' is never closed"},
      {"$TTL 1h\nx TXT \"a\" )\n", "test.zone:2: ')' without '('"},
      {"$TTL 1h\nx TXT ( ( \"a\" ) )\n", "test.zone:2: nested parentheses"},
      {"$TTL 1h\nx TXT a\"b\"\n", "test.zone:2: unexpected quote"},
      {"$TTL 1h\nx TXT \"a\"b\n", "test.zone:2: missing space after quoted string"},
      {"$TTL 1h\nx TXT \"a\"\"b\"\n", "test.zone:2: missing space after quoted string"},
      {"$TTL 1h\nx TXT a\\\n", "test.zone:2: dangling backslash"},
      {"$TTL 1h\nx TXT a\x01\n", "test.zone:2: control character"},
      {"$TTL\n", "test.zone:1: $TTL takes 1 argument"},
      {"$TTL 1h 2h\n", "test.zone:1: $TTL takes 1 argument"},
      {"$ORIGIN a..b.\n", "test.zone:1: bad $ORIGIN 'a..b.'"},
      {"$GENERATE 1-10 host$ A 10.0.0.$\n", "test.zone:1: $GENERATE is not supported"},
      {"$FOO bar\n", "test.zone:1: unknown directive '$FOO'"},
      {"$TTL 1h\nx OPT \\# 0\n", "test.zone:2: type OPT cannot appear in a zone"},
      {"$TTL 1h\nx IN ANY \\# 0\n", "test.zone:2: type ANY cannot appear in a zone"},
      {"$TTL 1h\nx CLASS3 A 10.0.0.1\n", "test.zone:2: class CH is not supported"},
      {"$TTL 1h\nx TYPE65280 abcd\n", "test.zone:2: type TYPE65280 has no text format here"},
      {"$TTL 1h\nx SOA ns hm 1 2 3 4\n", "test.zone:2: missing TTL"},
      {"$TTL 1h\nx MX ( 10\n  mail extra )\n", "test.zone:2: unexpected 'extra'"},
      {"$TTL 1h\n\"x\" A 10.0.0.1\n", "test.zone:2: bad owner name"},
      {"$INCLUDE other.zone\n", "test.zone:1: cannot read"},
  };
  for (const auto& c : cases) {
    auto r = Parse(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_THAT(r.status().message(), StartsWith(c.message)) << c.text;
  }
}

TEST(ZoneFile, TtlAndClassInEitherOrder) {
  auto r = Parse("a 60 IN A 10.0.0.1\nb IN 60 A 10.0.0.1\nc in 1M a 10.0.0.1\nd CLASS1 60 A 10.0.0.1\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (const auto& rec : *r) EXPECT_EQ(rec.ttl, rec.name == N("c.example.com.") ? 60u : 60u);
  EXPECT_EQ(r->size(), 4u);
}

TEST(ZoneFile, Limits) {
  ZoneFileOptions opts;
  opts.max_records = 2;
  auto r = Parse("$TTL 1\na A 10.0.0.1\nb A 10.0.0.1\nc A 10.0.0.1\n", opts);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kResourceExhausted);
  EXPECT_THAT(r.status().message(), StartsWith("test.zone:4: more than 2 records"));
  opts = {};
  opts.max_bytes = 10;
  r = Parse("$TTL 1\na A 10.0.0.1\n", opts);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kResourceExhausted);
  std::string many = "$TTL 1\nx TXT (";
  for (int i = 0; i < 140000; ++i) many += " a";
  r = Parse(many + " )\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "test.zone:2: too many fields in one entry");
  opts = {};
  opts.allow_include = false;
  r = Parse("$INCLUDE /etc/hostname\n", opts);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "test.zone:1: $INCLUDE is not allowed here");
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/berth_zonefile_XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& name, std::string_view text) const {
    std::string p = path_ + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(p).parent_path());
    std::ofstream(p) << text;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(ZoneFile, IncludeRelativeToTheIncludingFile) {
  TempDir dir;
  dir.Write("sub/hosts.inc", "www A 10.0.0.1\n  AAAA 2001:db8::1\n$TTL 99\n");
  dir.Write("sub/more.inc", "$INCLUDE hosts.inc deeper\nmail A 10.0.0.2\n");
  std::string main = dir.Write("main.zone",
                               "$TTL 1h\n"
                               "@ SOA ns1 hm 1 2 3 4 5\n"
                               "$INCLUDE sub/hosts.inc\n"
                               "$INCLUDE \"sub/more.inc\" lab\n"
                               "after A 10.0.0.3\n");
  auto r = ParseZoneFile(main, Zone());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::vector<std::string> want = {
      "example.com.\t3600\tIN\tSOA\tns1.example.com. hm.example.com. 1 2 3 4 5",
      "www.example.com.\t3600\tIN\tA\t10.0.0.1",
      "www.example.com.\t3600\tIN\tAAAA\t2001:db8::1",
      "www.deeper.lab.example.com.\t99\tIN\tA\t10.0.0.1",
      "www.deeper.lab.example.com.\t99\tIN\tAAAA\t2001:db8::1",
      "mail.lab.example.com.\t99\tIN\tA\t10.0.0.2",
      // The parent's origin is restored after $INCLUDE; the $TTL carries over, as in BIND.
      "after.example.com.\t99\tIN\tA\t10.0.0.3",
  };
  EXPECT_EQ(Lines(*r), want);
}

TEST(ZoneFile, IncludeErrors) {
  TempDir dir;
  dir.Write("bad.inc", "$TTL 1h\n\nx A 10.0.0.300\n");
  dir.Write("loop_a.inc", "$INCLUDE loop_b.inc\n");
  dir.Write("loop_b.inc", "$INCLUDE ./loop_a.inc\n");
  dir.Write("self.zone", "$INCLUDE self.zone\n");
  std::string main = dir.Write("main.zone", "; header\n$INCLUDE bad.inc\n");
  auto r = ParseZoneFile(main, Zone());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            dir.path() + "/bad.inc:3: bad IPv4 address '10.0.0.300' (included from " + main + ":2)");

  r = ParseZoneFile(dir.Write("m2.zone", "$INCLUDE loop_a.inc\n"), Zone());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("$INCLUDE loop"));
  r = ParseZoneFile(dir.path() + "/self.zone", Zone());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("$INCLUDE loop"));

  // A chain deeper than the limit.
  for (int i = 0; i < 12; ++i)
    dir.Write("d" + std::to_string(i) + ".inc", "$INCLUDE d" + std::to_string(i + 1) + ".inc\n");
  dir.Write("d12.inc", "$TTL 1\n");
  r = ParseZoneFile(dir.path() + "/d0.inc", Zone());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("nested deeper than 10"));
  ZoneFileOptions opts;
  opts.max_include_depth = 20;
  EXPECT_TRUE(ParseZoneFile(dir.path() + "/d0.inc", Zone(), opts).ok());

  // ParseZoneText resolves includes against include_dir.
  opts = {};
  opts.include_dir = dir.path();
  r = ParseZoneText("$INCLUDE d12.inc\n", Zone(), "api", opts);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  // Not a regular file.
  r = ParseZoneText("$INCLUDE /dev/zero\n", Zone(), "api");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("not a regular file"));
  auto missing = ParseZoneFile(dir.path() + "/nope.zone", Zone());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
}

TEST(ZoneFile, WriterRoundTrips) {
  std::string text =
      "$TTL 1h\n"
      "www A 192.0.2.1\n" + std::string(kSoa) +
      "  NS ns1\n"
      "  MX 10 mail\n"
      "  TXT \"v=spf1 -all\" \"with \\\"quotes\\\" and \\\\ and \\009 tab\"\n"
      "\\@odd\\.label\\$ A 10.0.0.1\n"
      "  HINFO \"\\255bin\" OS\n"
      "_sip._tcp SRV 0 5 5060 sip\n"
      "  CAA 0 issuewild \";\"\n"
      "  NAPTR 100 10 \"S\" \"SIP+D2U\" \"!^.*$!sip:x@example.com!\" .\n"
      "  DS 60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118\n"
      "  SSHFP 1 1 0123456789abcdef0123456789abcdef01234567\n"
      "  TLSA 3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6\n"
      "  DNSKEY 257 3 8 AwEAAag=\n"
      "  RRSIG A 8 3 86400 20300101000000 20240101000000 12345 example.com. AAEC\n"
      "  NSEC www A NS SOA MX RRSIG NSEC DNSKEY TYPE999\n"
      "  RP hm .\n"
      "  SPF \"v=spf1 -all\"\n"
      "  DNAME example.net.\n"
      "  PTR x\n"
      "  CNAME y\n"
      "  AAAA ::\n"
      "  TYPE65280 \\# 0\n"
      "  HTTPS \\# 3 000100\n"
      "  DS \\# 4 00010802\n";
  auto first = Parse(text);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  std::string written = WriteZoneText(Zone(), *first);
  auto second = ParseZoneText(written, Zone(), "written.zone");
  ASSERT_TRUE(second.ok()) << second.status().ToString() << "\n" << written;
  ASSERT_EQ(second->size(), first->size());
  EXPECT_EQ((*second)[0].type, type::kSOA);  // SOA first
  EXPECT_EQ((*second)[0], (*first)[1]);
  EXPECT_EQ((*second)[1], (*first)[0]);
  for (size_t i = 2; i < first->size(); ++i) EXPECT_EQ((*second)[i], (*first)[i]) << i;
  // Writing again gives the same text.
  EXPECT_EQ(WriteZoneText(Zone(), *second), written);
}

TEST(ZoneFile, EmptyTextHasNoRecords) {
  auto r = Parse("; nothing\n\n   \n");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

}  // namespace
}  // namespace berth::dns
