#include "auth/secret.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace berth::auth {
namespace {

TEST(Secret, PlainAndDigest) {
  Secret p = Secret::Plain("s3cret-token");
  EXPECT_TRUE(p.Verify("s3cret-token"));
  EXPECT_FALSE(p.Verify("s3cret-tokeN"));
  EXPECT_FALSE(p.Verify(""));
  EXPECT_FALSE(Secret::Plain("").Verify(""));
  Secret d = Secret::Sha256Of("s3cret-token");
  EXPECT_TRUE(d.Verify("s3cret-token"));
  EXPECT_FALSE(d.Verify("other"));
  EXPECT_EQ(p.ToStored(), d.ToStored());
  auto back = Secret::FromStored(d.ToStored());
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->Verify("s3cret-token"));
  EXPECT_FALSE(Secret::FromStored("sha256:abc").ok());
  EXPECT_FALSE(Secret::FromStored("plain").ok());
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Secret, CryptFormats) {
  auto y = HashPassword("hunter2");
  ASSERT_TRUE(y.ok());
  EXPECT_TRUE(y->starts_with("$y$"));
  auto s = Secret::CryptHash(*y);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(s->Verify("hunter2"));
  EXPECT_FALSE(s->Verify("hunter3"));
  EXPECT_EQ(s->ToStored(), *y);
  // sha512crypt and bcrypt hashes of "password" (from `mkpasswd`).
  auto sha = Secret::CryptHash("$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/");
  ASSERT_TRUE(sha.ok()) << sha.status().ToString();
  EXPECT_TRUE(sha->Verify("password"));
  EXPECT_FALSE(sha->Verify("Password"));
  auto bc = Secret::CryptHash("$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW");
  ASSERT_TRUE(bc.ok()) << bc.status().ToString();
  EXPECT_TRUE(bc->Verify("U*U"));
  EXPECT_FALSE(Secret::CryptHash("$1$md5$whatever").ok());      // md5crypt: refused
  EXPECT_FALSE(Secret::CryptHash("$y$").ok());                   // malformed
  EXPECT_FALSE(Secret::CryptHash("not a hash").ok());
}

TEST(Secret, Sources) {
  EXPECT_EQ(*ReadSecret("k", std::string("inline"), std::nullopt, std::nullopt), "inline");
  EXPECT_FALSE(ReadSecret("k", std::nullopt, std::nullopt, std::nullopt).ok());
  EXPECT_FALSE(ReadSecret("k", std::string("a"), std::string("/f"), std::nullopt).ok());
  EXPECT_FALSE(ReadSecret("k", std::string(""), std::nullopt, std::nullopt).ok());
  auto dir = std::filesystem::temp_directory_path() / ("berth-secret-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "s").string();
  std::ofstream(path) << "from-file\n";
  EXPECT_EQ(*ReadSecret("k", std::nullopt, path, std::nullopt), "from-file");
  auto missing = ReadSecret("k", std::nullopt, (dir / "nope").string(), std::nullopt);
  EXPECT_EQ(missing.status().code(), Code::kIo);
  std::filesystem::remove_all(dir);
  setenv("BERTH_TEST_SECRET", "from-env", 1);
  EXPECT_EQ(*ReadSecret("k", std::nullopt, std::nullopt, std::string("BERTH_TEST_SECRET")), "from-env");
  unsetenv("BERTH_TEST_SECRET");
  EXPECT_EQ(ReadSecret("k", std::nullopt, std::nullopt, std::string("BERTH_TEST_SECRET")).status().code(),
            Code::kNotFound);
}

TEST(Secret, RandomToken) {
  auto a = RandomToken(), b = RandomToken();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 43u);
  EXPECT_NE(*a, *b);
  EXPECT_EQ(a->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), std::string::npos);
}

}  // namespace
}  // namespace berth::auth
