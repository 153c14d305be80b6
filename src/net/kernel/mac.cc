#include "net/kernel/mac.h"

#include <cstdio>

namespace berth::net {

MacAddress MacForIp(const IpAddress& ip) {
  const auto& b = ip.bytes();
  if (ip.is_v4()) return {0x02, 0x42, b[0], b[1], b[2], b[3]};
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64
  for (uint8_t byte : b) {
    h ^= byte;
    h *= 1099511628211ull;
  }
  return {0x06, uint8_t(h >> 32), uint8_t(h >> 24), uint8_t(h >> 16), uint8_t(h >> 8), uint8_t(h)};
}

std::string MacToString(const MacAddress& mac) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                mac[4], mac[5]);
  return buf;
}

}  // namespace berth::net
