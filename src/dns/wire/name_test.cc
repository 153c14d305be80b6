#include "dns/wire/name.h"

#include <gtest/gtest.h>

namespace berth::dns {
namespace {

Name N(std::string_view text) { return *Name::FromText(text); }

TEST(Name, ParsesAndPrintsPresentationForm) {
  EXPECT_EQ(N("www.Example.com.").ToText(), "www.Example.com.");
  EXPECT_EQ(N(".").ToText(), ".");
  EXPECT_EQ(N("a\\.b.c.").LabelCount(), 2u);
  EXPECT_EQ(N("a\\.b.c.").ToText(), "a\\.b.c.");
  EXPECT_EQ(N("\\065bc.").ToText(), "Abc.");
  EXPECT_EQ(N("x\\000y.").ToText(), "x\\000y.");
  Name origin = N("example.");
  EXPECT_EQ(Name::FromText("www", &origin)->ToText(), "www.example.");
  EXPECT_EQ(Name::FromText("@", &origin)->ToText(), "example.");
}

TEST(Name, RejectsMalformedText) {
  EXPECT_FALSE(Name::FromText("").ok());
  EXPECT_FALSE(Name::FromText("a..b.").ok());
  EXPECT_FALSE(Name::FromText("www").ok());  // relative without origin
  EXPECT_FALSE(Name::FromText("\\256.").ok());
  EXPECT_FALSE(Name::FromText("\\12").ok());
  EXPECT_FALSE(Name::FromText(std::string(64, 'a') + ".").ok());
  std::string long_name;
  for (int i = 0; i < 130; ++i) long_name += "a.";
  EXPECT_FALSE(Name::FromText(long_name).ok());
}

TEST(Name, ComparesWithoutCaseAndOrdersCanonically) {
  EXPECT_EQ(N("WWW.example."), N("www.EXAMPLE."));
  EXPECT_TRUE(N("a.b.example.").IsSubdomainOf(N("example.")));
  EXPECT_TRUE(N("example.").IsSubdomainOf(N("example.")));
  EXPECT_FALSE(N("aexample.").IsSubdomainOf(N("example.")));
  EXPECT_TRUE(N("x.").IsSubdomainOf(Name()));
  // RFC 4034 §6.1 example order.
  const char* order[] = {"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.",
                         "zABC.a.EXAMPLE.", "z.example.", "\\001.z.example.", "*.z.example.",
                         "\\200.z.example."};
  for (size_t i = 0; i + 1 < std::size(order); ++i) {
    EXPECT_LT(Name::CanonicalCompare(N(order[i]), N(order[i + 1])), 0) << order[i];
    EXPECT_LT(N(order[i]).CanonicalSortKey(), N(order[i + 1]).CanonicalSortKey()) << order[i];
  }
  // The sort key agrees with the comparison where 0x00 bytes and label ends meet.
  const char* tricky[] = {"a.", "x.a.", "a\\000.", "\\000.a.", "a\\001.", "A.b.", "ab.", "a\\000\\000."};
  for (const char* x : tricky)
    for (const char* y : tricky) {
      int cmp = Name::CanonicalCompare(N(x), N(y));
      int key_cmp = N(x).CanonicalSortKey().compare(N(y).CanonicalSortKey());
      EXPECT_EQ(cmp < 0, key_cmp < 0) << x << " vs " << y;
      EXPECT_EQ(cmp == 0, key_cmp == 0) << x << " vs " << y;
    }
}

TEST(Name, DerivesRelatives) {
  Name n = N("a.b.c.");
  EXPECT_EQ(n.Parent(), N("b.c."));
  EXPECT_EQ(n.Suffix(1), N("c."));
  EXPECT_EQ(n.Suffix(0), Name());
  EXPECT_TRUE(N("c.").WildcardChild()->IsWildcard());
  EXPECT_EQ(*n.ReplaceSuffix(N("b.c."), N("d.")), N("a.d."));
  EXPECT_EQ(HashWireName(N("AbC.").wire()), HashWireName(N("abc.").wire()));
}

}  // namespace
}  // namespace berth::dns
