// Deterministic MAC addresses for container interfaces, derived from their IP address so a
// re-created endpoint keeps its MAC (and neighbours' ARP caches stay valid).
// Pure functions: thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "core/net_address.h"

namespace berth::net {

using MacAddress = std::array<uint8_t, 6>;

// IPv4: Docker's 02:42:<a>:<b>:<c>:<d>. IPv6: 06:<5 bytes of a 64-bit FNV-1a hash of the
// address>; the different first byte keeps the two spaces apart. Both are locally
// administered unicast addresses.
MacAddress MacForIp(const IpAddress& ip);

// "02:42:0a:00:00:02".
std::string MacToString(const MacAddress& mac);

}  // namespace berth::net
