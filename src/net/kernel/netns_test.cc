#include "net/kernel/netns.h"

#include <vector>

#include <gtest/gtest.h>

#include "net/kernel/test_support.h"

namespace berth::net {
namespace {

using testing::RandomSuffix;
using testing::ShellIn;

TEST(Netns, CurrentIsStableAndCreateIsNew) {
  BERTH_REQUIRE_ROOT();
  auto a = Netns::Current();
  auto b = Netns::Current();
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok());
  EXPECT_NE(a->fd(), b->fd());
  EXPECT_TRUE(a->SameAs(*b));
  auto self = Netns::Open("/proc/self/ns/net");
  ASSERT_TRUE(self.ok());
  EXPECT_TRUE(a->SameAs(*self));

  auto fresh = Netns::Create();
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_FALSE(fresh->SameAs(*a));
  // Creating it did not move the calling thread.
  auto after = Netns::Current();
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->SameAs(*a));
}

TEST(Netns, OpenRejectsWhatIsNotANetns) {
  BERTH_REQUIRE_ROOT();
  EXPECT_EQ(Netns::Open("/nonexistent/berth").status().code(), Code::kNotFound);
  EXPECT_EQ(Netns::Open("/etc/hostname").status().code(), Code::kInvalidArgument);
  auto uts = Netns::Open("/proc/self/ns/uts");
  EXPECT_EQ(uts.status().code(), Code::kInvalidArgument);
  EXPECT_NE(uts.status().message().find("not a network namespace"), std::string::npos);
}

TEST(Netns, RunEntersTheNamespaceOnlyForFn) {
  BERTH_REQUIRE_ROOT();
  auto host = Netns::Current();
  auto ns = Netns::Create();
  ASSERT_TRUE(host.ok() && ns.ok());
  bool inside = false;
  Status st = ns->Run([&]() -> Status {
    auto cur = Netns::Current();
    if (!cur.ok()) return cur.status();
    inside = cur->SameAs(*ns);
    return NotFound("passed through");
  });
  EXPECT_TRUE(inside);
  EXPECT_EQ(st.code(), Code::kNotFound);  // fn's Status comes back
  EXPECT_EQ(st.message(), "passed through");
  auto cur = Netns::Current();
  ASSERT_TRUE(cur.ok());
  EXPECT_TRUE(cur->SameAs(*host));
  // Moving keeps identity; a moved-from handle cannot Run.
  Netns moved = std::move(*ns);
  EXPECT_EQ(ns->fd(), -1);
  EXPECT_FALSE(ns->Run([] { return Status::Ok(); }).ok());
  EXPECT_TRUE(moved.Run([] { return Status::Ok(); }).ok());
}

TEST(Netns, NamedLifecycle) {
  BERTH_REQUIRE_ROOT();
  const std::string name = "berth-test-" + RandomSuffix();
  struct Cleanup {
    std::string name;
    ~Cleanup() { (void)Netns::DeleteNamed(name); }
  } cleanup{name};

  auto created = Netns::CreateNamed(name);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(Netns::CreateNamed(name).status().code(), Code::kAlreadyExists);

  auto opened = Netns::OpenNamed(name);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_TRUE(opened->SameAs(*created));
  auto host = Netns::Current();
  ASSERT_TRUE(host.ok());
  EXPECT_FALSE(opened->SameAs(*host));

  // iproute2 sees it like one of its own, and `ip netns exec` lands in the same namespace.
  auto host_ns = std::move(*host);
  EXPECT_NE(ShellIn(host_ns, "ip netns list").find(name), std::string::npos);
  std::string inode =
      ShellIn(host_ns, "ip netns exec " + name + " stat -L -c %i /proc/self/ns/net");
  EXPECT_EQ(std::stoull(inode), created->inode());

  ASSERT_TRUE(Netns::DeleteNamed(name).ok());
  EXPECT_EQ(Netns::OpenNamed(name).status().code(), Code::kNotFound);
  EXPECT_EQ(Netns::DeleteNamed(name).code(), Code::kNotFound);
  // Our handle keeps the namespace itself alive.
  EXPECT_TRUE(created->Run([] { return Status::Ok(); }).ok());
}

TEST(Netns, NamesAreValidated) {
  for (const std::string& bad : std::vector<std::string>{"", ".", "..", "a/b", "with space",
                                                         "tab\t", std::string(256, 'x')}) {
    EXPECT_EQ(Netns::OpenNamed(bad).status().code(), Code::kInvalidArgument) << bad;
    EXPECT_EQ(Netns::CreateNamed(bad).status().code(), Code::kInvalidArgument) << bad;
    EXPECT_EQ(Netns::DeleteNamed(bad).code(), Code::kInvalidArgument) << bad;
  }
}

TEST(Sysctl, WritesInTheCallingThreadsNamespaceOnly) {
  BERTH_REQUIRE_ROOT();
  auto host_before = ReadSysctl("net/ipv4/ip_forward");
  ASSERT_TRUE(host_before.ok()) << host_before.status().ToString();
  auto ns = Netns::Create();
  ASSERT_TRUE(ns.ok());
  std::string seen_slash, seen_dot;
  Status st = ns->Run([&]() -> Status {
    RETURN_IF_ERROR(WriteSysctl("net/ipv4/ip_forward", "1"));
    ASSIGN_OR_RETURN(seen_slash, ReadSysctl("net/ipv4/ip_forward"));
    RETURN_IF_ERROR(WriteSysctl("net.ipv4.ip_forward", "0"));
    ASSIGN_OR_RETURN(seen_dot, ReadSysctl("net.ipv4.ip_forward"));
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(seen_slash, "1");
  EXPECT_EQ(seen_dot, "0");
  auto host_after = ReadSysctl("net/ipv4/ip_forward");
  ASSERT_TRUE(host_after.ok());
  EXPECT_EQ(*host_after, *host_before);
}

TEST(Sysctl, ErrorsAreClear) {
  EXPECT_EQ(ReadSysctl("net/ipv4/no_such_key").status().code(), Code::kNotFound);
  EXPECT_EQ(ReadSysctl("").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ReadSysctl("/etc/passwd").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ReadSysctl("net/../../etc/passwd").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ReadSysctl("net/ipv4/ip forward").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(WriteSysctl("net/ipv4/no_such_key", "1").code(), Code::kNotFound);
}

}  // namespace
}  // namespace berth::net
