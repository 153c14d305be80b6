// Handles to network namespaces (nsfs files), named namespaces under /run/netns managed the
// way `ip netns` does, running code inside a namespace, and /proc/sys access.
// A Netns is a move-only value owning one fd; distinct handles may be used from different
// threads. Nothing here changes the calling thread's namespace: work inside another one runs
// on a short-lived thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace berth::net {

class Netns {
 public:
  // Directory of named namespaces, as iproute2 uses it.
  static constexpr const char* kNamedDir = "/run/netns";

  // The calling thread's namespace (/proc/thread-self/ns/net). Errors: kIo.
  static Result<Netns> Current();
  // Any nsfs path ("/run/netns/NAME", "/proc/PID/ns/net"). kNotFound; kInvalidArgument when
  // the file is not a network namespace; kIo.
  static Result<Netns> Open(const std::string& path);
  // /run/netns/NAME. kInvalidArgument (bad name), kNotFound, kIo.
  static Result<Netns> OpenNamed(std::string_view name);
  // Like `ip netns add NAME`: a new namespace bind-mounted at /run/netns/NAME (which is made a
  // shared mount point first, as iproute2 does). kInvalidArgument, kAlreadyExists, kIo.
  static Result<Netns> CreateNamed(std::string_view name);
  // Like `ip netns del NAME`: detaches the mount and removes the file; the namespace lives on
  // while anything else holds it. kInvalidArgument, kNotFound, kIo.
  static Status DeleteNamed(std::string_view name);
  // A new unnamed namespace that lives as long as this handle or anything inside it (a
  // socket, a process). Tests use it: it vanishes with the process. kIo.
  static Result<Netns> Create();

  Netns(Netns&& other) noexcept;
  Netns& operator=(Netns&& other) noexcept;
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;
  ~Netns();

  int fd() const { return fd_; }
  // Identity: two handles to one namespace have the same (dev, inode).
  uint64_t inode() const { return inode_; }
  uint64_t dev() const { return dev_; }
  bool SameAs(const Netns& other) const { return inode_ == other.inode_ && dev_ == other.dev_; }

  // Runs fn on a short-lived thread that has setns()'d into this namespace (sysctl writes,
  // sockets and nftables contexts that must be created inside it) and returns its Status.
  // kIo when the thread cannot enter the namespace.
  Status Run(const std::function<Status()>& fn) const;

 private:
  Netns(int fd, uint64_t dev, uint64_t inode) : fd_(fd), dev_(dev), inode_(inode) {}
  static Result<Netns> FromFd(int fd, const std::string& path);

  int fd_ = -1;
  uint64_t dev_ = 0;
  uint64_t inode_ = 0;
};

// Writes /proc/sys/KEY in the CALLING thread's namespace. KEY is "net/ipv4/ip_forward" or
// the dotted "net.ipv4.ip_forward" (dots are separators only when KEY has no '/', so
// "net/ipv4/conf/eth0.50/forwarding" works). kInvalidArgument, kNotFound, kIo.
Status WriteSysctl(const std::string& key, const std::string& value);
// The value without its trailing newline. kInvalidArgument, kNotFound, kIo.
Result<std::string> ReadSysctl(const std::string& key);

}  // namespace berth::net
