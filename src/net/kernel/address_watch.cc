#include "net/kernel/address_watch.h"

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include <spdlog/spdlog.h>

namespace berth::net {
namespace {

using Clock = std::chrono::steady_clock;
// After an unexpected socket error the thread waits this long before reading again.
constexpr std::chrono::seconds kErrorPause(1);

Result<int> OpenSubscribedSocket(uint32_t groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
  if (fd < 0) return IoError("opening netlink socket", errno);
  // A larger buffer makes overflow (ENOBUFS) rare under bursts; capped by rmem_max.
  int rcvbuf = 1 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = groups;
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    int err = errno;
    close(fd);
    return IoError("subscribing to address changes", err);
  }
  return fd;
}

}  // namespace

struct AddressWatcher::State {
  int sock = -1;
  int stop_fd = -1;
  std::function<void()> on_change;
  std::chrono::milliseconds debounce;

  ~State() {
    if (sock >= 0) close(sock);
    if (stop_fd >= 0) close(stop_fd);
  }

  void Loop() {
    char buf[16384];
    std::optional<Clock::time_point> due;  // a change waits to be reported
    std::optional<Clock::time_point> paused_until;
    for (;;) {
      Clock::time_point now = Clock::now();
      if (paused_until && now >= *paused_until) paused_until.reset();
      std::optional<Clock::time_point> wake = due;
      if (paused_until && (!wake || *paused_until < *wake)) wake = paused_until;
      int timeout = -1;
      if (wake) {
        auto left = std::chrono::ceil<std::chrono::milliseconds>(*wake - now).count();
        timeout = left < 0 ? 0 : int(left);
      }
      pollfd fds[2] = {{paused_until ? -1 : sock, POLLIN, 0}, {stop_fd, POLLIN, 0}};
      int r = poll(fds, 2, timeout);
      if (r < 0 && errno != EINTR) {
        spdlog::error("address watcher: poll: {}", std::strerror(errno));
        return;
      }
      if (r > 0 && fds[1].revents != 0) return;
      bool changed = false;
      if (r > 0 && fds[0].revents != 0) {
        for (;;) {
          ssize_t n = recv(sock, buf, sizeof buf, MSG_DONTWAIT);
          if (n > 0) {
            changed = true;
            continue;
          }
          if (n < 0 && errno == EINTR) continue;
          if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
          if (n < 0 && errno == ENOBUFS) {  // events were lost: something changed
            changed = true;
            continue;
          }
          spdlog::warn("address watcher: netlink receive: {}",
                       n < 0 ? std::strerror(errno) : "socket closed");
          changed = true;
          paused_until = Clock::now() + kErrorPause;
          break;
        }
      }
      now = Clock::now();
      if (changed && !due) due = now + debounce;
      if (due && now >= *due) {
        due.reset();
        on_change();
      }
    }
  }
};

AddressWatcher::AddressWatcher(std::shared_ptr<State> state) : state_(std::move(state)) {
  thread_ = std::thread([s = state_] { s->Loop(); });
}

namespace {

Result<std::unique_ptr<AddressWatcher>> Fail(int sock, Status st) {
  close(sock);
  return st;
}

}  // namespace

Result<std::unique_ptr<AddressWatcher>> AddressWatcher::Make(int sock,
                                                             std::function<void()> on_change,
                                                             std::chrono::milliseconds debounce) {
  if (!on_change) return Fail(sock, InvalidArgument("address watcher: no callback"));
  int stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd < 0) return Fail(sock, IoError("address watcher: eventfd", errno));
  auto state = std::make_shared<State>();
  state->sock = sock;
  state->stop_fd = stop_fd;
  state->on_change = std::move(on_change);
  state->debounce = debounce.count() < 0 ? std::chrono::milliseconds(0) : debounce;
  return std::unique_ptr<AddressWatcher>(new AddressWatcher(std::move(state)));
}

Result<std::unique_ptr<AddressWatcher>> AddressWatcher::Start(std::function<void()> on_change,
                                                              std::chrono::milliseconds debounce) {
  ASSIGN_OR_RETURN(int sock, OpenSubscribedSocket());
  return Make(sock, std::move(on_change), debounce);
}

Result<std::unique_ptr<AddressWatcher>> AddressWatcher::StartIn(
    const Netns& ns, std::function<void()> on_change, std::chrono::milliseconds debounce) {
  // Only the socket is created inside ns: the watcher's thread (and so on_change) stays in
  // the caller's namespace.
  int sock = -1;
  Status st = ns.Run([&]() -> Status {
    ASSIGN_OR_RETURN(sock, OpenSubscribedSocket());
    return Status::Ok();
  });
  if (!st.ok()) return st.WithContext("starting address watcher in netns");
  return Make(sock, std::move(on_change), debounce);
}

AddressWatcher::~AddressWatcher() {
  uint64_t one = 1;
  if (write(state_->stop_fd, &one, sizeof one) < 0) {
    spdlog::error("address watcher: cannot signal stop: {}", std::strerror(errno));
  }
  if (thread_.get_id() == std::this_thread::get_id()) {
    thread_.detach();  // destroyed from on_change: the thread exits when it returns
  } else if (thread_.joinable()) {
    thread_.join();
  }
}

Result<std::unique_ptr<LinkDeletionWatcher>> LinkDeletionWatcher::Start(
    std::function<void(const std::string&)> on_deleted, std::function<void()> on_overflow) {
  if (!on_deleted || !on_overflow) return InvalidArgument("link watcher: no callback");
  ASSIGN_OR_RETURN(int sock, OpenSubscribedSocket(RTMGRP_LINK));
  int stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd < 0) {
    close(sock);
    return IoError("link watcher: eventfd", errno);
  }
  return std::unique_ptr<LinkDeletionWatcher>(
      new LinkDeletionWatcher(sock, stop_fd, std::move(on_deleted), std::move(on_overflow)));
}

LinkDeletionWatcher::LinkDeletionWatcher(int sock, int stop_fd, std::function<void(const std::string&)> on_deleted,
                                         std::function<void()> on_overflow)
    : sock_(sock), stop_fd_(stop_fd), on_deleted_(std::move(on_deleted)), on_overflow_(std::move(on_overflow)) {
  thread_ = std::thread([this] { Loop(); });
}

LinkDeletionWatcher::~LinkDeletionWatcher() {
  uint64_t one = 1;
  if (write(stop_fd_, &one, sizeof one) < 0) spdlog::error("link watcher: cannot signal stop: {}", std::strerror(errno));
  if (thread_.joinable()) thread_.join();
  close(sock_);
  close(stop_fd_);
}

void LinkDeletionWatcher::Loop() {
  alignas(nlmsghdr) char buf[32768];
  for (;;) {
    pollfd fds[2] = {{sock_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::error("link watcher: poll: {}", std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;
    for (;;) {
      ssize_t n = recv(sock_, buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n < 0 && errno == ENOBUFS) {
        on_overflow_();
        continue;
      }
      if (n <= 0) {
        spdlog::warn("link watcher: netlink receive: {}", n < 0 ? std::strerror(errno) : "socket closed");
        on_overflow_();
        std::this_thread::sleep_for(kErrorPause);
        break;
      }
      int len = static_cast<int>(n);
      for (auto* m = reinterpret_cast<nlmsghdr*>(buf); mnl_nlmsg_ok(m, len); m = mnl_nlmsg_next(m, &len)) {
        if (m->nlmsg_type != RTM_DELLINK || m->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg))) continue;
        auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_get_payload(m));
        if (ifi->ifi_family != AF_UNSPEC) continue;  // AF_BRIDGE: a port left its bridge
        const char* name = nullptr;
        mnl_attr_parse(m, sizeof(ifinfomsg), [](const nlattr* a, void* data) {
          if (mnl_attr_get_type(a) == IFLA_IFNAME && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0) {
            *static_cast<const char**>(data) = mnl_attr_get_str(a);
          }
          return MNL_CB_OK;
        }, &name);
        if (name != nullptr) on_deleted_(name);
      }
    }
  }
}

}  // namespace berth::net
