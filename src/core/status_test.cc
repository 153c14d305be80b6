#include "core/status.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

Result<int> Half(int x) {
  if (x % 2) return InvalidArgument("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int h, Half(x));
  ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status Check(int x) {
  RETURN_IF_ERROR(Half(x).status());
  return Status::Ok();
}

TEST(Status, OkIsCheapAndPrintable) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "ok");
  EXPECT_EQ(s.code(), Code::kOk);
}

TEST(Status, CarriesCodeMessageAndContext) {
  Status s = NotFound("zone x.");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.ToString(), "not_found: zone x.");
  Status c = s.WithContext("loading");
  EXPECT_EQ(c.message(), "loading: zone x.");
  Status copy = c;
  EXPECT_EQ(copy.code(), Code::kNotFound);
}

TEST(Result, PropagatesErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_FALSE(Quarter(6).ok());
  EXPECT_EQ(Quarter(6).status().message(), "odd");
  EXPECT_TRUE(Check(4).ok());
  EXPECT_EQ(Check(3).code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace berth
