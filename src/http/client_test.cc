#include "http/client.h"

#include <gtest/gtest.h>

#include "http/test_util.h"

namespace berth::http {
namespace {

TEST(Client, BadEndpointsAreInvalidArgument) {
  for (const char* bad : {"", "localhost", "https://127.0.0.1:1", "http://", "http://host:0", "http://host:99999",
                          "http://host/api", "http://[::1"}) {
    Result<ClientResponse> r = Client(bad).Do("GET", "/");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << bad;
  }
}

TEST(Client, BadRequestsAreInvalidArgument) {
  Client client("http://127.0.0.1:1");
  EXPECT_EQ(client.Do("G ET", "/").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(client.Do("GET", "no-slash").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(client.Do("GET", "/a b").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(client.Do("GET", "/", "", {{"X-Evil", "a\r\nInjected: 1"}}).status().code(), Code::kInvalidArgument);
}

// A port with nothing listening: bind a socket without listen() so no one else takes it.
TEST(Client, RefusedConnectionIsUnavailable) {
  uint16_t port = 0;
  int fd = testing::BindLoopback(false, &port);
  ASSERT_GE(fd, 0);
  std::string url = "http://127.0.0.1:" + std::to_string(port);
  Result<ClientResponse> r = Client(url).Do("GET", "/");
  close(fd);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_EQ(r.status().message(), "cannot reach berthd at " + url + ": connection refused");
}

TEST(Client, MissingUnixSocketIsUnavailable) {
  testing::TempDir dir;
  Result<ClientResponse> r = Client(dir.path() + "/absent.sock").Do("GET", "/");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_NE(r.status().message().find("no such file"), std::string::npos) << r.status().message();
}

// A listener that never accepts: the kernel completes the handshake, nobody answers.
TEST(Client, SilentServerTimesOut) {
  uint16_t port = 0;
  int fd = testing::BindLoopback(true, &port);
  ASSERT_GE(fd, 0);
  ClientOptions options;
  options.read_timeout = std::chrono::milliseconds(200);
  Client client("http://127.0.0.1:" + std::to_string(port), options);
  Result<ClientResponse> r = client.Do("GET", "/");
  close(fd);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kDeadlineExceeded) << r.status().ToString();
}

}  // namespace
}  // namespace berth::http
