#include "ddns/template.h"

#include <gtest/gtest.h>

namespace berth::ddns {
namespace {

TEST(Template, RendersVariablesWithFilters) {
  TemplateVars vars = {{"address", "2001:db8::1"}, {"name", "home.example."}, {"error", "say \"no\"\n"}};
  auto r = RenderTemplate("ip={{address}} n={{ name }}", vars);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "ip=2001:db8::1 n=home.example.");
  EXPECT_EQ(*RenderTemplate("/u?ip={{address}}", vars, Escape::kUrl), "/u?ip=2001%3Adb8%3A%3A1");
  EXPECT_EQ(*RenderTemplate("/u?ip={{address|raw}}", vars, Escape::kUrl), "/u?ip=2001:db8::1");
  EXPECT_EQ(*RenderTemplate(R"({"e":"{{error|json}}"})", vars), R"({"e":"say \"no\"\n"})");
  EXPECT_EQ(*RenderTemplate("{{name|url}}", vars), "home.example.");
  EXPECT_EQ(*RenderTemplate("no variables {", vars), "no variables {");
}

TEST(Template, ErrorsNameTheProblem) {
  TemplateVars vars = {{"address", "192.0.2.1"}};
  auto r = RenderTemplate("{{adress}}", vars);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'adress'"), std::string::npos);
  EXPECT_FALSE(RenderTemplate("{{address", vars).ok());
  EXPECT_NE(RenderTemplate("{{address|base64}}", vars).status().message().find("unknown filter"), std::string::npos);

  EXPECT_TRUE(ValidateTemplate("{{address}} {{name|json}} {{ttl}}", WebhookVariables()).ok());
  Status s = ValidateTemplate("{{event}}", WebhookVariables());
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("known: address"), std::string::npos) << s.message();
  EXPECT_TRUE(ValidateTemplate("{{event}} {{error}} {{previous}}", NotifyVariables()).ok());
}

}  // namespace
}  // namespace berth::ddns
