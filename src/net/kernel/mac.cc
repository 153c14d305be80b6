#include "net/kernel/mac.h"

#include <cstdio>

#include "core/text.h"

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

Result<MacAddress> ParseMac(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument("MAC address '" + std::string(text.substr(0, 40)) + "' " + std::string(why));
  };
  if (text.size() != 17) return bad("must look like 02:42:0a:00:00:02");
  MacAddress mac{};
  for (size_t i = 0; i < 6; ++i) {
    int hi = HexDigitValue(text[i * 3]), lo = HexDigitValue(text[i * 3 + 1]);
    if (hi < 0 || lo < 0) return bad("must look like 02:42:0a:00:00:02");
    if (i < 5 && text[i * 3 + 2] != ':' && text[i * 3 + 2] != '-') return bad("must look like 02:42:0a:00:00:02");
    mac[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  if (mac[0] & 1) return bad("is a multicast address");
  if (mac == MacAddress{}) return bad("is all zeros");
  return mac;
}

}  // namespace berth::net
