// AddressWatcher: tells its owner, soon and coalesced, that some address or link of a network
// namespace changed (the DDNS updater then re-reads what it needs with Netlink::Addresses).
// Owns a netlink socket subscribed to RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR and RTNLGRP_IPV6_IFADDR,
// and one thread that calls on_change; the destructor stops that thread promptly.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include "core/status.h"
#include "net/kernel/netns.h"

namespace berth::net {

class AddressWatcher {
 public:
  // Watches the calling thread's namespace. on_change runs on the watcher's thread, at most
  // once per `debounce` (trailing edge: `debounce` after the first change of a burst). A
  // socket overflow (ENOBUFS) counts as a change; other socket errors are logged and retried
  // after a pause, never in a tight loop. kInvalidArgument (empty on_change), kIo.
  static Result<std::unique_ptr<AddressWatcher>> Start(
      std::function<void()> on_change,
      std::chrono::milliseconds debounce = std::chrono::milliseconds(100));
  // The same, watching `ns`; on_change still runs in the caller's namespace. Errors as Start.
  static Result<std::unique_ptr<AddressWatcher>> StartIn(
      const Netns& ns, std::function<void()> on_change,
      std::chrono::milliseconds debounce = std::chrono::milliseconds(100));

  AddressWatcher(const AddressWatcher&) = delete;
  AddressWatcher& operator=(const AddressWatcher&) = delete;
  // Wakes the thread through an eventfd and joins it (safe to call from on_change: the thread
  // is then detached and exits after on_change returns).
  ~AddressWatcher();

 private:
  struct State;
  explicit AddressWatcher(std::shared_ptr<State> state);
  // Takes ownership of sock (closed on error too).
  static Result<std::unique_ptr<AddressWatcher>> Make(int sock, std::function<void()> on_change,
                                                      std::chrono::milliseconds debounce);

  // Shared with the thread, so that a watcher destroyed from on_change stays valid until the
  // thread is done with it.
  std::shared_ptr<State> state_;
  std::thread thread_;
};

}  // namespace berth::net
