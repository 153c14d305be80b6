// Deterministic MAC addresses for container interfaces, derived from their IP address so a
// re-created endpoint keeps its MAC (and neighbours' ARP caches stay valid).
// Pure functions: thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/net_address.h"
#include "core/status.h"

namespace berth::net {

using MacAddress = std::array<uint8_t, 6>;

// IPv4: Docker's 02:42:<a>:<b>:<c>:<d>. IPv6: 06:<5 bytes of a 64-bit FNV-1a hash of the
// address>; the different first byte keeps the two spaces apart. Both are locally
// administered unicast addresses.
MacAddress MacForIp(const IpAddress& ip);

// "02:42:0a:00:00:02".
std::string MacToString(const MacAddress& mac);

// Parses "02:42:0a:00:00:02" (or with '-'), for an interface: a unicast address that is not all
// zeros. kInvalidArgument.
Result<MacAddress> ParseMac(std::string_view text);

}  // namespace berth::net
