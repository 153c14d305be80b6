// The transport protocols a published port can use; shared by the port model and the
// firewall. A plain enum: thread-safe.
#pragma once

#include <cstdint>

namespace berth::net {

enum class Protocol : uint8_t { kTcp, kUdp };

}  // namespace berth::net
