// Test-only helpers for the HTTP tests: temp dirs and raw loopback sockets that send bytes
// a well-behaved client never would. Not thread-safe; one per test thread.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

namespace berth::http::testing {

// A fresh directory under TMPDIR, removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "berth-http-XXXXXX").string();
    path_ = mkdtemp(tmpl.data()) ? tmpl : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A TCP socket bound to 127.0.0.1 on a free port (listening when `listen_too`), so that no
// one else takes the port while the test uses it. Returns the fd (caller closes) or -1.
inline int BindLoopback(bool listen_too, uint16_t* port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || (listen_too && listen(fd, 4) != 0) ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  *port = ntohs(sa.sin_port);
  return fd;
}

// A blocking socket with a 5 s receive timeout, so a test that waits for bytes cannot hang.
class RawSocket {
 public:
  static RawSocket Tcp(uint16_t port) {
    RawSocket s(socket(AF_INET, SOCK_STREAM, 0));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(s.fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) s.Reset();
    return s;
  }
  static RawSocket Unix(const std::string& path) {
    RawSocket s(socket(AF_UNIX, SOCK_STREAM, 0));
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strncpy(sa.sun_path, path.c_str(), sizeof sa.sun_path - 1);
    if (connect(s.fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) s.Reset();
    return s;
  }
  RawSocket(RawSocket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  ~RawSocket() { Reset(); }

  bool ok() const { return fd_ >= 0; }
  bool Send(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  // Reads until the peer closes, an error, the timeout, or `stop_after` bytes.
  std::string ReadAll(size_t stop_after = 1 << 20) {
    std::string out;
    char buf[4096];
    while (out.size() < stop_after) {
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  // Reads until `needle` has been seen `count` times (or EOF/timeout).
  std::string ReadUntil(const std::string& needle, int count = 1) {
    std::string out;
    char buf[4096];
    while (Count(out, needle) < count) {
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  static int Count(const std::string& hay, const std::string& needle) {
    int n = 0;
    for (size_t pos = hay.find(needle); pos != std::string::npos; pos = hay.find(needle, pos + 1)) ++n;
    return n;
  }

 private:
  explicit RawSocket(int fd) : fd_(fd) {
    timeval tv{5, 0};
    if (fd_ >= 0) setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  void Reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  int fd_;
};

}  // namespace berth::http::testing
