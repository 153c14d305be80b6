#include "http/router.h"

#include <gtest/gtest.h>

namespace berth::http {
namespace {

Handler Named(std::string name) {
  return [name](const Request&) { return Response::Text(200, name); };
}

std::string Call(const Router::Match& m) { return (*m.handler)(Request{}).body; }

TEST(Router, MatchesLiteralsAndDecodesParams) {
  Router r;
  ASSERT_TRUE(r.Add("GET", "/api/v1/zones", Named("list")).ok());
  ASSERT_TRUE(r.Add("GET", "/api/v1/zones/{zone}", Named("one")).ok());
  Result<Router::Match> m = r.Find("GET", "/api/v1/zones/example%2Ecom.");
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->kind, Router::Match::kFound);
  EXPECT_EQ(Call(*m), "one");
  EXPECT_EQ(m->params.at("zone"), "example.com.");
  EXPECT_EQ(Call(*r.Find("GET", "/api/v1/zones")), "list");
}

TEST(Router, NoPathAndWrongMethod) {
  Router r;
  ASSERT_TRUE(r.Add("GET", "/z/{id}", Named("get")).ok());
  ASSERT_TRUE(r.Add("DELETE", "/z/{id}", Named("del")).ok());
  EXPECT_EQ(r.Find("GET", "/nope")->kind, Router::Match::kNoPath);
  EXPECT_EQ(r.Find("GET", "/z/")->kind, Router::Match::kNoPath);  // empty segment never captures
  EXPECT_EQ(r.Find("GET", "/z/a/b")->kind, Router::Match::kNoPath);
  Result<Router::Match> m = r.Find("POST", "/z/1");
  ASSERT_EQ(m->kind, Router::Match::kWrongMethod);
  EXPECT_EQ(m->allow, "DELETE, GET, HEAD");
}

TEST(Router, HeadUsesGetUnlessHeadIsRegistered) {
  Router r;
  ASSERT_TRUE(r.Add("GET", "/a", Named("get-a")).ok());
  ASSERT_TRUE(r.Add("GET", "/b", Named("get-b")).ok());
  ASSERT_TRUE(r.Add("HEAD", "/b", Named("head-b")).ok());
  EXPECT_EQ(Call(*r.Find("HEAD", "/a")), "get-a");
  EXPECT_EQ(Call(*r.Find("HEAD", "/b")), "head-b");
}

TEST(Router, RestCaptureSpansSegments) {
  Router r;
  ASSERT_TRUE(r.Add("GET", "/v2/{repo...}/manifests/{ref}", Named("manifest")).ok());
  Result<Router::Match> m = r.Find("GET", "/v2/library/nested/alpine/manifests/3.19");
  ASSERT_EQ(m->kind, Router::Match::kFound);
  EXPECT_EQ(m->params.at("repo"), "library/nested/alpine");
  EXPECT_EQ(m->params.at("ref"), "3.19");
  EXPECT_EQ(r.Find("GET", "/v2/manifests/x")->kind, Router::Match::kNoPath);
}

TEST(Router, PerRouteBodyLimitIsReported) {
  Router r;
  ASSERT_TRUE(r.Add("PUT", "/blob", Named("blob"), RouteOptions{.max_body_bytes = 123}).ok());
  EXPECT_EQ(r.Find("PUT", "/blob")->options.max_body_bytes, 123u);
}

TEST(Router, RejectsBadRoutes) {
  Router r;
  EXPECT_EQ(r.Add("get", "/x", Named("x")).code(), Code::kInvalidArgument);
  EXPECT_EQ(r.Add("GET", "x", Named("x")).code(), Code::kInvalidArgument);
  EXPECT_EQ(r.Add("GET", "/{a}/{a}", Named("x")).code(), Code::kInvalidArgument);
  EXPECT_EQ(r.Add("GET", "/{}", Named("x")).code(), Code::kInvalidArgument);
  EXPECT_EQ(r.Add("GET", "/a{b}", Named("x")).code(), Code::kInvalidArgument);
  EXPECT_EQ(r.Add("GET", "/{a...}/{b...}", Named("x")).code(), Code::kInvalidArgument);
  EXPECT_EQ(r.Add("GET", "/x", Handler()).code(), Code::kInvalidArgument);
  ASSERT_TRUE(r.Add("GET", "/x", Named("x")).ok());
  EXPECT_EQ(r.Add("GET", "/x", Named("x")).code(), Code::kAlreadyExists);
}

TEST(Router, BadEscapeInCaptureIsAnError) {
  Router r;
  ASSERT_TRUE(r.Add("GET", "/z/{id}", Named("x")).ok());
  EXPECT_EQ(r.Find("GET", "/z/%zz").status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace berth::http
