#include "dns/transfer/transfer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "dns/wire/message.h"
#include "dns/zonefile/zonefile.h"

namespace berth::dns::transfer {
namespace {

Name N(std::string_view t) { return *Name::FromText(t); }

constexpr uint64_t kNow = 1700000000;

// Zone text at `serial`; `extra` lines are appended (relative names).
std::string ZoneText(uint32_t serial, const std::string& extra = "") {
  return "$ORIGIN example.\n$TTL 300\n@ 3600 IN SOA ns1 hostmaster " + std::to_string(serial) +
         " 7200 900 1209600 60\n@ IN NS ns1\nns1 IN A 192.0.2.1\nwww IN A 192.0.2.80\n" + extra;
}

std::vector<Record> Parse(const std::string& text) {
  auto r = ParseZoneText(text, N("example."), "test.zone");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::vector<Record>{};
}

std::shared_ptr<const Zone> Build(const std::string& text) {
  auto z = Zone::Build(N("example."), Parse(text));
  EXPECT_TRUE(z.ok()) << z.status().ToString();
  return *z;
}

// Many names, so an AXFR needs several messages.
std::string ManyNames(int n, const std::string& prefix = "host") {
  std::string out;
  for (int i = 0; i < n; ++i) out += prefix + std::to_string(i) + " IN A 10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250) + "\n";
  return out;
}

Record Soa(uint32_t serial) {
  for (Record& r : Parse(ZoneText(serial)))
    if (r.type == type::kSOA) return r;
  return {};
}

uint32_t SerialOf(const Record& soa) {
  const auto* p = reinterpret_cast<const uint8_t*>(soa.rdata.data() + soa.rdata.size() - 20);
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

std::string RecordKey(const Record& r) {
  return r.name.Lowercased().ToText() + " " + std::to_string(r.type) + " " + std::to_string(r.ttl) + " " + r.rdata;
}

// The difference old -> new as the store journals it (SOA included).
ZoneDiff Diff(const std::vector<Record>& before, const std::vector<Record>& after, uint32_t from, uint32_t to) {
  ZoneDiff d{from, to, {}, {}};
  std::set<std::string> a, b;
  for (const auto& r : before) a.insert(RecordKey(r));
  for (const auto& r : after) b.insert(RecordKey(r));
  for (const auto& r : before)
    if (!b.count(RecordKey(r))) d.removed.push_back(r);
  for (const auto& r : after)
    if (!a.count(RecordKey(r))) d.added.push_back(r);
  return d;
}

struct Request {
  std::string wire;
  TransferRequest req;
};

// An AXFR/IXFR request; `client_serial` puts an SOA in the authority section (IXFR).
Request MakeRequest(uint16_t qtype, bool tcp, std::optional<uint32_t> client_serial = std::nullopt,
                    bool edns = false, std::string_view qname = "example.", uint16_t qclass = cls::kIN) {
  Message m;
  m.id = 0xBEEF;
  m.questions.push_back({N(qname), qtype, qclass});
  if (client_serial) m.authority.push_back(Soa(*client_serial));
  if (edns) m.edns = Edns{};
  Request r;
  r.wire = m.Build();
  r.req.tcp = tcp;
  r.req.max_size = tcp ? kDefaultTransferMessageSize : 512;
  EXPECT_EQ(ParseQuery(reinterpret_cast<const uint8_t*>(r.wire.data()), r.wire.size(), &r.req.query), ParseOutcome::kOk);
  return r;
}

TransferAnswer Serve(Request& r, const Zone& zone, const std::vector<ZoneDiff>& history = {}) {
  r.req.message = r.wire;
  auto a = Answer(r.req, zone, history);
  EXPECT_TRUE(a.ok()) << a.status().ToString();
  return a.ok() ? std::move(*a) : TransferAnswer{};
}

std::vector<Message> ParseAll(const TransferAnswer& a) {
  std::vector<Message> out;
  for (const auto& w : a.messages) {
    auto m = Message::Parse(reinterpret_cast<const uint8_t*>(w.data()), w.size());
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    if (m.ok()) out.push_back(std::move(*m));
  }
  return out;
}

std::vector<Record> Answers(const std::vector<Message>& msgs) {
  std::vector<Record> out;
  for (const auto& m : msgs) out.insert(out.end(), m.answers.begin(), m.answers.end());
  return out;
}

std::set<std::string> Keys(const std::vector<Record>& rs) {
  std::set<std::string> s;
  for (const auto& r : rs) s.insert(RecordKey(r));
  return s;
}

// Applies an RFC 1995 incremental stream to `records` as a secondary would (each old SOA
// opens removals, which include that SOA; each new SOA opens additions) and returns the keys.
std::set<std::string> ApplyIxfrKeys(const std::vector<Record>& records, const std::vector<Record>& stream) {
  std::set<std::string> have = Keys(records);
  // stream: cur, (old SOA, removed..., new SOA, added...)*, cur
  bool in_removal = false;
  for (size_t i = 1; i + 1 < stream.size(); ++i) {
    const Record& r = stream[i];
    if (r.type == type::kSOA) in_removal = !in_removal;
    if (in_removal) {
      EXPECT_EQ(have.erase(RecordKey(r)), 1u) << "removing absent " << r.name.ToText() << " " << r.type;
    } else {
      EXPECT_TRUE(have.insert(RecordKey(r)).second) << "adding present " << r.name.ToText();
    }
  }
  return have;
}

// ---- AXFR ------------------------------------------------------------------------------------

TEST(Axfr, SmallZoneIsOneMessageFramedBySoa) {
  auto zone = Build(ZoneText(7, "mail IN MX 10 www\n"));
  Request r = MakeRequest(type::kAXFR, true);
  TransferAnswer a = Serve(r, *zone);
  EXPECT_EQ(a.kind, TransferKind::kAxfr);
  ASSERT_EQ(a.messages.size(), 1u);
  auto msgs = ParseAll(a);
  ASSERT_EQ(msgs.size(), 1u);
  const Message& m = msgs[0];
  EXPECT_EQ(m.id, 0xBEEF);
  EXPECT_TRUE(m.has(flag::kQR));
  EXPECT_TRUE(m.has(flag::kAA));
  EXPECT_EQ(m.rcode(), rcode::kNoError);
  ASSERT_EQ(m.questions.size(), 1u);
  EXPECT_EQ(m.questions[0].type, type::kAXFR);
  ASSERT_GE(m.answers.size(), 3u);
  EXPECT_EQ(m.answers.front().type, type::kSOA);
  EXPECT_EQ(m.answers.back(), m.answers.front());
  std::vector<Record> body(m.answers.begin(), m.answers.end() - 1);
  EXPECT_EQ(Keys(body), Keys(zone->Records()));
  EXPECT_EQ(body.size(), zone->record_count());
  EXPECT_EQ(a.records, zone->record_count() + 1);
  EXPECT_FALSE(m.edns.has_value());
}

TEST(Axfr, LargeZoneIsPackedIntoSeveralMessagesWithinTheLimit) {
  auto zone = Build(ZoneText(7, ManyNames(3000)));
  Request r = MakeRequest(type::kAXFR, true, std::nullopt, /*edns=*/true);
  r.req.max_size = 4096;
  TransferAnswer a = Serve(r, *zone);
  ASSERT_GT(a.messages.size(), 5u);
  for (const auto& w : a.messages) {
    EXPECT_LE(w.size(), 4096u);
    if (&w != &a.messages.back()) {
      EXPECT_GT(w.size(), 2048u);  // full, except the last
    }
  }
  auto msgs = ParseAll(a);
  ASSERT_EQ(msgs.size(), a.messages.size());
  EXPECT_EQ(msgs[0].questions.size(), 1u);
  for (size_t i = 0; i < msgs.size(); ++i) {
    EXPECT_EQ(msgs[i].id, 0xBEEF);
    EXPECT_TRUE(msgs[i].has(flag::kAA));
    EXPECT_TRUE(msgs[i].edns.has_value()) << "message " << i;
    if (i > 0) {
      EXPECT_TRUE(msgs[i].questions.empty());
    }
  }
  std::vector<Record> all = Answers(msgs);
  ASSERT_EQ(all.size(), zone->record_count() + 1);
  EXPECT_EQ(all.front().type, type::kSOA);
  EXPECT_EQ(all.back(), all.front());
  EXPECT_EQ(Keys(std::vector<Record>(all.begin(), all.end() - 1)), Keys(zone->Records()));
  // Compression: a host record takes far less than its uncompressed size.
  size_t total = 0;
  for (const auto& w : a.messages) total += w.size();
  EXPECT_LT(total, zone->record_count() * 32);
}

TEST(Axfr, DefaultsToSixteenKilobyteMessages) {
  auto zone = Build(ZoneText(7, ManyNames(6000)));
  Request r = MakeRequest(type::kAXFR, true);
  TransferAnswer a = Serve(r, *zone);
  ASSERT_GT(a.messages.size(), 1u);
  for (const auto& w : a.messages) EXPECT_LE(w.size(), kDefaultTransferMessageSize);
  EXPECT_GT(a.messages[0].size(), kDefaultTransferMessageSize - 100);
}

TEST(Axfr, OverUdpIsNotImplementedLikeKnot) {
  auto zone = Build(ZoneText(7));
  Request r = MakeRequest(type::kAXFR, false);
  TransferAnswer a = Serve(r, *zone);
  EXPECT_EQ(a.kind, TransferKind::kError);
  ASSERT_EQ(a.messages.size(), 1u);
  auto m = ParseAll(a);
  EXPECT_EQ(m[0].rcode(), rcode::kNotImp);
  EXPECT_FALSE(m[0].has(flag::kAA));
  EXPECT_EQ(m[0].questions.size(), 1u);
  EXPECT_TRUE(m[0].answers.empty());
}

TEST(Axfr, NameBelowTheApexIsNotAuthAndOtherClassRefused) {
  auto zone = Build(ZoneText(7));
  Request below = MakeRequest(type::kAXFR, true, std::nullopt, false, "www.example.");
  EXPECT_EQ(ParseAll(Serve(below, *zone))[0].rcode(), rcode::kNotAuth);
  Request ch = MakeRequest(type::kAXFR, true, std::nullopt, false, "example.", cls::kCH);
  EXPECT_EQ(ParseAll(Serve(ch, *zone))[0].rcode(), rcode::kRefused);
}

TEST(Axfr, QuestionCaseIsEchoed) {
  auto zone = Build(ZoneText(7));
  Request r = MakeRequest(type::kAXFR, true, std::nullopt, false, "ExAmPlE.");
  auto m = ParseAll(Serve(r, *zone));
  ASSERT_EQ(m[0].questions.size(), 1u);
  EXPECT_EQ(m[0].questions[0].name.ToText(), "ExAmPlE.");
}

TEST(Transfer, RejectsNonTransferQueriesAndShortMessages) {
  auto zone = Build(ZoneText(7));
  Request r = MakeRequest(type::kSOA, true);
  r.req.message = r.wire;
  EXPECT_EQ(Answer(r.req, *zone, {}).status().code(), Code::kInvalidArgument);
  Request s = MakeRequest(type::kAXFR, true);
  s.req.message = std::string_view(s.wire).substr(0, 14);
  EXPECT_EQ(Answer(s.req, *zone, {}).status().code(), Code::kInvalidArgument);
}

// ---- IXFR ------------------------------------------------------------------------------------

// Three versions of a zone and the store-style diffs between them.
struct History {
  std::vector<Record> v1, v2, v3;
  std::shared_ptr<const Zone> zone;  // v3
  std::vector<ZoneDiff> diffs;
};

History ThreeVersions(uint32_t s1, uint32_t s2, uint32_t s3) {
  History h;
  h.v1 = Parse(ZoneText(s1, "old IN A 192.0.2.9\nmail IN MX 10 www\n"));
  h.v2 = Parse(ZoneText(s2, "mail IN MX 10 www\nnew IN A 192.0.2.10\nnew IN AAAA 2001:db8::10\n"));
  h.v3 = Parse(ZoneText(s3, "mail IN MX 20 www\nnew IN A 192.0.2.10\nnew IN AAAA 2001:db8::10\nlast IN TXT \"x\"\n"));
  h.zone = Build(ZoneText(s3, "mail IN MX 20 www\nnew IN A 192.0.2.10\nnew IN AAAA 2001:db8::10\nlast IN TXT \"x\"\n"));
  h.diffs = {Diff(h.v1, h.v2, s1, s2), Diff(h.v2, h.v3, s2, s3)};
  return h;
}

TEST(Ixfr, MissingOrMalformedSoaIsFormErr) {
  auto zone = Build(ZoneText(7));
  Request none = MakeRequest(type::kIXFR, true);
  EXPECT_EQ(ParseAll(Serve(none, *zone))[0].rcode(), rcode::kFormErr);

  // The SOA of another zone.
  Message m;
  m.id = 1;
  m.questions.push_back({N("example."), type::kIXFR, cls::kIN});
  Record other = Soa(3);
  other.name = N("other.");
  m.authority.push_back(other);
  Request wrong;
  wrong.wire = m.Build();
  wrong.req.tcp = true;
  ASSERT_EQ(ParseQuery(reinterpret_cast<const uint8_t*>(wrong.wire.data()), wrong.wire.size(), &wrong.req.query),
            ParseOutcome::kOk);
  EXPECT_EQ(ParseAll(Serve(wrong, *zone))[0].rcode(), rcode::kFormErr);

  // An SOA whose RDATA is cut short (RDLENGTH 4).
  m.authority.clear();
  Record bad = Soa(3);
  bad.type = 65280;  // written opaque, then patched to SOA below
  bad.rdata = "abcd";
  m.authority.push_back(bad);
  Request cut;
  cut.wire = m.Build();
  size_t type_at = cut.wire.size() - 4 - 2 - 4 - 2 - 2;
  cut.wire[type_at] = 0;
  cut.wire[type_at + 1] = static_cast<char>(type::kSOA);
  cut.req.tcp = true;
  ASSERT_EQ(ParseQuery(reinterpret_cast<const uint8_t*>(cut.wire.data()), cut.wire.size(), &cut.req.query),
            ParseOutcome::kOk);
  EXPECT_EQ(ParseAll(Serve(cut, *zone))[0].rcode(), rcode::kFormErr);
}

TEST(Ixfr, ClientUpToDateOrNewerGetsTheSoaAlone) {
  History h = ThreeVersions(10, 11, 12);
  for (uint32_t client : {12u, 13u, 12u + 0x7FFFFFFFu}) {
    Request r = MakeRequest(type::kIXFR, true, client);
    TransferAnswer a = Serve(r, *h.zone, h.diffs);
    EXPECT_EQ(a.kind, TransferKind::kUpToDate) << client;
    ASSERT_EQ(a.messages.size(), 1u);
    auto m = ParseAll(a);
    ASSERT_EQ(m[0].answers.size(), 1u) << client;
    EXPECT_EQ(m[0].answers[0].type, type::kSOA);
    EXPECT_EQ(SerialOf(m[0].answers[0]), 12u);
    EXPECT_TRUE(m[0].has(flag::kAA));
  }
}

TEST(Ixfr, CompleteHistoryGivesAnIncrementalStreamThatReplays) {
  History h = ThreeVersions(10, 11, 12);
  Request r = MakeRequest(type::kIXFR, true, 10u);
  TransferAnswer a = Serve(r, *h.zone, h.diffs);
  EXPECT_EQ(a.kind, TransferKind::kIxfr);
  std::vector<Record> s = Answers(ParseAll(a));
  ASSERT_GE(s.size(), 6u);
  // current SOA, old SOA(10) ... new SOA(11) ... old SOA(11) ... new SOA(12) ..., current SOA
  std::vector<uint32_t> soas;
  for (const auto& rec : s)
    if (rec.type == type::kSOA) soas.push_back(SerialOf(rec));
  EXPECT_EQ(soas, (std::vector<uint32_t>{12, 10, 11, 11, 12, 12}));
  EXPECT_EQ(s.front(), s.back());
  EXPECT_EQ(ApplyIxfrKeys(h.v1, s), Keys(h.zone->Records()));

  // From the middle of the history: only the last diff.
  Request mid = MakeRequest(type::kIXFR, true, 11u);
  std::vector<Record> s2 = Answers(ParseAll(Serve(mid, *h.zone, h.diffs)));
  soas.clear();
  for (const auto& rec : s2)
    if (rec.type == type::kSOA) soas.push_back(SerialOf(rec));
  EXPECT_EQ(soas, (std::vector<uint32_t>{12, 11, 12, 12}));
  EXPECT_EQ(ApplyIxfrKeys(h.v2, s2), Keys(h.zone->Records()));
}

// The journal may run ahead of the served snapshot (changes committed, not yet synced and
// published): the stream stops at the served serial.
TEST(Ixfr, HistoryPastTheServedSerialIsLeftOut) {
  History h = ThreeVersions(10, 11, 12);
  std::vector<ZoneDiff> ahead = h.diffs;
  ahead.push_back(ZoneDiff{12, 13, {}, {}});
  Request r = MakeRequest(type::kIXFR, true, 10u);
  TransferAnswer a = Serve(r, *h.zone, ahead);
  EXPECT_EQ(a.kind, TransferKind::kIxfr);
  std::vector<Record> s = Answers(ParseAll(a));
  std::vector<uint32_t> soas;
  for (const auto& rec : s)
    if (rec.type == type::kSOA) soas.push_back(SerialOf(rec));
  EXPECT_EQ(soas, (std::vector<uint32_t>{12, 10, 11, 11, 12, 12}));
  EXPECT_EQ(ApplyIxfrKeys(h.v1, s), Keys(h.zone->Records()));
}

TEST(Ixfr, DiffsWithoutSoaRecordsGetSoasWithTheirSerials) {
  History h = ThreeVersions(10, 11, 12);
  for (auto& d : h.diffs) {
    std::erase_if(d.removed, [](const Record& r) { return r.type == type::kSOA; });
    std::erase_if(d.added, [](const Record& r) { return r.type == type::kSOA; });
  }
  Request r = MakeRequest(type::kIXFR, true, 10u);
  std::vector<Record> s = Answers(ParseAll(Serve(r, *h.zone, h.diffs)));
  std::vector<uint32_t> soas;
  for (const auto& rec : s)
    if (rec.type == type::kSOA) soas.push_back(SerialOf(rec));
  EXPECT_EQ(soas, (std::vector<uint32_t>{12, 10, 11, 11, 12, 12}));
}

TEST(Ixfr, SerialWrapAround) {
  // 0xFFFFFFF0 -> 0xFFFFFFFF -> 5: each step is newer in RFC 1982 arithmetic.
  History h = ThreeVersions(0xFFFFFFF0u, 0xFFFFFFFFu, 5);
  Request r = MakeRequest(type::kIXFR, true, 0xFFFFFFF0u);
  TransferAnswer a = Serve(r, *h.zone, h.diffs);
  EXPECT_EQ(a.kind, TransferKind::kIxfr);
  EXPECT_EQ(ApplyIxfrKeys(h.v1, Answers(ParseAll(a))), Keys(h.zone->Records()));
  // A client at 6 is "newer" than 5: it gets the SOA alone.
  Request newer = MakeRequest(type::kIXFR, true, 6u);
  EXPECT_EQ(Serve(newer, *h.zone, h.diffs).kind, TransferKind::kUpToDate);
}

TEST(Ixfr, IncompleteHistoryFallsBackToTheWholeZone) {
  History h = ThreeVersions(10, 11, 12);
  auto check_axfr = [&](uint32_t client, const std::vector<ZoneDiff>& history, const char* why) {
    Request r = MakeRequest(type::kIXFR, true, client);
    TransferAnswer a = Serve(r, *h.zone, history);
    EXPECT_EQ(a.kind, TransferKind::kIxfrAxfr) << why;
    std::vector<Record> s = Answers(ParseAll(a));
    ASSERT_EQ(s.size(), h.zone->record_count() + 1) << why;
    EXPECT_EQ(Keys(std::vector<Record>(s.begin(), s.end() - 1)), Keys(h.zone->Records())) << why;
  };
  check_axfr(9, h.diffs, "serial older than the history");
  check_axfr(10, {h.diffs[0]}, "history ends before the current serial");
  check_axfr(10, {}, "no history");
  std::vector<ZoneDiff> gap = {h.diffs[0], h.diffs[1]};
  gap[1].from_serial = 99;
  check_axfr(10, gap, "gap in the chain");
  // A change that kept the serial makes the client's content ambiguous.
  std::vector<ZoneDiff> same = {Diff(h.v1, h.v1, 10, 10), h.diffs[0], h.diffs[1]};
  check_axfr(10, same, "serial reached by a change that kept it");
  // Serial went backwards in the chain.
  std::vector<ZoneDiff> back = {h.diffs[0], ZoneDiff{11, 8, {}, {}}, ZoneDiff{8, 12, {}, {}}};
  check_axfr(10, back, "serial decreased");
}

TEST(Ixfr, OverUdpFitsOrShrinksToTheSoa) {
  History h = ThreeVersions(10, 11, 12);
  Request fits = MakeRequest(type::kIXFR, false, 10u, /*edns=*/true);
  fits.req.max_size = 1232;
  TransferAnswer a = Serve(fits, *h.zone, h.diffs);
  EXPECT_EQ(a.kind, TransferKind::kIxfr);
  ASSERT_EQ(a.messages.size(), 1u);
  EXPECT_LE(a.messages[0].size(), 1232u);
  EXPECT_EQ(ApplyIxfrKeys(h.v1, Answers(ParseAll(a))), Keys(h.zone->Records()));

  // A diff too big for 512 bytes: the SOA alone sends the client to TCP.
  auto zone = Build(ZoneText(12, ManyNames(100, "n")));
  std::vector<Record> v3 = Parse(ZoneText(12, ManyNames(100, "n")));
  std::vector<ZoneDiff> hist = {Diff(h.v1, v3, 10, 12)};
  Request small = MakeRequest(type::kIXFR, false, 10u);
  TransferAnswer s = Serve(small, *zone, hist);
  EXPECT_EQ(s.kind, TransferKind::kUpToDate);
  auto m = ParseAll(s);
  ASSERT_EQ(m[0].answers.size(), 1u);
  EXPECT_EQ(SerialOf(m[0].answers[0]), 12u);
  EXPECT_FALSE(m[0].has(flag::kTC));
  // The same over TCP is incremental.
  Request tcp = MakeRequest(type::kIXFR, true, 10u);
  EXPECT_EQ(Serve(tcp, *zone, hist).kind, TransferKind::kIxfr);

  // Over UDP without a usable history: the SOA too, never the whole zone.
  Request nohist = MakeRequest(type::kIXFR, false, 10u);
  TransferAnswer n = Serve(nohist, *h.zone, {});
  EXPECT_EQ(n.kind, TransferKind::kUpToDate);
  EXPECT_EQ(ParseAll(n)[0].answers.size(), 1u);
}

// ---- TSIG --------------------------------------------------------------------------------------

TsigKey Key() {
  auto k = TsigKey::Make("xfr-key.", "hmac-sha256", "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ1Ng==");
  EXPECT_TRUE(k.ok());
  return *k;
}

TEST(TransferTsig, EveryMessageOfASignedStreamVerifies) {
  TsigKey key = Key();
  auto zone = Build(ZoneText(7, ManyNames(2000)));
  Request r = MakeRequest(type::kAXFR, true, std::nullopt, /*edns=*/true);
  r.req.max_size = 4096;
  const std::string request_mac = "0123456789abcdef0123456789abcdef";
  r.req.signing = TransferSigning{&key, request_mac, kNow};
  TransferAnswer a = Serve(r, *zone);
  ASSERT_GT(a.messages.size(), 3u);
  TsigStreamVerifier verifier(key, request_mac);
  std::vector<Record> all;
  for (const auto& w : a.messages) {
    EXPECT_LE(w.size(), 4096u);
    auto v = verifier.Next(reinterpret_cast<const uint8_t*>(w.data()), w.size(), kNow + 1);
    EXPECT_EQ(v.status, TsigStatus::kNoError) << TsigStatusName(v.status);
    auto m = Message::Parse(reinterpret_cast<const uint8_t*>(w.data()), w.size());
    ASSERT_TRUE(m.ok());
    // OPT before TSIG; TSIG is the last additional record.
    EXPECT_TRUE(m->edns.has_value());
    ASSERT_EQ(m->additional.size(), 1u);
    EXPECT_EQ(m->additional[0].type, type::kTSIG);
    all.insert(all.end(), m->answers.begin(), m->answers.end());
  }
  EXPECT_TRUE(verifier.AtSignedBoundary());
  EXPECT_EQ(all.size(), zone->record_count() + 1);

  // A different request MAC (another request) does not verify.
  TsigStreamVerifier wrong(key, "another-request-mac-another-mac!");
  EXPECT_NE(wrong.Next(reinterpret_cast<const uint8_t*>(a.messages[0].data()), a.messages[0].size(), kNow).status,
            TsigStatus::kNoError);
}

TEST(TransferTsig, ErrorAndIxfrAnswersAreSigned) {
  TsigKey key = Key();
  History h = ThreeVersions(10, 11, 12);
  const std::string mac = "request-mac-request-mac-request!";
  Request bad = MakeRequest(type::kAXFR, true, std::nullopt, false, "www.example.");
  bad.req.signing = TransferSigning{&key, mac, kNow};
  TransferAnswer e = Serve(bad, *h.zone);
  ASSERT_EQ(e.messages.size(), 1u);
  EXPECT_EQ(VerifyResponse(reinterpret_cast<const uint8_t*>(e.messages[0].data()), e.messages[0].size(), key, mac, kNow)
                .status,
            TsigStatus::kNoError);

  Request ixfr = MakeRequest(type::kIXFR, false, 10u);
  ixfr.req.signing = TransferSigning{&key, mac, kNow};
  TransferAnswer a = Serve(ixfr, *h.zone, h.diffs);
  EXPECT_EQ(a.kind, TransferKind::kIxfr);
  ASSERT_EQ(a.messages.size(), 1u);
  EXPECT_LE(a.messages[0].size(), 512u);
  EXPECT_EQ(VerifyResponse(reinterpret_cast<const uint8_t*>(a.messages[0].data()), a.messages[0].size(), key, mac, kNow)
                .status,
            TsigStatus::kNoError);
}

TEST(Transfer, KindNames) {
  EXPECT_EQ(TransferKindName(TransferKind::kAxfr), "axfr");
  EXPECT_EQ(TransferKindName(TransferKind::kIxfrAxfr), "ixfr_axfr");
  EXPECT_EQ(TransferKindName(TransferKind::kError), "error");
}

}  // namespace
}  // namespace berth::dns::transfer
