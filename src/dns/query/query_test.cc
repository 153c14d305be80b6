#include "dns/query/query.h"

#include <gtest/gtest.h>

#include "dns/wire/message.h"
#include "dns/zonefile/zonefile.h"

namespace berth::dns {
namespace {

Name N(std::string_view t) { return *Name::FromText(t); }

constexpr char kZone[] = R"($ORIGIN example.
$TTL 300
@       3600 IN SOA ns1 hostmaster 2026112201 7200 900 1209600 60
@       IN NS   ns1
@       IN MX   10 mail
ns1     IN A    192.0.2.1
mail    IN A    192.0.2.25
mail    IN AAAA 2001:db8::25
www     IN CNAME web
web     IN A    192.0.2.80
ext     IN CNAME www.elsewhere.test.
loop1   IN CNAME loop2
loop2   IN CNAME loop1
dangling IN CNAME nothing
*.wild  IN A    192.0.2.99
*.wild  IN TXT  "wild"
x.wild  IN A    192.0.2.98
a.b.c   IN A    192.0.2.3
*.c     IN A    192.0.2.4
sub     IN NS   ns.sub
sub     IN DS   12345 8 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
ns.sub  IN A    192.0.2.53
_sip._tcp IN SRV 0 5 5060 mail
big     IN TXT  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
big     IN TXT  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
big     IN TXT  "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
big     IN TXT  "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
big     IN TXT  "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
)";

class QueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto records = ParseZoneText(kZone, N("example."), "test.zone");
    ASSERT_TRUE(records.ok()) << records.status().ToString();
    auto zone = Zone::Build(N("example."), std::move(*records));
    ASSERT_TRUE(zone.ok()) << zone.status().ToString();
    zones_ = ZoneSet({*zone});
  }

  std::string MakeQuery(std::string_view name, uint16_t qtype, bool edns = true, uint16_t flags = flag::kRD) {
    Message m;
    m.id = 0xBEEF;
    m.flags = flags;
    m.questions.push_back({N(name), qtype, cls::kIN});
    if (edns) m.edns = Edns{};
    return m.Build();
  }

  // Answers and parses the response; disposition in last_.
  Message Ask(const std::string& wire, AnswerOptions opts = {}) {
    last_ = AnswerQuery(zones_, reinterpret_cast<const uint8_t*>(wire.data()), wire.size(), opts, buf_, sizeof buf_,
                        &parsed_);
    if (last_.disposition != Disposition::kAnswered) return Message{};
    auto m = Message::Parse(buf_, last_.size);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? *m : Message{};
  }
  Message Ask(std::string_view name, uint16_t qtype, AnswerOptions opts = {}) { return Ask(MakeQuery(name, qtype), opts); }

  ZoneSet zones_;
  uint8_t buf_[65535];
  ParsedQuery parsed_;
  AnswerResult last_;
};

TEST_F(QueryTest, ExactAnswerIsAuthoritativeWithAdditional) {
  Message r = Ask("example.", type::kMX);
  EXPECT_EQ(r.rcode(), rcode::kNoError);
  EXPECT_TRUE(r.has(flag::kAA));
  EXPECT_TRUE(r.has(flag::kRD));
  EXPECT_FALSE(r.has(flag::kRA));
  EXPECT_EQ(r.id, 0xBEEF);
  ASSERT_EQ(r.answers.size(), 1u);
  EXPECT_EQ(r.answers[0].type, type::kMX);
  EXPECT_EQ(r.authority.size(), 0u);
  ASSERT_EQ(r.additional.size(), 2u);  // mail A + AAAA
  EXPECT_EQ(r.additional[0].name, N("mail.example."));
}

TEST_F(QueryTest, NodataAndNxdomainCarrySoaWithNegativeTtl) {
  Message nodata = Ask("web.example.", type::kAAAA);
  EXPECT_EQ(nodata.rcode(), rcode::kNoError);
  EXPECT_TRUE(nodata.answers.empty());
  ASSERT_EQ(nodata.authority.size(), 1u);
  EXPECT_EQ(nodata.authority[0].type, type::kSOA);
  EXPECT_EQ(nodata.authority[0].ttl, 60u);  // min(SOA TTL 3600, MINIMUM 60)
  Message nx = Ask("nope.example.", type::kA);
  EXPECT_EQ(nx.rcode(), rcode::kNXDomain);
  EXPECT_TRUE(nx.has(flag::kAA));
  ASSERT_EQ(nx.authority.size(), 1u);
  EXPECT_EQ(nx.authority[0].type, type::kSOA);
}

TEST_F(QueryTest, EmptyNonTerminalIsNodataNotNxdomain) {
  Message r = Ask("b.c.example.", type::kA);
  EXPECT_EQ(r.rcode(), rcode::kNoError);
  EXPECT_TRUE(r.answers.empty());
  EXPECT_EQ(r.authority.size(), 1u);
}

TEST_F(QueryTest, FollowsCnameChainsInsideTheZone) {
  Message r = Ask("www.example.", type::kA);
  ASSERT_EQ(r.answers.size(), 2u);
  EXPECT_EQ(r.answers[0].type, type::kCNAME);
  EXPECT_EQ(r.answers[1].name, N("web.example."));
  EXPECT_EQ(r.answers[1].type, type::kA);
  Message ext = Ask("ext.example.", type::kA);
  EXPECT_EQ(ext.rcode(), rcode::kNoError);
  EXPECT_EQ(ext.answers.size(), 1u);
  Message dangling = Ask("dangling.example.", type::kA);
  EXPECT_EQ(dangling.rcode(), rcode::kNXDomain);  // RFC 6604: rcode of the last name
  EXPECT_EQ(dangling.answers.size(), 1u);
  Message loop = Ask("loop1.example.", type::kA);
  EXPECT_EQ(loop.rcode(), rcode::kNoError);
  EXPECT_GE(loop.answers.size(), 2u);
  Message cname_itself = Ask("www.example.", type::kCNAME);
  EXPECT_EQ(cname_itself.answers.size(), 1u);
}

TEST_F(QueryTest, WildcardsFollowRfc4592) {
  Message r = Ask("Host.WILD.example.", type::kA);
  EXPECT_EQ(r.rcode(), rcode::kNoError);
  ASSERT_EQ(r.answers.size(), 1u);
  EXPECT_EQ(r.answers[0].name.ToText(), "Host.WILD.example.");  // owner is the qname, case kept
  Message deeper = Ask("a.b.wild.example.", type::kA);
  EXPECT_EQ(deeper.answers.size(), 1u);
  Message nodata = Ask("host.wild.example.", type::kMX);
  EXPECT_EQ(nodata.rcode(), rcode::kNoError);
  EXPECT_TRUE(nodata.answers.empty());
  // x.wild exists, so the wildcard does not cover names below it.
  Message below_existing = Ask("y.x.wild.example.", type::kA);
  EXPECT_EQ(below_existing.rcode(), rcode::kNXDomain);
  // The closest encloser of z.b.c is the empty non-terminal b.c, whose wildcard is absent;
  // *.c does not apply (RFC 4592 §2.2.1).
  Message ent = Ask("z.b.c.example.", type::kA);
  EXPECT_EQ(ent.rcode(), rcode::kNXDomain);
  Message via_c = Ask("q.c.example.", type::kA);
  EXPECT_EQ(via_c.answers.size(), 1u);
}

TEST_F(QueryTest, DelegationsAreReferralsWithGlue) {
  Message r = Ask("host.sub.example.", type::kA);
  EXPECT_EQ(r.rcode(), rcode::kNoError);
  EXPECT_FALSE(r.has(flag::kAA));
  EXPECT_TRUE(r.answers.empty());
  ASSERT_EQ(r.authority.size(), 1u);
  EXPECT_EQ(r.authority[0].type, type::kNS);
  ASSERT_EQ(r.additional.size(), 1u);
  EXPECT_EQ(r.additional[0].name, N("ns.sub.example."));
  Message ds = Ask("sub.example.", type::kDS);  // the parent side answers DS itself
  EXPECT_TRUE(ds.has(flag::kAA));
  EXPECT_EQ(ds.answers.size(), 1u);
}

TEST_F(QueryTest, SrvTargetsGetAdditionalAddresses) {
  Message r = Ask("_sip._tcp.example.", type::kSRV);
  ASSERT_EQ(r.answers.size(), 1u);
  EXPECT_EQ(r.additional.size(), 2u);
}

TEST_F(QueryTest, PreservesQuestionCaseAndEchoesEdns) {
  Message q;
  q.id = 7;
  q.questions.push_back({N("WeB.ExAmPlE."), type::kA, cls::kIN});
  q.edns = Edns{};
  q.edns->dnssec_ok = true;
  q.edns->udp_size = 4096;
  Message r = Ask(q.Build());
  EXPECT_EQ(r.questions[0].name.ToText(), "WeB.ExAmPlE.");
  EXPECT_EQ(r.answers[0].name.ToText(), "WeB.ExAmPlE.");
  ASSERT_TRUE(r.edns);
  EXPECT_TRUE(r.edns->dnssec_ok);
  EXPECT_EQ(r.edns->udp_size, kDefaultEdnsSize);
}

TEST_F(QueryTest, ProtocolErrors) {
  Message q;
  q.questions.push_back({N("web.example."), type::kA, cls::kIN});
  q.edns = Edns{};
  q.edns->version = 1;
  Message badvers = Ask(q.Build());
  EXPECT_EQ(badvers.rcode(), rcode::kBadVers);
  EXPECT_TRUE(badvers.answers.empty());

  Message notify;
  notify.set_opcode(2);  // STATUS: not implemented
  notify.questions.push_back({N("web.example."), type::kA, cls::kIN});
  EXPECT_EQ(Ask(notify.Build()).rcode(), rcode::kNotImp);

  Message two;
  two.questions.push_back({N("a.example."), type::kA, cls::kIN});
  two.questions.push_back({N("b.example."), type::kA, cls::kIN});
  EXPECT_EQ(Ask(two.Build()).rcode(), rcode::kFormErr);

  std::string response = MakeQuery("web.example.", type::kA, false, flag::kQR);
  Ask(response);
  EXPECT_EQ(last_.disposition, Disposition::kDrop);

  std::string junk = "\x01\x02\x03";
  Ask(junk);
  EXPECT_EQ(last_.disposition, Disposition::kDrop);

  std::string truncated = MakeQuery("web.example.", type::kA, false);
  truncated.resize(truncated.size() - 3);
  EXPECT_EQ(Ask(truncated).rcode(), rcode::kFormErr);

  EXPECT_EQ(Ask("web.example.", type::kAXFR).rcode(), rcode::kFormErr);  // never over UDP
}

TEST_F(QueryTest, NamesInNoZoneAreRefusedOrForwarded) {
  Message r = Ask("www.other.test.", type::kA);
  EXPECT_EQ(r.rcode(), rcode::kRefused);
  AnswerOptions opts;
  opts.recursion_allowed = true;
  Ask(MakeQuery("www.other.test.", type::kA), opts);
  EXPECT_EQ(last_.disposition, Disposition::kForward);
  Message local = Ask("web.example.", type::kA, opts);
  EXPECT_TRUE(local.has(flag::kRA));
}

TEST_F(QueryTest, TruncatesOverUdpAndAnswersInFullOverTcp) {
  Message udp = Ask(MakeQuery("big.example.", type::kTXT, false));
  EXPECT_TRUE(udp.has(flag::kTC));
  EXPECT_TRUE(udp.answers.empty());
  EXPECT_LE(last_.size, 512u);
  AnswerOptions tcp;
  tcp.tcp = true;
  Message full = Ask(MakeQuery("big.example.", type::kTXT, false), tcp);
  EXPECT_FALSE(full.has(flag::kTC));
  EXPECT_EQ(full.answers.size(), 5u);
  Message edns = Ask(MakeQuery("big.example.", type::kTXT, true));  // 1232 bytes fit
  EXPECT_FALSE(edns.has(flag::kTC));
  EXPECT_EQ(edns.answers.size(), 5u);
}

TEST_F(QueryTest, AnyIsMinimalOverUdp) {
  Message udp = Ask("mail.example.", type::kANY);
  EXPECT_EQ(udp.answers.size(), 1u);
  AnswerOptions tcp;
  tcp.tcp = true;
  Message full = Ask(MakeQuery("mail.example.", type::kANY), tcp);
  EXPECT_EQ(full.answers.size(), 2u);
}

}  // namespace
}  // namespace berth::dns
