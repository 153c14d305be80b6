#include "net/firewall/table_watcher.h"

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "net/firewall/element_batch.h"
#include "net/firewall/ruleset.h"

namespace berth::net {
namespace {

Result<uint8_t> ParseFamily(std::string_view f) {
  if (f == "ip") return uint8_t{NFPROTO_IPV4};
  if (f == "ip6") return uint8_t{NFPROTO_IPV6};
  if (f == "inet") return uint8_t{NFPROTO_INET};
  if (f == "arp") return uint8_t{NFPROTO_ARP};
  if (f == "bridge") return uint8_t{NFPROTO_BRIDGE};
  if (f == "netdev") return uint8_t{NFPROTO_NETDEV};
  return InvalidArgument(fmt::format("unknown nftables family '{}'", f));
}

// Attribute 1 is the table name in table, chain, rule and set messages alike
// (NFTA_TABLE_NAME, NFTA_CHAIN_TABLE, NFTA_RULE_TABLE, NFTA_SET_TABLE).
int TableAttr(const nlattr* attr, void* data) {
  if (mnl_attr_get_type(attr) == 1 && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0) {
    *static_cast<const char**>(data) = mnl_attr_get_str(attr);
  }
  return MNL_CB_OK;
}

void CloseSocket(mnl_socket*& s) {
  if (s) mnl_socket_close(s);
  s = nullptr;
}

}  // namespace

Result<std::unique_ptr<TableWatcher>> TableWatcher::Start(std::string family_table,
                                                          std::function<void()> on_removed) {
  size_t space = family_table.find(' ');
  if (space == std::string::npos) {
    return InvalidArgument(fmt::format("'{}' is not \"FAMILY TABLE\"", family_table));
  }
  ASSIGN_OR_RETURN(uint8_t family, ParseFamily(std::string_view(family_table).substr(0, space)));
  std::string table = family_table.substr(space + 1);
  RETURN_IF_ERROR(ValidateTableName(table));

  std::unique_ptr<TableWatcher> w(new TableWatcher());
  w->family_ = family;
  w->table_ = std::move(table);
  w->on_removed_ = std::move(on_removed);
  // Both sockets belong to the calling thread's namespace from here on.
  w->events_ = mnl_socket_open(NETLINK_NETFILTER);
  w->query_ = mnl_socket_open(NETLINK_NETFILTER);
  if (!w->events_ || !w->query_) return IoError("netlink socket", errno);
  if (mnl_socket_bind(w->events_, 0, MNL_SOCKET_AUTOPID) < 0 ||
      mnl_socket_bind(w->query_, 0, MNL_SOCKET_AUTOPID) < 0) {
    return IoError("netlink bind", errno);
  }
  int group = NFNLGRP_NFTABLES;
  if (setsockopt(mnl_socket_get_fd(w->events_), SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group,
                 sizeof group) < 0) {
    return IoError("joining NFNLGRP_NFTABLES", errno);
  }
  // Every element we add is also notified: a large buffer makes overruns (ENOBUFS) rare.
  int rcvbuf = 4 << 20;
  if (setsockopt(mnl_socket_get_fd(w->events_), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
                 sizeof rcvbuf) < 0) {
    (void)setsockopt(mnl_socket_get_fd(w->events_), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  }
  timeval tv{.tv_sec = 1, .tv_usec = 0};
  setsockopt(mnl_socket_get_fd(w->query_), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  w->stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (w->stop_fd_ < 0) return IoError("eventfd", errno);
  w->thread_ = std::thread([p = w.get()] { p->Loop(); });
  return w;
}

TableWatcher::~TableWatcher() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    (void)!write(stop_fd_, &one, sizeof one);
    thread_.join();
  }
  if (stop_fd_ >= 0) close(stop_fd_);
  CloseSocket(events_);
  CloseSocket(query_);
}

void TableWatcher::Fire() {
  damaged_ = false;
  fired_.fetch_add(1);
  if (on_removed_) on_removed_();
}

void TableWatcher::Handle(const char* buf, size_t len) {
  int remaining = static_cast<int>(len);
  for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buf); mnl_nlmsg_ok(nlh, remaining);
       nlh = mnl_nlmsg_next(nlh, &remaining)) {
    if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES) continue;
    int msg = NFNL_MSG_TYPE(nlh->nlmsg_type);
    if (msg == NFT_MSG_NEWGEN) {
      // End of one committed transaction's notifications.
      if (damaged_) Fire();
      continue;
    }
    bool del = msg == NFT_MSG_DELTABLE || msg == NFT_MSG_DELCHAIN || msg == NFT_MSG_DELRULE ||
               msg == NFT_MSG_DELSET;
    if (!del && msg != NFT_MSG_NEWTABLE) continue;
    if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(nfgenmsg))) continue;
    auto* gen = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh));
    if (gen->nfgen_family != family_) continue;
    const char* name = nullptr;
    mnl_attr_parse(nlh, sizeof(nfgenmsg), TableAttr, &name);
    if (name == nullptr || table_ != name) continue;
    // Replace() deletes and recreates in one batch: the NEWTABLE after the deletions
    // means the table is whole again when the generation ends.
    damaged_ = del;
  }
}

bool TableWatcher::TableExists() {
  // Unknown counts as gone: the engine then reconciles, which is always safe.
  auto exists = QueryTableExists(query_, family_, table_, ++query_seq_);
  return exists.ok() && *exists;
}

void TableWatcher::Loop() {
  std::vector<char> buf(1 << 16);
  int fd = mnl_socket_get_fd(events_);
  for (;;) {
    pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {fd, POLLIN, 0}};
    // A deletion without its NEWGEN within 50 ms still fires.
    int rc = poll(fds, 2, damaged_ ? 50 : -1);
    if (rc < 0) {
      if (errno == EINTR) continue;
      spdlog::error("nftables table watcher: poll: {}", strerror(errno));
      return;
    }
    if (fds[0].revents) return;
    if (rc == 0) {
      if (damaged_) Fire();
      continue;
    }
    for (;;) {
      ssize_t n = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
      if (n > 0) {
        Handle(buf.data(), static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == ENOBUFS) {
        // Notifications were lost: ask the kernel instead.
        spdlog::warn("nftables table watcher: notifications overran, checking table {}", table_);
        if (!TableExists()) Fire();
        continue;
      }
      break;  // EAGAIN
    }
  }
}

}  // namespace berth::net
