// Watchers of a network namespace's netlink events, each with its own socket and one thread that
// calls the owner back; the destructor stops that thread promptly.
// AddressWatcher tells, soon and coalesced, that some address or link changed (the DDNS updater
// then re-reads what it needs with Netlink::Addresses). LinkDeletionWatcher tells which links
// were deleted, by name, one call each (the network engine notices a container's veth dying
// with its namespace).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
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

class LinkDeletionWatcher {
 public:
  // Watches the calling thread's namespace. on_deleted(name) runs on the watcher's thread for
  // each device deleted (RTM_DELLINK of the device itself; a port leaving a bridge is not a
  // deletion). on_overflow runs when the socket overflowed and deletions may have been missed.
  // kInvalidArgument (empty callback), kIo.
  static Result<std::unique_ptr<LinkDeletionWatcher>> Start(std::function<void(const std::string&)> on_deleted,
                                                            std::function<void()> on_overflow);
  LinkDeletionWatcher(const LinkDeletionWatcher&) = delete;
  LinkDeletionWatcher& operator=(const LinkDeletionWatcher&) = delete;
  ~LinkDeletionWatcher();  // must not be called from a callback

 private:
  LinkDeletionWatcher(int sock, int stop_fd, std::function<void(const std::string&)> on_deleted,
                      std::function<void()> on_overflow);
  void Loop();

  int sock_ = -1;
  int stop_fd_ = -1;
  std::function<void(const std::string&)> on_deleted_;
  std::function<void()> on_overflow_;
  std::thread thread_;
};

}  // namespace berth::net
