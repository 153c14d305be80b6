// The real kernel behind the updater's interface sources: addresses from netlink
// (net/kernel/netlink.h) and change events from net::AddressWatcher, both in the calling
// thread's network namespace. Thread-safe: each call opens its own netlink socket.
#pragma once

#include "ddns/updater.h"

namespace berth::ddns {

// An UpdaterEnv whose interfaces and watch use the kernel (providers and randomness default).
UpdaterEnv KernelEnv();

}  // namespace berth::ddns
