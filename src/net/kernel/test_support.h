// Test-only helpers for the kernel tests: namespaces created per test and gone with it,
// shell commands run inside a namespace (to cross-check with iproute2), and UDP probes.
// Not part of the library.
#pragma once

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <random>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/net_address.h"
#include "net/kernel/netns.h"

namespace berth::net::testing {

#define BERTH_REQUIRE_ROOT()                                        \
  do {                                                              \
    if (geteuid() != 0) GTEST_SKIP() << "needs root (netns tests)"; \
  } while (0)

inline std::string RandomSuffix() {
  std::random_device rd;
  return fmt::format("{:08x}", rd());
}

// Output of `sh -c cmd` run from a thread inside ns (children inherit the thread's netns).
inline std::string ShellIn(const Netns& ns, const std::string& cmd, int* exit_code = nullptr) {
  std::string out;
  int rc = -1;
  Status st = ns.Run([&]() -> Status {
    FILE* p = popen((cmd + " 2>&1").c_str(), "r");
    if (p == nullptr) return IoError("popen", errno);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    rc = pclose(p);
    return Status::Ok();
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
  if (exit_code) *exit_code = rc;
  return out;
}

// A UDP socket created inside ns and bound to addr:port (0 = any port); the socket stays in
// ns after the creating thread is gone. Returns the fd, or -1 (with a test failure).
inline int UdpSocketIn(const Netns& ns, const IpAddress& addr, uint16_t port = 0) {
  int fd = -1;
  Status st = ns.Run([&]() -> Status {
    fd = socket(addr.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return IoError("socket", errno);
    sockaddr_storage ss;
    socklen_t len = SocketAddress(addr, port).ToSockaddr(&ss);
    if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) return IoError("bind", errno);
    return Status::Ok();
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
  return st.ok() ? fd : -1;
}

inline uint16_t LocalPort(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  auto sa = SocketAddress::FromSockaddr(ss);
  return sa.ok() ? sa->port() : 0;
}

// Sends `payload` from `from` to `to` until `to` receives it (the first packets may wait on
// ARP/ND), `attempts` times 100 ms at most. True when the exact payload arrived.
inline bool UdpReaches(int from, int to, const SocketAddress& dest, const std::string& payload,
                       SocketAddress* seen_source = nullptr, int attempts = 30) {
  sockaddr_storage ss;
  socklen_t len = dest.ToSockaddr(&ss);
  for (int attempt = 0; attempt < attempts; ++attempt) {
    if (sendto(from, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&ss), len) < 0)
      return false;
    pollfd pfd{to, POLLIN, 0};
    if (poll(&pfd, 1, 100) == 1) {
      char buf[256];
      sockaddr_storage src{};
      socklen_t slen = sizeof src;
      ssize_t n = recvfrom(to, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&src), &slen);
      if (n == ssize_t(payload.size()) && std::string(buf, size_t(n)) == payload) {
        if (seen_source) {
          auto s = SocketAddress::FromSockaddr(src);
          if (s.ok()) *seen_source = *s;
        }
        return true;
      }
    }
  }
  return false;
}

// Closes an fd at scope exit.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
  operator int() const { return fd; }
};

}  // namespace berth::net::testing
