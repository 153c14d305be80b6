// Record-building helpers shared by the zone tests and the zone benchmark (not part of the
// library). Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "dns/wire/message.h"
#include "dns/wire/name.h"
#include "dns/wire/types.h"

namespace berth::dns::test {

inline Name N(std::string_view text) { return *Name::FromText(text); }

// SOA RDATA: ns.example. admin.example. serial 3600 600 86400 minimum.
inline std::string Soa(uint32_t serial, uint32_t minimum = 60) {
  std::string r(N("ns.example.").wire());
  r += N("admin.example.").wire();
  for (uint32_t v : {serial, 3600u, 600u, 86400u, minimum})
    for (int s = 24; s >= 0; s -= 8) r.push_back(static_cast<char>(v >> s));
  return r;
}

inline Record R(std::string_view owner, uint16_t type, std::string rdata, uint32_t ttl = 300) {
  return Record{N(owner), type, cls::kIN, ttl, std::move(rdata)};
}

}  // namespace berth::dns::test
