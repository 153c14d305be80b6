#include "http/auth.h"

#include <gtest/gtest.h>

namespace berth::http {
namespace {

TEST(Base64, RoundTripsAllLengths) {
  std::string data;
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(Base64Decode(Base64Encode(data)), data) << i;
    data.push_back(static_cast<char>(i * 37));
  }
  EXPECT_EQ(Base64Encode("user:pass"), "dXNlcjpwYXNz");
}

TEST(Base64, RejectsMalformed) {
  for (const char* bad : {"abc", "ab=c", "a===", "ab\ncd", "ab c", "ab==ab==", "@@@@"}) {
    EXPECT_FALSE(Base64Decode(bad).has_value()) << bad;
  }
}

TEST(ParseBasicAuth, SplitsAtFirstColon) {
  auto creds = ParseBasicAuth("Basic " + Base64Encode("host.example:pa:ss"));
  ASSERT_TRUE(creds.has_value());
  EXPECT_EQ(creds->first, "host.example");
  EXPECT_EQ(creds->second, "pa:ss");
  EXPECT_TRUE(ParseBasicAuth("basic " + Base64Encode("u:")).has_value());
}

TEST(ParseBasicAuth, RejectsOtherSchemesAndGarbage) {
  EXPECT_FALSE(ParseBasicAuth("Bearer abc").has_value());
  EXPECT_FALSE(ParseBasicAuth("Basic").has_value());
  EXPECT_FALSE(ParseBasicAuth("Basic !!!!").has_value());
  EXPECT_FALSE(ParseBasicAuth("Basic " + Base64Encode("nocolon")).has_value());
  EXPECT_FALSE(ParseBasicAuth("Basicx " + Base64Encode("u:p")).has_value());
}

TEST(ParseBearerToken, AcceptsToken68Only) {
  EXPECT_EQ(ParseBearerToken("Bearer abc.DEF-123_~+/=="), "abc.DEF-123_~+/==");
  EXPECT_EQ(ParseBearerToken("bearer  tok "), "tok");
  EXPECT_FALSE(ParseBearerToken("Bearer ").has_value());
  EXPECT_FALSE(ParseBearerToken("Bearer a b").has_value());
  EXPECT_FALSE(ParseBearerToken("Bearer =abc").has_value());
  EXPECT_FALSE(ParseBearerToken("Bearer ab=c").has_value());
  EXPECT_FALSE(ParseBearerToken("Basic abc").has_value());
}

TEST(ConstantTimeEquals, ComparesContent) {
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret2"));
}

}  // namespace
}  // namespace berth::http
