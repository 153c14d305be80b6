#include "core/text.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace berth {
namespace {

std::vector<std::string> Fields(std::string_view text, char sep) {
  std::vector<std::string> out;
  while (!text.empty()) out.emplace_back(NextField(text, sep));
  return out;
}

TEST(NextField, SplitsOnTheSeparatorKeepingEmptyFieldsInside) {
  EXPECT_EQ(Fields("a=1;b=2", ';'), (std::vector<std::string>{"a=1", "b=2"}));
  EXPECT_EQ(Fields("a;;b", ';'), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(Fields("a;", ';'), (std::vector<std::string>{"a"}));  // a trailing separator ends it
  EXPECT_EQ(Fields("", ';'), (std::vector<std::string>{}));
  EXPECT_EQ(Fields("no-separator", ';'), (std::vector<std::string>{"no-separator"}));
}

}  // namespace
}  // namespace berth
