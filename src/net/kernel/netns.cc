#include "net/kernel/netns.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>

#include <fmt/format.h>

namespace berth::net {
namespace {

Status ErrnoStatus(std::string_view what, int err) {
  if (err == ENOENT) return NotFound(fmt::format("{}: {}", what, std::strerror(err)));
  if (err == EEXIST) return AlreadyExists(fmt::format("{}: {}", what, std::strerror(err)));
  if (err == EPERM || err == EACCES)
    return PermissionDenied(fmt::format("{}: {}", what, std::strerror(err)));
  return IoError(what, err);
}

// iproute2's rule (no '/', not "." or "..") plus no whitespace or control characters, which
// would only ever be a mistake.
Status ValidateName(std::string_view name) {
  if (name.empty() || name.size() > 255)
    return InvalidArgument(fmt::format("netns name '{}': must be 1..255 characters", name));
  if (name == "." || name == "..")
    return InvalidArgument(fmt::format("netns name '{}': reserved", name));
  for (unsigned char c : name) {
    if (c == '/' || c <= ' ' || c == 0x7f)
      return InvalidArgument(
          fmt::format("netns name '{}': no '/', whitespace or control characters", name));
  }
  return Status::Ok();
}

std::string NamedPath(std::string_view name) {
  return fmt::format("{}/{}", Netns::kNamedDir, name);
}

// Makes /run/netns a shared mount point so that namespaces mounted later propagate to every
// mount namespace (containers' included), exactly as `ip netns add` does.
Status PrepareNamedDir() {
  static std::mutex mu;
  std::lock_guard lock(mu);
  if (mkdir(Netns::kNamedDir, 0755) != 0 && errno != EEXIST)
    return IoError("creating /run/netns", errno);
  bool bound = false;
  while (mount("", Netns::kNamedDir, "none", MS_SHARED | MS_REC, nullptr) != 0) {
    if (errno != EINVAL || bound) return IoError("making /run/netns a shared mount", errno);
    if (mount(Netns::kNamedDir, Netns::kNamedDir, "none", MS_BIND | MS_REC, nullptr) != 0)
      return IoError("bind-mounting /run/netns on itself", errno);
    bound = true;
  }
  return Status::Ok();
}

// Runs fn on a fresh thread (namespace changes die with it) and returns its Status.
Status OnThread(const std::function<Status()>& fn) {
  Status result;
  std::thread t([&] { result = fn(); });
  t.join();
  return result;
}

std::string SysctlPath(const std::string& key, Status* error) {
  if (key.empty() || key.front() == '/' || key.front() == '.' || key.size() > 512) {
    *error = InvalidArgument(fmt::format("sysctl key '{}': not a relative key", key));
    return {};
  }
  for (unsigned char c : key) {
    if (!(std::isalnum(c) || c == '_' || c == '-' || c == '.' || c == '/')) {
      *error = InvalidArgument(fmt::format("sysctl key '{}': bad character", key));
      return {};
    }
  }
  if (key.find("..") != std::string::npos || key.find("/.") != std::string::npos) {
    *error = InvalidArgument(fmt::format("sysctl key '{}': no '..' or hidden components", key));
    return {};
  }
  std::string path = "/proc/sys/" + key;
  if (key.find('/') == std::string::npos) {
    for (size_t i = 10; i < path.size(); ++i)
      if (path[i] == '.') path[i] = '/';
  }
  return path;
}

}  // namespace

Netns::Netns(Netns&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), dev_(other.dev_), inode_(other.inode_) {}

Netns& Netns::operator=(Netns&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    dev_ = other.dev_;
    inode_ = other.inode_;
  }
  return *this;
}

Netns::~Netns() {
  if (fd_ >= 0) close(fd_);
}

Result<Netns> Netns::FromFd(int fd, const std::string& path) {
  // NS_GET_NSTYPE only works on nsfs files (ENOTTY elsewhere) and names the kind.
  int type = ioctl(fd, NS_GET_NSTYPE);
  if (type < 0 || type != CLONE_NEWNET) {
    int err = errno;
    close(fd);
    if (type < 0 && err != ENOTTY && err != EINVAL) return IoError("inspecting " + path, err);
    return InvalidArgument(fmt::format("{}: not a network namespace", path));
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return IoError("stat " + path, err);
  }
  return Netns(fd, st.st_dev, st.st_ino);
}

Result<Netns> Netns::Current() { return Open("/proc/thread-self/ns/net"); }

Result<Netns> Netns::Open(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("opening netns " + path, errno);
  return FromFd(fd, path);
}

Result<Netns> Netns::OpenNamed(std::string_view name) {
  RETURN_IF_ERROR(ValidateName(name));
  return Open(NamedPath(name));
}

Result<Netns> Netns::CreateNamed(std::string_view name) {
  RETURN_IF_ERROR(ValidateName(name));
  RETURN_IF_ERROR(PrepareNamedDir());
  std::string path = NamedPath(name);
  int fd = open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus(fmt::format("creating netns {}", name), errno);
  close(fd);
  Status st = OnThread([&]() -> Status {
    if (unshare(CLONE_NEWNET) != 0) return IoError("unshare(CLONE_NEWNET)", errno);
    if (mount("/proc/thread-self/ns/net", path.c_str(), "none", MS_BIND, nullptr) != 0)
      return IoError("bind-mounting the new netns on " + path, errno);
    return Status::Ok();
  });
  if (!st.ok()) {
    unlink(path.c_str());
    return st.WithContext(fmt::format("creating netns {}", name));
  }
  auto ns = Open(path);
  if (!ns.ok()) {
    umount2(path.c_str(), MNT_DETACH);
    unlink(path.c_str());
  }
  return ns;
}

Status Netns::DeleteNamed(std::string_view name) {
  RETURN_IF_ERROR(ValidateName(name));
  std::string path = NamedPath(name);
  // EINVAL: not a mount point (a half-created entry); still remove the file.
  if (umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL)
    return ErrnoStatus(fmt::format("unmounting netns {}", name), errno);
  if (unlink(path.c_str()) != 0) return ErrnoStatus(fmt::format("deleting netns {}", name), errno);
  return Status::Ok();
}

Result<Netns> Netns::Create() {
  int fd = -1;
  Status st = OnThread([&]() -> Status {
    if (unshare(CLONE_NEWNET) != 0) return IoError("unshare(CLONE_NEWNET)", errno);
    fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return IoError("opening the new netns", errno);
    return Status::Ok();
  });
  if (!st.ok()) return st.WithContext("creating netns");
  return FromFd(fd, "new netns");
}

Status Netns::Run(const std::function<Status()>& fn) const {
  if (fd_ < 0) return FailedPrecondition("running in netns: empty handle");
  return OnThread([&]() -> Status {
    if (setns(fd_, CLONE_NEWNET) != 0) return IoError("entering netns", errno);
    return fn();
  });
}

Status WriteSysctl(const std::string& key, const std::string& value) {
  Status error;
  std::string path = SysctlPath(key, &error);
  if (!error.ok()) return error;
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("opening sysctl " + key, errno);
  ssize_t n = write(fd, value.data(), value.size());
  int err = errno;
  close(fd);
  if (n < 0) {
    if (err == EINVAL)
      return InvalidArgument(
          fmt::format("writing sysctl {}={}: {}", key, value, std::strerror(err)));
    return IoError(fmt::format("writing sysctl {}={}", key, value), err);
  }
  if (size_t(n) != value.size()) return IoError("short write to sysctl " + key, EIO);
  return Status::Ok();
}

Result<std::string> ReadSysctl(const std::string& key) {
  Status error;
  std::string path = SysctlPath(key, &error);
  if (!error.ok()) return error;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("opening sysctl " + key, errno);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      return IoError("reading sysctl " + key, err);
    }
    if (n == 0) break;
    out.append(buf, size_t(n));
  }
  close(fd);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace berth::net
