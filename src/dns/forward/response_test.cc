#include "dns/forward/response.h"

#include <gtest/gtest.h>

#include "dns/forward/test_util.h"

namespace berth::dns {
namespace {

using namespace forward_test;

TEST(ParseQueryTest, ReadsQuestionAndEdns) {
  std::string q = QueryMsg(7, "WwW.Example.", type::kAAAA, true, true).Build();
  auto info = ParseQuery(Bytes(q), q.size());
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->id, 7);
  EXPECT_EQ(info->qname_len, N("www.example.").wire_size());
  EXPECT_EQ(info->qtype, type::kAAAA);
  EXPECT_TRUE(info->has_edns);
  EXPECT_TRUE(info->dnssec_ok);
  EXPECT_EQ(info->udp_size, kDefaultEdnsSize);

  std::string plain = QueryMsg(7, "a.example.", type::kA).Build();
  auto p = ParseQuery(Bytes(plain), plain.size());
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->has_edns);
  EXPECT_EQ(p->udp_size, kMinUdpSize);
}

TEST(ParseQueryTest, RejectsResponsesAndShortInput) {
  Message m = QueryMsg(1, "a.example.", type::kA);
  std::string resp = ResponseTo(m).Build();
  EXPECT_FALSE(ParseQuery(Bytes(resp), resp.size()).ok());
  std::string q = m.Build();
  EXPECT_FALSE(ParseQuery(Bytes(q), q.size() - 1).ok());
  EXPECT_FALSE(ParseQuery(Bytes(q), 5).ok());
}

TEST(AnalyzeResponseTest, CollectsTtlOffsetsButNotOpt) {
  Message q = QueryMsg(9, "a.example.", type::kA, true);
  Message r = ResponseTo(q);
  r.answers.push_back(Rr("a.example.", type::kA, 300, A(1, 2, 3, 4)));
  r.answers.push_back(Rr("a.example.", type::kA, 200, A(1, 2, 3, 5)));
  r.authority.push_back(Soa("example.", 900, 60));
  std::string wire = r.Build();
  auto info = AnalyzeResponse(Bytes(wire), wire.size());
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->ttl_offsets.size(), 3u);
  EXPECT_EQ(info->min_ttl, 200u);  // the SOA MINIMUM is not a TTL of its own
  EXPECT_TRUE(info->has_soa);
  EXPECT_EQ(info->soa_negative_ttl, 60u);
  EXPECT_TRUE(info->has_opt);
  EXPECT_EQ(info->body_len, wire.size() - kOptSize);
  EXPECT_TRUE(QuestionMatches(Bytes(wire), *info, N("A.EXAMPLE.").wire(), type::kA, cls::kIN));
  EXPECT_FALSE(QuestionMatches(Bytes(wire), *info, N("b.example.").wire(), type::kA, cls::kIN));
  EXPECT_FALSE(QuestionMatches(Bytes(wire), *info, N("a.example.").wire(), type::kMX, cls::kIN));
}

TEST(AnalyzeResponseTest, RejectsMalformed) {
  Message q = QueryMsg(9, "a.example.", type::kA);
  Message r = ResponseTo(q);
  r.answers.push_back(Rr("a.example.", type::kA, 300, A(1, 2, 3, 4)));
  std::string wire = r.Build();
  for (size_t cut = 0; cut < wire.size(); ++cut)
    EXPECT_FALSE(AnalyzeResponse(Bytes(wire), cut).ok()) << "cut at " << cut;
  std::string trailing = wire + "x";
  EXPECT_FALSE(AnalyzeResponse(Bytes(trailing), trailing.size()).ok());
  std::string query = q.Build();
  EXPECT_FALSE(AnalyzeResponse(Bytes(query), query.size()).ok());  // QR not set
}

TEST(RewriteForClientTest, SetsIdCaseAndOurOpt) {
  Message client = QueryMsg(0xBEEF, "wWw.ExAmple.", type::kA, true);
  std::string query = client.Build();
  Message upstream_q = QueryMsg(0x1111, "www.example.", type::kA, true);
  Message r = ResponseTo(upstream_q);
  r.flags &= static_cast<uint16_t>(~flag::kRA);
  r.flags |= flag::kAA | flag::kAD;  // an authoritative upstream; AD is not for this client
  r.answers.push_back(Rr("www.example.", type::kA, 300, A(10, 0, 0, 1)));
  r.edns->udp_size = 4096;
  r.edns->options = std::string("\x00\x0a\x00\x08" "abcdefgh", 12);  // an upstream cookie
  std::string wire = r.Build();

  std::string out = RewriteForClient(wire, Bytes(query), query.size(), 1232);
  auto m = Message::Parse(Bytes(out), out.size());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->id, 0xBEEF);
  EXPECT_TRUE(m->has(flag::kRA));
  EXPECT_FALSE(m->has(flag::kAA));
  EXPECT_FALSE(m->has(flag::kAD));
  EXPECT_TRUE(m->has(flag::kRD));
  EXPECT_EQ(m->questions[0].name.ToText(), "wWw.ExAmple.");
  ASSERT_EQ(m->answers.size(), 1u);
  ASSERT_TRUE(m->edns);
  EXPECT_EQ(m->edns->udp_size, kDefaultEdnsSize);
  EXPECT_TRUE(m->edns->options.empty());

  // A client without EDNS gets no OPT.
  std::string plain = QueryMsg(5, "www.example.", type::kA).Build();
  std::string out2 = RewriteForClient(wire, Bytes(plain), plain.size(), 512);
  auto m2 = Message::Parse(Bytes(out2), out2.size());
  ASSERT_TRUE(m2.ok());
  EXPECT_FALSE(m2->edns);
  EXPECT_EQ(m2->answers.size(), 1u);
}

TEST(RewriteForClientTest, TruncatesForSmallUdpAndRejectsOtherQuestion) {
  Message client = QueryMsg(3, "big.example.", type::kTXT);
  std::string query = client.Build();
  Message r = ResponseTo(client);
  for (int i = 0; i < 10; ++i)
    r.answers.push_back(Rr("big.example.", type::kTXT, 60, std::string(1, '\x63') + std::string(99, 'x')));
  std::string wire = r.Build();
  ASSERT_GT(wire.size(), 512u);

  std::string out = RewriteForClient(wire, Bytes(query), query.size(), 512);
  auto m = Message::Parse(Bytes(out), out.size());
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->has(flag::kTC));
  EXPECT_TRUE(m->answers.empty());
  EXPECT_EQ(m->questions.size(), 1u);

  std::string tcp = RewriteForClient(wire, Bytes(query), query.size(), 0);
  EXPECT_EQ(tcp.size(), wire.size());

  std::string other = QueryMsg(3, "other.example.", type::kTXT).Build();
  EXPECT_TRUE(RewriteForClient(wire, Bytes(other), other.size(), 512).empty());
}

}  // namespace
}  // namespace berth::dns
