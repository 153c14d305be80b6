#include "http/client.h"

#include <gtest/gtest.h>

#include "http/server.h"
#include "http/test_util.h"

namespace berth::http {
namespace {

TEST(Client, BadEndpointsAreInvalidArgument) {
  for (const char* bad : {"", "localhost", "https://", "http://", "http://host:0", "http://host:99999",
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

// https against src/http's own TLS listener: trusted through ca_file, refused without it, and
// refused when the certificate names another address.
TEST(Client, HttpsVerifiesThePeer) {
  testing::TempDir dir;
  auto make_cert = [&](const std::string& stem, const std::string& san) {
    std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
                      "-subj /CN=test -addext subjectAltName=" + san + " -keyout " + dir.path() + "/" + stem +
                      ".key -out " + dir.path() + "/" + stem + ".pem >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
  };
  ASSERT_TRUE(make_cert("good", "IP:127.0.0.1"));
  ASSERT_TRUE(make_cert("other", "IP:192.0.2.1"));
  Router router;
  ASSERT_TRUE(router.Add("GET", "/hello", [](const Request&) { return Response::Text(200, "hi\n"); }).ok());
  for (const std::string stem : {"good", "other"}) {
    ServerOptions options;
    options.listeners = {Listener::Tls("127.0.0.1:0", dir.path() + "/" + stem + ".pem", dir.path() + "/" + stem + ".key")};
    Server server(router, options);
    ASSERT_TRUE(server.Start().ok());
    std::string url = "https://127.0.0.1:" + std::to_string(server.listeners()[0].port);
    ClientOptions trusted;
    trusted.ca_file = dir.path() + "/" + stem + ".pem";
    Result<ClientResponse> r = Client(url, trusted).Do("GET", "/hello");
    if (stem == "good") {
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_EQ(r->status, 200);
      EXPECT_EQ(r->body, "hi\n");
      Result<ClientResponse> untrusted = Client(url).Do("GET", "/hello");
      ASSERT_FALSE(untrusted.ok());
      EXPECT_EQ(untrusted.status().code(), Code::kUnavailable);
      EXPECT_NE(untrusted.status().message().find("certificate"), std::string::npos) << untrusted.status().message();
    } else {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.status().code(), Code::kUnavailable);
      EXPECT_NE(r.status().message().find("mismatch"), std::string::npos) << r.status().message();
    }
    server.Stop();
  }
  ClientOptions missing;
  missing.ca_file = dir.path() + "/none.pem";
  EXPECT_EQ(Client("https://127.0.0.1:1", missing).Do("GET", "/").status().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace berth::http
