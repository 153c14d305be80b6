// TableWatcher: notices when berth's nftables table is removed or damaged by someone else
// (`nft flush ruleset`, `nft delete table inet berth`, `nft flush table ...`) so the engine
// can Replace() it. One NETLINK_NETFILTER socket subscribed to NFNLGRP_NFTABLES in the
// calling thread's namespace, read by one thread; the callback runs on that thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "core/status.h"

struct mnl_socket;

namespace berth::net {

class TableWatcher {
 public:
  // `family_table` is "inet berth" (families: ip, ip6, inet, arp, bridge, netdev).
  // on_removed fires (within ~100 ms) after a committed transaction that deleted the table,
  // or one of its chains, rules or sets, and did not create the table again; our own
  // Firewall::Replace (delete + recreate in one batch) therefore does not fire it, while
  // Firewall::DeleteTable does. After lost notifications (ENOBUFS) it asks the kernel
  // whether the table exists and fires when it does not.
  // kInvalidArgument (family_table), kIo (socket, thread).
  static Result<std::unique_ptr<TableWatcher>> Start(std::string family_table,
                                                     std::function<void()> on_removed);
  // Stops and joins the thread promptly (eventfd wake-up).
  ~TableWatcher();
  TableWatcher(const TableWatcher&) = delete;
  TableWatcher& operator=(const TableWatcher&) = delete;

  // Notifications that fired on_removed so far (for tests and metrics).
  uint64_t fired() const { return fired_.load(); }

 private:
  TableWatcher() = default;
  void Loop();
  // Handles one received datagram of notifications.
  void Handle(const char* buf, size_t len);
  bool TableExists();
  void Fire();

  uint8_t family_ = 0;
  std::string table_;
  std::function<void()> on_removed_;
  mnl_socket* events_ = nullptr;  // NFNLGRP_NFTABLES subscriber
  mnl_socket* query_ = nullptr;   // GETTABLE requests after ENOBUFS
  uint32_t query_seq_ = 0;
  int stop_fd_ = -1;              // eventfd
  bool damaged_ = false;          // a deletion seen in the current generation
  std::atomic<uint64_t> fired_{0};
  std::thread thread_;
};

}  // namespace berth::net
