#include "http/url.h"

#include <gtest/gtest.h>

namespace berth::http {
namespace {

TEST(PercentDecode, DecodesEscapesAndOptionallyPlus) {
  EXPECT_EQ(*PercentDecode("a%2Eb%2fc"), "a.b/c");
  EXPECT_EQ(*PercentDecode("a+b"), "a+b");
  EXPECT_EQ(*PercentDecode("a+b", true), "a b");
}

TEST(PercentDecode, RejectsBadEscapes) {
  for (const char* bad : {"%", "%4", "%zz", "abc%g1", "%00"}) {
    Result<std::string> r = PercentDecode(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  }
}

TEST(PercentEncode, RoundTrips) {
  std::string raw = "zone name/with?odd&chars=é";
  std::string encoded = PercentEncode(raw);
  EXPECT_EQ(encoded.find_first_of(" /?&="), std::string::npos);
  EXPECT_EQ(*PercentDecode(encoded), raw);
}

TEST(ParseTarget, SplitsPathAndQuery) {
  Result<Target> t = ParseTarget("/api/v1/zones/ex%2Ecom?rrsets=false&q=a+b&q=c&flag");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->raw_path, "/api/v1/zones/ex%2Ecom");
  EXPECT_EQ(t->path, "/api/v1/zones/ex.com");
  EXPECT_EQ(t->query.count("q"), 2u);
  EXPECT_EQ(t->query.find("rrsets")->second, "false");
  EXPECT_EQ(t->query.find("flag")->second, "");
  EXPECT_EQ(t->query.find("q")->second, "a b");
}

TEST(ParseTarget, RejectsNonOriginForm) {
  for (const char* bad : {"", "*", "http://x/", "/a b", "/a#frag", "/a%zz", "/a?x=%"}) {
    EXPECT_FALSE(ParseTarget(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace berth::http
