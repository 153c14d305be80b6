#include "net/firewall/test_topology.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <random>

#include <fmt/format.h>

namespace berth::net::testing {

Result<std::string> Sh(const std::string& cmd) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return IoError("popen", errno);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = pclose(p);
  if (rc != 0) return Status(Code::kIo, fmt::format("`{}` exited {}: {}", cmd, rc, out));
  return out;
}

Namespaces::Namespaces() {
  std::random_device rd;
  prefix_ = fmt::format("fwt-{:06x}", rd() & 0xffffff);
}

Namespaces::~Namespaces() {
  for (auto it = names_.rbegin(); it != names_.rend(); ++it) (void)Sh("ip netns del " + *it);
}

Result<std::string> Namespaces::Add(const std::string& role) {
  std::string name = prefix_ + "-" + role;
  ASSIGN_OR_RETURN(std::string ignored, Sh("ip netns add " + name));
  names_.push_back(name);
  RETURN_IF_ERROR(Sh("ip -n " + name + " link set lo up").status());
  return name;
}

Status RunIn(const std::string& ns, const std::function<Status()>& fn) {
  Status result;
  std::thread t([&] {
    int fd = open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      result = IoError("open netns " + ns, errno);
      return;
    }
    int rc = setns(fd, CLONE_NEWNET);
    int err = errno;
    close(fd);
    if (rc != 0) {
      result = IoError("setns " + ns, err);
      return;
    }
    result = fn();
  });
  t.join();
  return result;
}

namespace {

Result<int> SocketIn(const std::string& ns, int family, int type) {
  int fd = -1;
  RETURN_IF_ERROR(RunIn(ns, [&]() -> Status {
    fd = socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    return fd < 0 ? IoError("socket", errno) : Status::Ok();
  }));
  return fd;
}

bool WaitFd(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  return poll(&p, 1, timeout_ms) == 1;
}

std::string PeerText(const sockaddr_storage& ss) {
  auto a = SocketAddress::FromSockaddr(ss);
  return a.ok() ? a->ip().Unmapped().ToString() : "?";
}

}  // namespace

Result<std::unique_ptr<EchoServer>> EchoServer::Start(const std::string& ns, Protocol proto,
                                                      const SocketAddress& bind_to) {
  int family = bind_to.ip().is_v4() ? AF_INET : AF_INET6;
  ASSIGN_OR_RETURN(int fd, SocketIn(ns, family, proto == Protocol::kTcp ? SOCK_STREAM : SOCK_DGRAM));
  std::unique_ptr<EchoServer> s(new EchoServer());
  s->fd_ = fd;
  s->proto_ = proto;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  sockaddr_storage ss;
  socklen_t len = bind_to.ToSockaddr(&ss);
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0) {
    Status st = IoError("bind " + bind_to.ToString(), errno);
    close(fd);
    s->fd_ = -1;
    return st;
  }
  if (proto == Protocol::kTcp && listen(fd, 16) < 0) return IoError("listen", errno);
  s->thread_ = std::thread([p = s.get()] { p->Loop(); });
  return s;
}

EchoServer::~EchoServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) close(fd_);
}

void EchoServer::Loop() {
  while (!stop_) {
    if (!WaitFd(fd_, POLLIN, 50)) continue;
    sockaddr_storage peer{};
    socklen_t plen = sizeof peer;
    char buf[512];
    if (proto_ == Protocol::kUdp) {
      ssize_t n = recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&peer), &plen);
      if (n < 0) continue;
      std::string reply = PeerText(peer);
      (void)sendto(fd_, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&peer), plen);
      continue;
    }
    int c = accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &plen, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c < 0) continue;
    if (WaitFd(c, POLLIN, 500) && recv(c, buf, sizeof buf, 0) > 0) {
      std::string reply = PeerText(peer);
      (void)send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
    }
    close(c);
  }
}

Result<std::string> Exchange(const std::string& ns, Protocol proto, const SocketAddress& dst,
                             int timeout_ms) {
  int family = dst.ip().is_v4() ? AF_INET : AF_INET6;
  ASSIGN_OR_RETURN(int fd, SocketIn(ns, family, proto == Protocol::kTcp ? SOCK_STREAM : SOCK_DGRAM));
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  sockaddr_storage ss;
  socklen_t len = dst.ToSockaddr(&ss);
  std::string what = fmt::format("{} {} from {}", proto == Protocol::kTcp ? "tcp" : "udp",
                                 dst.ToString(), ns);
  if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0 && errno != EINPROGRESS) {
    return IoError("connect " + what, errno);
  }
  if (proto == Protocol::kTcp) {
    if (!WaitFd(fd, POLLOUT, timeout_ms)) return DeadlineExceeded("connect timed out: " + what);
    int err = 0;
    socklen_t elen = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
    if (err != 0) return IoError("connect " + what, err);
  }
  if (send(fd, "ping", 4, MSG_NOSIGNAL) < 0) return IoError("send " + what, errno);
  if (!WaitFd(fd, POLLIN, timeout_ms)) return DeadlineExceeded("no answer: " + what);
  char buf[256];
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  if (n < 0) return IoError("recv " + what, errno);
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace berth::net::testing
