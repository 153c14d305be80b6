#include "dns/update/update.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dns/zonefile/rdata_text.h"
#include "dns/zonefile/zonefile.h"

namespace berth::dns::update {
namespace {

Name N(std::string_view t) { return *Name::FromText(t); }
const Name& Origin() {
  static const Name origin = N("example.");
  return origin;
}

std::string Rd(uint16_t t, std::string_view text) {
  auto r = RdataFromText(t, text, Origin());
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::string();
}

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

// Builds UPDATE messages byte by byte (no compression unless written by hand).
class Builder {
 public:
  explicit Builder(std::string_view zone = "example.", uint16_t ztype = type::kSOA, uint16_t zclass = cls::kIN) {
    zone_ = std::string(N(zone).wire());
    Put16(zone_, ztype);
    Put16(zone_, zclass);
  }
  Builder& Pre(std::string_view owner, uint16_t cls, uint16_t t, std::string rdata = {}, uint32_t ttl = 0) {
    pre_.push_back(Rr(owner, cls, t, ttl, rdata));
    return *this;
  }
  Builder& Upd(std::string_view owner, uint16_t cls, uint16_t t, std::string rdata = {}, uint32_t ttl = 0) {
    upd_.push_back(Rr(owner, cls, t, ttl, rdata));
    return *this;
  }
  // Adds a zone-class record with RDATA from text.
  Builder& Add(std::string_view owner, uint16_t t, std::string_view text, uint32_t ttl = 300) {
    return Upd(owner, cls::kIN, t, Rd(t, text), ttl);
  }
  Builder& Additional(std::string raw) {
    add_.push_back(std::move(raw));
    return *this;
  }
  Builder& Id(uint16_t id) {
    id_ = id;
    return *this;
  }
  Builder& Flags(uint16_t flags) {
    flags_ = flags;
    return *this;
  }
  Builder& ZoneCount(uint16_t n) {
    zocount_ = n;
    return *this;
  }
  std::string Bytes() const {
    std::string m;
    Put16(m, id_);
    Put16(m, flags_);
    Put16(m, zocount_);
    Put16(m, static_cast<uint16_t>(pre_.size()));
    Put16(m, static_cast<uint16_t>(upd_.size()));
    Put16(m, static_cast<uint16_t>(add_.size()));
    for (uint16_t i = 0; i < zocount_; ++i) m += zone_;
    for (const auto& r : pre_) m += r;
    for (const auto& r : upd_) m += r;
    for (const auto& r : add_) m += r;
    return m;
  }
  ParseResult Parse(uint16_t stripped = 0) const {
    std::string b = Bytes();
    return ParseUpdate(reinterpret_cast<const uint8_t*>(b.data()), b.size(), stripped);
  }
  UpdateMessage Ok() const {
    ParseResult r = Parse();
    EXPECT_EQ(r.outcome, Outcome::kOk) << r.error;
    return r.message;
  }

  static void Put16(std::string& s, uint16_t v) {
    s.push_back(static_cast<char>(v >> 8));
    s.push_back(static_cast<char>(v));
  }
  static std::string Rr(std::string_view owner, uint16_t cls, uint16_t t, uint32_t ttl, const std::string& rdata) {
    std::string s(N(owner).wire());
    Put16(s, t);
    Put16(s, cls);
    Put16(s, static_cast<uint16_t>(ttl >> 16));
    Put16(s, static_cast<uint16_t>(ttl));
    Put16(s, static_cast<uint16_t>(rdata.size()));
    return s + rdata;
  }

 private:
  uint16_t id_ = 0x1234;
  uint16_t flags_ = opcode::kUpdate << 11;
  uint16_t zocount_ = 1;
  std::string zone_;
  std::vector<std::string> pre_, upd_, add_;
};

ZoneContent Zone(uint32_t serial = 10) {
  std::string text = "$TTL 300\n@ 3600 SOA ns hostmaster " + std::to_string(serial) +
                     " 3600 600 86400 60\n"
                     "@ NS ns\n@ NS ns2\n@ MX 10 mail\nns A 192.0.2.1\nns2 A 192.0.2.2\nmail A 192.0.2.5\n"
                     "www A 192.0.2.3\nwww A 192.0.2.4\nwww TXT \"hi\"\nalias CNAME www\na.b A 192.0.2.6\n"
                     "sub NS ns.sub\nns.sub A 192.0.2.7\n";
  auto records = ParseZoneText(text, Origin(), "test");
  EXPECT_TRUE(records.ok()) << records.status().ToString();
  return ZoneContent(Origin(), std::move(*records));
}

uint16_t Prereq(const Builder& b, const ZoneContent& z) { return CheckPrerequisites(b.Ok(), z); }

// Applies after a successful prescan; returns the number of changed RRs.
size_t Apply(const Builder& b, ZoneContent& z) {
  UpdateMessage m = b.Ok();
  EXPECT_EQ(PrescanUpdates(m, {}), rcode::kNoError);
  return ApplyUpdates(m, z);
}

std::vector<std::string> Texts(const std::vector<Record>& rs) {
  std::vector<std::string> out;
  for (const auto& r : rs) out.push_back(std::to_string(r.ttl) + " " + RdataToText(r.type, r.rdata));
  std::sort(out.begin(), out.end());
  return out;
}

// ---------------------------------------------------------------------------------------------
// Parsing

TEST(UpdateParse, CapturedNsupdateMessage) {
  // nsupdate 9.18: prereq nxdomain/yxdomain/nxrrset/yxrrset (both forms), add A, add MX
  // (RDATA name compressed to the zone name), delete RRset, delete name, delete RR.
  std::string b = Unhex(
      "1c1b28000001000500050000076578616d706c650000060001036e6577c00c00ff00fe00000000000003777777c0"
      "0c00ff00ff000000000000c029001c00fe000000000000c029000100ff000000000000c0290001000100000000000"
      "4c0000203c019000100010000012c0004c000020ac019000f00010000012c0009000a046d61696cc00c036f6c64c0"
      "0c000100ff00000000000004676f6e65c00c00ff00ff000000000000c029000100fe000000000004c0000203");
  ParseResult r = ParseUpdate(reinterpret_cast<const uint8_t*>(b.data()), b.size());
  ASSERT_EQ(r.outcome, Outcome::kOk) << r.error;
  const UpdateMessage& m = r.message;
  EXPECT_EQ(m.id, 0x1c1b);
  EXPECT_TRUE(m.zone == Origin());
  ASSERT_EQ(m.prerequisites.size(), 5u);
  EXPECT_EQ(m.prerequisites[0].cls, cls::kNONE);
  EXPECT_EQ(m.prerequisites[0].type, type::kANY);
  EXPECT_EQ(m.prerequisites[1].cls, cls::kANY);
  EXPECT_EQ(m.prerequisites[2].type, type::kAAAA);
  EXPECT_EQ(m.prerequisites[4].cls, cls::kIN);
  EXPECT_EQ(m.prerequisites[4].rdata, Rd(type::kA, "192.0.2.3"));
  ASSERT_EQ(m.updates.size(), 5u);
  EXPECT_EQ(m.updates[1].type, type::kMX);
  EXPECT_EQ(m.updates[1].rdata, Rd(type::kMX, "10 mail.example."));  // pointer resolved
  EXPECT_EQ(m.updates[2].cls, cls::kANY);
  EXPECT_EQ(m.updates[3].type, type::kANY);
  EXPECT_EQ(m.updates[4].cls, cls::kNONE);

  ZoneContent z = Zone();
  // new. is absent, www has A and no AAAA, and www A is exactly {.3, .4}: the last fails.
  EXPECT_EQ(CheckPrerequisites(m, z), rcode::kNXRRSet);
}

TEST(UpdateParse, CapturedSignedNsupdateMessage) {
  // nsupdate -y hmac-sha256:key1.:...: AAAA add, CNAME add (RDATA compressed), TXT RR delete,
  // then the TSIG record.
  std::string b = Unhex(
      "906128000001000000030001076578616d706c65000006000104686f7374c00c001c00010000003c0010200"
      "10db800000000000000000000000105616c696173c00c000500010000003c0002c019c019001000fe0000000"
      "0000403612062046b6579310000fa00ff00000000003d0b686d61632d7368613235360000006b0b8820012c0"
      "020da3447e0613c1877d3bc555d654613ea965c25d9cdba90b758ca7167fa05ba42906100000000");
  size_t tsig = b.find(Unhex("046b6579310000fa00ff"));
  ASSERT_NE(tsig, std::string::npos);
  auto* p = reinterpret_cast<const uint8_t*>(b.data());
  ParseResult r = ParseUpdate(p, tsig, 1);
  ASSERT_EQ(r.outcome, Outcome::kOk) << r.error;
  ASSERT_EQ(r.message.updates.size(), 3u);
  EXPECT_EQ(r.message.updates[1].rdata, std::string(N("host.example.").wire()));
  EXPECT_EQ(r.message.updates[2].rdata, Rd(type::kTXT, "\"a b\""));
  // Unstripped, the TSIG is just one more ignored additional record.
  EXPECT_EQ(ParseUpdate(p, b.size()).outcome, Outcome::kOk);
  // Claiming it stripped while it is still there leaves trailing bytes; ARCOUNT must count it.
  EXPECT_EQ(ParseUpdate(p, b.size(), 1).rcode, rcode::kFormErr);
  EXPECT_EQ(ParseUpdate(p, tsig, 2).rcode, rcode::kFormErr);
  EXPECT_EQ(ParseUpdate(p, tsig, 0).rcode, rcode::kFormErr);  // a record missing
}

TEST(UpdateParse, CapturedKnsupdateMessage) {
  std::string b = Unhex(
      "05c228000001000100030000076578616d706c650000060001016bc00c000100fe000000000000c0190001000"
      "1000000780004c0000207c0190010000100000078000c0b68656c6c6f20776f726c64c019002100ff000000000000");
  ParseResult r = ParseUpdate(reinterpret_cast<const uint8_t*>(b.data()), b.size());
  ASSERT_EQ(r.outcome, Outcome::kOk) << r.error;
  ZoneContent z = Zone();
  EXPECT_EQ(ProcessUpdate(r.message, z, {}), rcode::kNoError);
  EXPECT_EQ(Texts(z.RRset(N("k.example."), type::kA)), std::vector<std::string>{"120 192.0.2.7"});
  EXPECT_EQ(Texts(z.RRset(N("k.example."), type::kTXT)), std::vector<std::string>{"120 \"hello world\""});
}

TEST(UpdateParse, DropsShortMessagesAndResponses) {
  std::string b = Builder().Bytes();
  EXPECT_EQ(ParseUpdate(reinterpret_cast<const uint8_t*>(b.data()), 11).outcome, Outcome::kDrop);
  EXPECT_EQ(Builder().Flags(flag::kQR | opcode::kUpdate << 11).Parse().outcome, Outcome::kDrop);
}

TEST(UpdateParse, OtherOpcodeIsNotImp) {
  ParseResult r = Builder().Flags(0).Parse();
  EXPECT_EQ(r.outcome, Outcome::kError);
  EXPECT_EQ(r.rcode, rcode::kNotImp);
  EXPECT_EQ(r.message.id, 0x1234);
}

TEST(UpdateParse, ZoneSectionRules) {
  EXPECT_EQ(Builder().Parse().outcome, Outcome::kOk);
  ParseResult none = Builder().ZoneCount(0).Parse();
  EXPECT_EQ(none.rcode, rcode::kFormErr);
  EXPECT_FALSE(none.message.has_zone);
  EXPECT_EQ(Builder().ZoneCount(2).Parse().rcode, rcode::kFormErr);
  EXPECT_EQ(Builder("example.", type::kA).Parse().rcode, rcode::kFormErr);
  EXPECT_EQ(Builder("example.", type::kSOA, cls::kANY).Parse().rcode, rcode::kFormErr);
  EXPECT_EQ(Builder("example.", type::kSOA, cls::kNONE).Parse().rcode, rcode::kFormErr);
}

TEST(UpdateParse, PrerequisiteFormErrors) {
  const std::string a = Rd(type::kA, "192.0.2.1");
  auto rc = [](const Builder& b) { return b.Parse().rcode; };
  EXPECT_EQ(rc(Builder().Pre("www.example.", cls::kANY, type::kANY, {}, 1)), rcode::kFormErr);  // TTL
  EXPECT_EQ(rc(Builder().Pre("www.example.", cls::kANY, type::kA, a)), rcode::kFormErr);       // RDATA
  EXPECT_EQ(rc(Builder().Pre("www.example.", cls::kNONE, type::kA, a)), rcode::kFormErr);
  EXPECT_EQ(rc(Builder().Pre("www.example.", cls::kNONE, type::kAXFR)), rcode::kFormErr);
  EXPECT_EQ(rc(Builder().Pre("www.example.", cls::kIN, type::kA, a, 300)), rcode::kFormErr);   // TTL
  EXPECT_EQ(rc(Builder().Pre("www.example.", cls::kIN, type::kANY)), rcode::kFormErr);
  EXPECT_EQ(rc(Builder().Pre("www.example.", cls::kIN, type::kA)), rcode::kFormErr);           // no RDATA
  EXPECT_EQ(rc(Builder().Pre("www.example.", cls::kCH, type::kA, a)), rcode::kFormErr);
  EXPECT_EQ(rc(Builder().Pre("www.example.", cls::kIN, type::kA, "abc")), rcode::kFormErr);    // bad A
  EXPECT_EQ(Builder().Pre("www.example.", cls::kIN, type::kA, a).Parse().outcome, Outcome::kOk);
}

TEST(UpdateParse, UpdateFormErrors) {
  const std::string a = Rd(type::kA, "192.0.2.1");
  auto rc = [](const Builder& b) { return b.Parse().rcode; };
  EXPECT_EQ(rc(Builder().Upd("www.example.", cls::kANY, type::kA, {}, 5)), rcode::kFormErr);
  EXPECT_EQ(rc(Builder().Upd("www.example.", cls::kANY, type::kA, a)), rcode::kFormErr);
  EXPECT_EQ(rc(Builder().Upd("www.example.", cls::kANY, type::kAXFR)), rcode::kFormErr);
  EXPECT_EQ(rc(Builder().Upd("www.example.", cls::kNONE, type::kA, a, 5)), rcode::kFormErr);
  EXPECT_EQ(rc(Builder().Upd("www.example.", cls::kNONE, type::kANY)), rcode::kFormErr);
  EXPECT_EQ(rc(Builder().Upd("www.example.", cls::kNONE, type::kA)), rcode::kFormErr);  // no RDATA
  EXPECT_EQ(rc(Builder().Upd("www.example.", cls::kIN, type::kANY, {}, 5)), rcode::kFormErr);
  for (uint16_t t : {type::kAXFR, type::kIXFR, type::kTSIG, type::kOPT, type::kTKEY, uint16_t{253}, uint16_t{254}})
    EXPECT_EQ(rc(Builder().Upd("www.example.", cls::kIN, t, "x", 5)), rcode::kFormErr) << t;
  EXPECT_EQ(rc(Builder().Upd("www.example.", cls::kCH, type::kA, a, 5)), rcode::kFormErr);
  EXPECT_EQ(rc(Builder().Upd("www.example.", cls::kIN, type::kMX, std::string("\0\x0a\xc3\xff", 4), 5)),
            rcode::kFormErr);  // a pointer past the message
  EXPECT_EQ(Builder().Upd("www.example.", cls::kANY, type::kA).Parse().outcome, Outcome::kOk);
  EXPECT_EQ(Builder().Upd("www.example.", cls::kANY, type::kANY).Parse().outcome, Outcome::kOk);
  EXPECT_EQ(Builder().Upd("www.example.", cls::kNONE, type::kA, a).Parse().outcome, Outcome::kOk);
  // Unknown types may have empty RDATA.
  EXPECT_EQ(Builder().Upd("www.example.", cls::kIN, 65280, {}, 5).Parse().outcome, Outcome::kOk);
}

TEST(UpdateParse, CompressedNamesInRdataAreExpanded) {
  // An MX add whose exchange is "mail" + pointer to the zone name at offset 12.
  std::string rdata = std::string("\x00\x0a\x04mail\xc0\x0c", 9);
  UpdateMessage m = Builder().Upd("example.", cls::kIN, type::kMX, rdata, 60).Ok();
  ASSERT_EQ(m.updates.size(), 1u);
  EXPECT_EQ(m.updates[0].rdata, Rd(type::kMX, "10 mail.example."));
}

TEST(UpdateParse, TruncationAtEveryLengthNeverReadsPast) {
  std::string b = Builder()
                      .Pre("www.example.", cls::kIN, type::kA, Rd(type::kA, "192.0.2.3"))
                      .Add("x.example.", type::kMX, "10 mail")
                      .Upd("y.example.", cls::kANY, type::kANY)
                      .Bytes();
  for (size_t len = 0; len < b.size(); ++len) {
    // A copy of exactly `len` bytes, so ASan sees any overread.
    std::vector<uint8_t> copy(b.begin(), b.begin() + static_cast<long>(len));
    ParseResult r = ParseUpdate(copy.data(), copy.size());
    EXPECT_NE(r.outcome, Outcome::kOk) << len;
    if (len >= kHeaderSize) {
      EXPECT_EQ(r.rcode, rcode::kFormErr) << len;
    }
  }
  b.push_back(0);
  EXPECT_EQ(ParseUpdate(reinterpret_cast<const uint8_t*>(b.data()), b.size()).rcode, rcode::kFormErr);
}

std::string Opt(uint8_t version, uint16_t size = 1232) {
  std::string s(1, '\0');
  Builder::Put16(s, type::kOPT);
  Builder::Put16(s, size);
  s.push_back(0);
  s.push_back(static_cast<char>(version));
  Builder::Put16(s, 0);
  Builder::Put16(s, 0);
  return s;
}

TEST(UpdateParse, Edns) {
  ParseResult r = Builder().Additional(Opt(0)).Parse();
  ASSERT_EQ(r.outcome, Outcome::kOk) << r.error;
  EXPECT_TRUE(r.message.has_edns);
  r = Builder().Additional(Opt(1)).Parse();
  EXPECT_EQ(r.rcode, rcode::kBadVers);
  EXPECT_TRUE(r.message.has_edns);
  EXPECT_EQ(Builder().Additional(Opt(0)).Additional(Opt(0)).Parse().rcode, rcode::kFormErr);
  std::string misplaced = Opt(0);
  misplaced = std::string(N("x.").wire()) + misplaced.substr(1);
  EXPECT_EQ(Builder().Additional(misplaced).Parse().rcode, rcode::kFormErr);
}

// ---------------------------------------------------------------------------------------------
// Prerequisites (RFC 2136 §2.4, §3.2)

TEST(UpdatePrereq, NameInUse) {
  ZoneContent z = Zone();
  EXPECT_EQ(Prereq(Builder().Pre("www.example.", cls::kANY, type::kANY), z), rcode::kNoError);
  EXPECT_EQ(Prereq(Builder().Pre("WWW.Example.", cls::kANY, type::kANY), z), rcode::kNoError);
  EXPECT_EQ(Prereq(Builder().Pre("nope.example.", cls::kANY, type::kANY), z), rcode::kNXDomain);
  // An empty non-terminal holds no RR: not in use.
  EXPECT_EQ(Prereq(Builder().Pre("b.example.", cls::kANY, type::kANY), z), rcode::kNXDomain);
}

TEST(UpdatePrereq, NameNotInUse) {
  ZoneContent z = Zone();
  EXPECT_EQ(Prereq(Builder().Pre("nope.example.", cls::kNONE, type::kANY), z), rcode::kNoError);
  EXPECT_EQ(Prereq(Builder().Pre("b.example.", cls::kNONE, type::kANY), z), rcode::kNoError);
  EXPECT_EQ(Prereq(Builder().Pre("www.example.", cls::kNONE, type::kANY), z), rcode::kYXDomain);
}

TEST(UpdatePrereq, RRsetExistsValueIndependent) {
  ZoneContent z = Zone();
  EXPECT_EQ(Prereq(Builder().Pre("www.example.", cls::kANY, type::kTXT), z), rcode::kNoError);
  EXPECT_EQ(Prereq(Builder().Pre("www.example.", cls::kANY, type::kAAAA), z), rcode::kNXRRSet);
  EXPECT_EQ(Prereq(Builder().Pre("nope.example.", cls::kANY, type::kA), z), rcode::kNXRRSet);
}

TEST(UpdatePrereq, RRsetDoesNotExist) {
  ZoneContent z = Zone();
  EXPECT_EQ(Prereq(Builder().Pre("www.example.", cls::kNONE, type::kAAAA), z), rcode::kNoError);
  EXPECT_EQ(Prereq(Builder().Pre("www.example.", cls::kNONE, type::kA), z), rcode::kYXRRSet);
}

TEST(UpdatePrereq, RRsetExistsValueDependent) {
  ZoneContent z = Zone();
  const std::string a3 = Rd(type::kA, "192.0.2.3"), a4 = Rd(type::kA, "192.0.2.4"), a9 = Rd(type::kA, "192.0.2.9");
  // The whole RRset, in any order; TTL must be 0 on the wire and is not compared.
  EXPECT_EQ(Prereq(Builder().Pre("www.example.", cls::kIN, type::kA, a4).Pre("www.example.", cls::kIN, type::kA, a3), z),
            rcode::kNoError);
  // Duplicates in the prerequisite collapse.
  EXPECT_EQ(Prereq(Builder()
                       .Pre("www.example.", cls::kIN, type::kA, a4)
                       .Pre("www.example.", cls::kIN, type::kA, a3)
                       .Pre("WWW.example.", cls::kIN, type::kA, a3),
                   z),
            rcode::kNoError);
  EXPECT_EQ(Prereq(Builder().Pre("www.example.", cls::kIN, type::kA, a3), z), rcode::kNXRRSet);  // subset
  EXPECT_EQ(Prereq(Builder()
                       .Pre("www.example.", cls::kIN, type::kA, a3)
                       .Pre("www.example.", cls::kIN, type::kA, a4)
                       .Pre("www.example.", cls::kIN, type::kA, a9),
                   z),
            rcode::kNXRRSet);  // superset
  EXPECT_EQ(Prereq(Builder().Pre("www.example.", cls::kIN, type::kA, a3).Pre("www.example.", cls::kIN, type::kA, a9), z),
            rcode::kNXRRSet);  // same size, other data
  EXPECT_EQ(Prereq(Builder().Pre("nope.example.", cls::kIN, type::kA, a3), z), rcode::kNXRRSet);
  // Names inside RDATA compare without case.
  EXPECT_EQ(Prereq(Builder().Pre("alias.example.", cls::kIN, type::kCNAME, std::string(N("WWW.EXAMPLE.").wire())), z),
            rcode::kNoError);
  // Two RRsets at once: both must match.
  EXPECT_EQ(Prereq(Builder()
                       .Pre("www.example.", cls::kIN, type::kTXT, Rd(type::kTXT, "\"hi\""))
                       .Pre("example.", cls::kIN, type::kMX, Rd(type::kMX, "20 mail")),
                   z),
            rcode::kNXRRSet);
  EXPECT_EQ(Prereq(Builder()
                       .Pre("www.example.", cls::kIN, type::kTXT, Rd(type::kTXT, "\"hi\""))
                       .Pre("example.", cls::kIN, type::kMX, Rd(type::kMX, "10 mail")),
                   z),
            rcode::kNoError);
}

TEST(UpdatePrereq, NotZoneAndOrder) {
  ZoneContent z = Zone();
  EXPECT_EQ(Prereq(Builder().Pre("www.other.", cls::kANY, type::kANY), z), rcode::kNotZone);
  EXPECT_EQ(Prereq(Builder().Pre("example.", cls::kANY, type::kANY), z), rcode::kNoError);
  // The first failing prerequisite in message order decides...
  EXPECT_EQ(Prereq(Builder().Pre("nope.example.", cls::kANY, type::kANY).Pre("www.example.", cls::kNONE, type::kA), z),
            rcode::kNXDomain);
  EXPECT_EQ(Prereq(Builder().Pre("www.example.", cls::kNONE, type::kA).Pre("nope.example.", cls::kANY, type::kANY), z),
            rcode::kYXRRSet);
  // ...and value-dependent RRsets are compared after every other form (§3.2.5).
  EXPECT_EQ(Prereq(Builder()
                       .Pre("www.example.", cls::kIN, type::kA, Rd(type::kA, "192.0.2.9"))
                       .Pre("www.example.", cls::kNONE, type::kANY),
                   z),
            rcode::kYXDomain);
}

// ---------------------------------------------------------------------------------------------
// Prescan and policy (§3.3, §3.4.1)

TEST(UpdatePrescan, NotZone) {
  UpdateMessage m = Builder().Add("www.other.", type::kA, "192.0.2.1").Ok();
  EXPECT_EQ(PrescanUpdates(m, {}), rcode::kNotZone);
  m = Builder().Add("example.", type::kA, "192.0.2.1").Add("deep.www.example.", type::kA, "192.0.2.1").Ok();
  EXPECT_EQ(PrescanUpdates(m, {}), rcode::kNoError);
}

TEST(UpdatePrescan, FormErrForHandBuiltMessages) {
  UpdateMessage m = Builder().Add("www.example.", type::kA, "192.0.2.1").Ok();
  m.updates[0].cls = cls::kCH;
  EXPECT_EQ(PrescanUpdates(m, {}), rcode::kFormErr);
  m.updates[0].cls = cls::kANY;  // with RDATA
  EXPECT_EQ(PrescanUpdates(m, {}), rcode::kFormErr);
  m.updates[0].cls = cls::kIN;
  m.updates[0].rdata = "abc";
  EXPECT_EQ(PrescanUpdates(m, {}), rcode::kFormErr);
}

TEST(UpdatePrescan, PolicyRefusesAndNothingIsApplied) {
  ZoneContent z = Zone();
  std::vector<std::pair<std::string, uint16_t>> asked;
  WritePolicy only_a = [&](const Name& owner, uint16_t t) {
    asked.emplace_back(owner.ToText(), t);
    return t == type::kA || t == type::kAAAA;
  };
  UpdateMessage ok = Builder().Add("h.example.", type::kA, "192.0.2.8").Upd("www.example.", cls::kANY, type::kAAAA).Ok();
  EXPECT_EQ(ProcessUpdate(ok, z, only_a), rcode::kNoError);
  EXPECT_TRUE(z.HasRRset(N("h.example."), type::kA));

  ZoneContent z2 = Zone();
  UpdateMessage bad = Builder().Add("h.example.", type::kA, "192.0.2.8").Add("h.example.", type::kTXT, "\"x\"").Ok();
  EXPECT_EQ(ProcessUpdate(bad, z2, only_a), rcode::kRefused);
  EXPECT_FALSE(z2.NameExists(N("h.example.")));

  asked.clear();
  UpdateMessage all = Builder().Upd("www.example.", cls::kANY, type::kANY).Ok();
  EXPECT_EQ(ProcessUpdate(all, z2, only_a), rcode::kRefused);
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].first, "www.example.");
  EXPECT_EQ(asked[0].second, type::kANY);
  EXPECT_TRUE(z2.NameExists(N("www.example.")));
}

TEST(UpdateProcess, RunsTheRfcSequence) {
  ZoneContent z = Zone();
  // A failing prerequisite changes nothing.
  UpdateMessage m = Builder().Pre("www.example.", cls::kNONE, type::kA).Add("h.example.", type::kA, "192.0.2.8").Ok();
  EXPECT_EQ(ProcessUpdate(m, z, {}), rcode::kYXRRSet);
  EXPECT_FALSE(z.NameExists(N("h.example.")));
  // Prerequisites come before the prescan.
  m = Builder().Pre("www.other.", cls::kANY, type::kANY).Add("h.other.", type::kA, "192.0.2.8").Ok();
  EXPECT_EQ(ProcessUpdate(m, z, {}), rcode::kNotZone);
  m = Builder().Pre("nope.example.", cls::kANY, type::kANY).Add("h.other.", type::kA, "192.0.2.8").Ok();
  EXPECT_EQ(ProcessUpdate(m, z, {}), rcode::kNXDomain);
  // The zone section must name this zone.
  m = Builder("sub.example.").Add("h.sub.example.", type::kA, "192.0.2.8").Ok();
  EXPECT_EQ(ProcessUpdate(m, z, {}), rcode::kNotAuth);
  m = Builder("EXAMPLE.").Add("h.example.", type::kA, "192.0.2.8").Ok();
  EXPECT_EQ(ProcessUpdate(m, z, {}), rcode::kNoError);
}

// ---------------------------------------------------------------------------------------------
// Updates (§3.4.2)

TEST(UpdateApply, AddsAndDuplicates) {
  ZoneContent z = Zone();
  z.Begin();
  EXPECT_EQ(Apply(Builder().Add("new.example.", type::kA, "192.0.2.10", 60), z), 1u);
  EXPECT_EQ(Apply(Builder().Add("www.example.", type::kA, "192.0.2.10"), z), 1u);
  EXPECT_EQ(Texts(z.RRset(N("www.example."), type::kA)),
            (std::vector<std::string>{"300 192.0.2.10", "300 192.0.2.3", "300 192.0.2.4"}));
  // The same RR again: nothing changes.
  EXPECT_EQ(Apply(Builder().Add("www.example.", type::kA, "192.0.2.3"), z), 0u);
  // With another TTL it replaces the zone RR, and the RRset takes the new TTL.
  EXPECT_EQ(Apply(Builder().Add("www.example.", type::kA, "192.0.2.3", 120), z), 1u);
  EXPECT_EQ(Texts(z.RRset(N("www.example."), type::kA)),
            (std::vector<std::string>{"120 192.0.2.10", "120 192.0.2.3", "120 192.0.2.4"}));
  // Equal but for the case of a name in RDATA: replaced, not duplicated.
  EXPECT_EQ(Apply(Builder().Add("example.", type::kMX, "10 MAIL.example.", 300), z), 1u);
  EXPECT_EQ(z.RRset(Origin(), type::kMX).size(), 1u);
  EXPECT_EQ(z.RRset(Origin(), type::kMX)[0].rdata, Rd(type::kMX, "10 MAIL.example."));
  auto diff = z.Diff();
  EXPECT_FALSE(diff.added.empty());
}

TEST(UpdateApply, DeleteForms) {
  ZoneContent z = Zone();
  EXPECT_EQ(Apply(Builder().Upd("www.example.", cls::kNONE, type::kA, Rd(type::kA, "192.0.2.3")), z), 1u);
  EXPECT_EQ(Texts(z.RRset(N("www.example."), type::kA)), std::vector<std::string>{"300 192.0.2.4"});
  EXPECT_EQ(Apply(Builder().Upd("www.example.", cls::kANY, type::kA), z), 1u);
  EXPECT_FALSE(z.HasRRset(N("www.example."), type::kA));
  EXPECT_TRUE(z.HasRRset(N("www.example."), type::kTXT));
  EXPECT_EQ(Apply(Builder().Upd("WWW.example.", cls::kANY, type::kANY), z), 1u);
  EXPECT_FALSE(z.NameExists(N("www.example.")));
  // RDATA names compare without case when deleting one RR.
  EXPECT_EQ(Apply(Builder().Upd("alias.example.", cls::kNONE, type::kCNAME, std::string(N("WWW.example.").wire())), z),
            1u);
  EXPECT_FALSE(z.NameExists(N("alias.example.")));
}

TEST(UpdateApply, DeletingAbsentDataIsANoOp) {
  ZoneContent z = Zone();
  z.Begin();
  EXPECT_EQ(Apply(Builder()
                      .Upd("www.example.", cls::kNONE, type::kA, Rd(type::kA, "192.0.2.99"))
                      .Upd("www.example.", cls::kANY, type::kAAAA)
                      .Upd("nope.example.", cls::kANY, type::kANY)
                      .Upd("b.example.", cls::kANY, type::kANY)
                      .Upd("nope.example.", cls::kNONE, type::kA, Rd(type::kA, "192.0.2.3")),
                  z),
            0u);
  EXPECT_FALSE(z.Changed());
}

TEST(UpdateApply, InOrderWithinOneMessage) {
  ZoneContent z = Zone();
  z.Begin();
  size_t n = Apply(Builder()
                       .Add("t.example.", type::kA, "192.0.2.20")
                       .Upd("t.example.", cls::kNONE, type::kA, Rd(type::kA, "192.0.2.20")),
                   z);
  EXPECT_EQ(n, 2u);
  EXPECT_FALSE(z.Changed());
  // Delete the RRset, then add: the RRset ends up holding just the new RR.
  Apply(Builder().Upd("www.example.", cls::kANY, type::kA).Add("www.example.", type::kA, "192.0.2.30"), z);
  EXPECT_EQ(Texts(z.RRset(N("www.example."), type::kA)), std::vector<std::string>{"300 192.0.2.30"});
}

TEST(UpdateApply, CnameAndOtherData) {
  ZoneContent z = Zone();
  z.Begin();
  // CNAME at a name with other data: ignored.
  EXPECT_EQ(Apply(Builder().Add("www.example.", type::kCNAME, "elsewhere"), z), 0u);
  // Other data at a CNAME name: ignored.
  EXPECT_EQ(Apply(Builder().Add("alias.example.", type::kA, "192.0.2.1"), z), 0u);
  EXPECT_EQ(Apply(Builder().Add("alias.example.", type::kTXT, "\"x\""), z), 0u);
  // At the apex (SOA and NS are there): ignored.
  EXPECT_EQ(Apply(Builder().Add("example.", type::kCNAME, "www"), z), 0u);
  EXPECT_FALSE(z.Changed());
  // A CNAME replaces the CNAME.
  EXPECT_EQ(Apply(Builder().Add("alias.example.", type::kCNAME, "mail"), z), 1u);
  EXPECT_EQ(Texts(z.RRset(N("alias.example."), type::kCNAME)), std::vector<std::string>{"300 mail.example."});
  // A CNAME at a new name, and next to DNSSEC data only.
  EXPECT_EQ(Apply(Builder().Add("c.example.", type::kCNAME, "www"), z), 1u);
  EXPECT_EQ(Apply(Builder().Add("c.example.", type::kNSEC, "d.example. A"), z), 1u);
  // Replacing other data by a CNAME in one message works in order.
  EXPECT_EQ(Apply(Builder().Upd("mail.example.", cls::kANY, type::kANY).Add("mail.example.", type::kCNAME, "www"), z), 2u);
  EXPECT_EQ(z.RecordsAt(N("mail.example.")).size(), 1u);
}

TEST(UpdateApply, SoaSerialRules) {
  ZoneContent z = Zone(10);
  const std::string soa = "ns hostmaster %u 3600 600 86400 60";
  auto soa_with = [&](uint32_t serial) {
    char buf[80];
    snprintf(buf, sizeof buf, soa.c_str(), serial);
    return std::string(buf);
  };
  EXPECT_EQ(Apply(Builder().Add("example.", type::kSOA, soa_with(10)), z), 0u);  // equal
  EXPECT_EQ(Apply(Builder().Add("example.", type::kSOA, soa_with(9)), z), 0u);   // older
  EXPECT_EQ(z.serial(), 10u);
  EXPECT_EQ(Apply(Builder().Add("example.", type::kSOA, soa_with(20), 900), z), 1u);
  EXPECT_EQ(z.serial(), 20u);
  EXPECT_EQ(z.RRset(Origin(), type::kSOA).size(), 1u);
  EXPECT_EQ(z.RRset(Origin(), type::kSOA)[0].ttl, 900u);
  // Only at the apex.
  EXPECT_EQ(Apply(Builder().Add("www.example.", type::kSOA, soa_with(30)), z), 0u);
  EXPECT_FALSE(z.HasRRset(N("www.example."), type::kSOA));
  // RFC 1982: a wrapped serial is newer.
  ZoneContent w = Zone(0xFFFFFFF0u);
  EXPECT_EQ(Apply(Builder().Add("example.", type::kSOA, soa_with(5)), w), 1u);
  EXPECT_EQ(w.serial(), 5u);
}

TEST(UpdateApply, ApexSoaAndNsProtection) {
  ZoneContent z = Zone();
  z.Begin();
  EXPECT_EQ(Apply(Builder().Upd("example.", cls::kANY, type::kSOA), z), 0u);
  EXPECT_EQ(Apply(Builder().Upd("example.", cls::kNONE, type::kSOA, z.RRset(Origin(), type::kSOA)[0].rdata), z), 0u);
  EXPECT_EQ(Apply(Builder().Upd("example.", cls::kANY, type::kNS), z), 0u);
  EXPECT_FALSE(z.Changed());
  // Deleting the apex's records keeps SOA and NS.
  EXPECT_EQ(Apply(Builder().Upd("example.", cls::kANY, type::kANY), z), 1u);
  EXPECT_FALSE(z.HasRRset(Origin(), type::kMX));
  EXPECT_TRUE(z.HasRRset(Origin(), type::kSOA));
  EXPECT_EQ(z.RRset(Origin(), type::kNS).size(), 2u);
  // One NS of two goes; the last stays, even when both are deleted in one message.
  EXPECT_EQ(Apply(Builder()
                      .Upd("example.", cls::kNONE, type::kNS, std::string(N("NS.example.").wire()))
                      .Upd("example.", cls::kNONE, type::kNS, std::string(N("ns2.example.").wire())),
                  z),
            1u);
  EXPECT_EQ(Texts(z.RRset(Origin(), type::kNS)), std::vector<std::string>{"300 ns2.example."});
  // Below the apex (a delegation) the last NS can go.
  EXPECT_EQ(Apply(Builder().Upd("sub.example.", cls::kNONE, type::kNS, std::string(N("ns.sub.example.").wire())), z), 1u);
  EXPECT_FALSE(z.HasRRset(N("sub.example."), type::kNS));
  // Deleting other names never touches the apex.
  Apply(Builder().Upd("www.example.", cls::kANY, type::kANY).Upd("ns.example.", cls::kANY, type::kANY), z);
  EXPECT_TRUE(z.HasRRset(Origin(), type::kSOA));
  EXPECT_TRUE(z.HasRRset(Origin(), type::kNS));
}

TEST(UpdateApply, RollbackRestoresEverything) {
  ZoneContent z = Zone();
  std::vector<Record> before = z.Records();
  z.Begin();
  Apply(Builder()
            .Add("new.example.", type::kA, "192.0.2.10")
            .Upd("www.example.", cls::kANY, type::kANY)
            .Upd("example.", cls::kANY, type::kANY),
        z);
  EXPECT_TRUE(z.Changed());
  z.Rollback();
  EXPECT_EQ(z.Records(), before);
}

// ---------------------------------------------------------------------------------------------
// Response

TEST(UpdateResponse, EchoesZoneAndRcode) {
  UpdateMessage m = Builder("Example.").Id(0xBEEF).Ok();
  std::string r = WriteUpdateResponse(m, rcode::kNXRRSet);
  auto parsed = Message::Parse(reinterpret_cast<const uint8_t*>(r.data()), r.size());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->id, 0xBEEF);
  EXPECT_TRUE(parsed->has(flag::kQR));
  EXPECT_EQ(parsed->opcode(), opcode::kUpdate);
  EXPECT_EQ(parsed->rcode(), rcode::kNXRRSet);
  ASSERT_EQ(parsed->questions.size(), 1u);
  EXPECT_EQ(parsed->questions[0].name.ToText(), "Example.");  // case kept
  EXPECT_EQ(parsed->questions[0].type, type::kSOA);
  EXPECT_FALSE(parsed->edns.has_value());
  EXPECT_EQ(r.size(), 12u + 9u + 4u);
}

TEST(UpdateResponse, FormErrWithoutZoneAndBadVers) {
  ParseResult p = Builder().ZoneCount(2).Parse();
  std::string r = WriteUpdateResponse(p.message, p.rcode);
  auto parsed = Message::Parse(reinterpret_cast<const uint8_t*>(r.data()), r.size());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->rcode(), rcode::kFormErr);
  EXPECT_TRUE(parsed->questions.empty());

  p = Builder().Additional(Opt(1)).Parse();
  r = WriteUpdateResponse(p.message, p.rcode);
  parsed = Message::Parse(reinterpret_cast<const uint8_t*>(r.data()), r.size());
  ASSERT_TRUE(parsed.ok());
  ASSERT_TRUE(parsed->edns.has_value());
  EXPECT_EQ(parsed->rcode(), rcode::kBadVers);
  EXPECT_EQ(parsed->edns->version, 0);
}

TEST(UpdateResponse, DirectWriterMatchesTheMessageBuilder) {
  // The direct path (rcodes up to 15) must give exactly what Message::Build gives.
  for (bool zone : {false, true}) {
    for (bool edns : {false, true}) {
      for (uint16_t rc : {rcode::kNoError, rcode::kFormErr, rcode::kServFail, rcode::kNXDomain, rcode::kRefused,
                          rcode::kYXDomain, rcode::kNXRRSet, rcode::kNotAuth, rcode::kNotZone}) {
        UpdateMessage m;
        m.id = 0x1234;
        m.has_zone = zone;
        m.zone = Name::FromText("Dyn.Example.").value();
        m.zone_class = cls::kIN;
        m.has_edns = edns;
        Message want;
        want.id = m.id;
        want.flags = flag::kQR;
        want.set_opcode(opcode::kUpdate);
        if (zone) want.questions.push_back(Question{m.zone, type::kSOA, m.zone_class});
        if (edns) {
          want.edns.emplace();
          want.edns->udp_size = 1232;
        }
        want.set_rcode(rc);
        EXPECT_EQ(WriteUpdateResponse(m, rc, 1232), want.Build()) << zone << edns << rc;
      }
    }
  }
}

}  // namespace
}  // namespace berth::dns::update
