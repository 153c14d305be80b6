#include "http/json.h"

#include <gtest/gtest.h>

namespace berth::http {
namespace {

Request WithBody(std::string body) {
  Request r;
  r.body = std::move(body);
  return r;
}

TEST(ParseJsonBody, ParsesValidJson) {
  Result<nlohmann::json> j = ParseJsonBody(WithBody(R"({"name": "example.com.", "kind": "Native"})"));
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)["name"], "example.com.");
}

TEST(ParseJsonBody, ErrorsAreInvalidArgument) {
  for (const char* bad : {"", "{", "{\"a\": }", "[1,]", "nul"}) {
    Result<nlohmann::json> j = ParseJsonBody(WithBody(bad));
    ASSERT_FALSE(j.ok()) << bad;
    EXPECT_EQ(j.status().code(), Code::kInvalidArgument);
  }
  EXPECT_NE(ParseJsonBody(WithBody("{\"a\": }")).status().message().find("byte"), std::string::npos);
}

TEST(ParseJsonBody, BoundsNesting) {
  EXPECT_TRUE(ParseJsonBody(WithBody(std::string(100, '[') + std::string(100, ']'))).ok());
  EXPECT_FALSE(ParseJsonBody(WithBody(std::string(100000, '['))).ok());
  // Brackets inside strings do not count.
  EXPECT_TRUE(ParseJsonBody(WithBody("\"" + std::string(1000, '[') + "\"")).ok());
}

TEST(JsonError, HasPowerDnsShape) {
  Response r = JsonError(422, "bad \"zone\"");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(nlohmann::json::parse(r.body), (nlohmann::json{{"error", "bad \"zone\""}}));
}

TEST(ResponseJson, InvalidUtf8IsReplacedNotThrown) {
  Response r = Response::Json(200, nlohmann::json{{"label", std::string("a\xff")}});
  EXPECT_TRUE(nlohmann::json::accept(r.body));
}

TEST(ErrorResponse, MapsCodes) {
  EXPECT_EQ(ErrorResponse(NotFound("zone x")).status, 404);
  EXPECT_EQ(ErrorResponse(InvalidArgument("x")).status, 400);
  EXPECT_EQ(ErrorResponse(AlreadyExists("x")).status, 409);
  EXPECT_EQ(ErrorResponse(Unauthenticated("x")).status, 401);
  EXPECT_EQ(ErrorResponse(Internal("x")).status, 500);
  EXPECT_EQ(nlohmann::json::parse(ErrorResponse(NotFound("zone x")).body)["error"], "zone x");
}

}  // namespace
}  // namespace berth::http
