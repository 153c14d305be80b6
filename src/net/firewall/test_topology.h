// Test-only helpers: throwaway named network namespaces (`ip netns`, deleted by the
// destructor even when a test fails), shell commands for topology set-up, code run on a
// thread inside a namespace, and TCP/UDP echo servers and clients living in namespaces.
// Not for production code (it spawns `ip`/`nft`). Thread-compatible.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/net_address.h"
#include "core/status.h"
#include "net/firewall/ruleset.h"

namespace berth::net::testing {

// Runs `cmd` with /bin/sh; its stdout, or kIo with the exit status and output.
Result<std::string> Sh(const std::string& cmd);

// Named namespaces "fwt-<random>-<role>"; all deleted on destruction.
class Namespaces {
 public:
  Namespaces();
  ~Namespaces();
  // Creates (`ip netns add`) and returns the full name.
  Result<std::string> Add(const std::string& role);
  const std::string& prefix() const { return prefix_; }

 private:
  std::string prefix_;
  std::vector<std::string> names_;
};

// Runs fn on a new thread that has entered namespace `ns` (by name) and waits for it.
Status RunIn(const std::string& ns, const std::function<Status()>& fn);

// The peer address an echo server saw, as text ("10.99.0.1").
// Serves one reply per connection (TCP) or datagram (UDP): the client's address as seen.
class EchoServer {
 public:
  static Result<std::unique_ptr<EchoServer>> Start(const std::string& ns, Protocol proto,
                                                   const SocketAddress& bind);
  ~EchoServer();

 private:
  EchoServer() = default;
  void Loop();
  int fd_ = -1;
  Protocol proto_ = Protocol::kTcp;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Connects from namespace `ns` to dst and returns what the server answered (its view of our
// address); kDeadlineExceeded / kIo when the traffic does not get through in timeout_ms (the
// default outlasts one lost SYN: TCP retransmits after 1 s, and a fresh namespace's first IPv6
// packet is sometimes lost while neighbours resolve).
Result<std::string> Exchange(const std::string& ns, Protocol proto, const SocketAddress& dst,
                             int timeout_ms = 1500);

}  // namespace berth::net::testing
