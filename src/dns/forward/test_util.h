// Test-only builders of queries and upstream responses for the forward tests, on top of
// dns::Message so the wire form comes from the shared codec. Plain functions: thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "dns/wire/message.h"
#include "dns/wire/name.h"

namespace berth::dns::forward_test {

inline Name N(std::string_view text) { return *Name::FromText(text); }

inline std::string A(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return std::string{static_cast<char>(a), static_cast<char>(b), static_cast<char>(c),
                     static_cast<char>(d)};
}

inline void PutU32(std::string& s, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>(v >> shift));
}

inline Record Rr(std::string_view name, uint16_t type, uint32_t ttl, std::string rdata) {
  return Record{N(name), type, cls::kIN, ttl, std::move(rdata)};
}

// An SOA record whose MINIMUM field is `minimum`.
inline Record Soa(std::string_view zone, uint32_t ttl, uint32_t minimum) {
  std::string rdata(N("ns.example.").wire());
  rdata += N("hostmaster.example.").wire();
  for (uint32_t v : {1u, 3600u, 600u, 86400u}) PutU32(rdata, v);
  PutU32(rdata, minimum);
  return Rr(zone, type::kSOA, ttl, std::move(rdata));
}

// A client query for `name` (its case is kept), with EDNS when `edns`.
inline Message QueryMsg(uint16_t id, std::string_view name, uint16_t qtype, bool edns = false,
                        bool dnssec_ok = false) {
  Message m;
  m.id = id;
  m.flags = flag::kRD;
  m.questions.push_back({N(name), qtype, cls::kIN});
  if (edns) {
    m.edns.emplace();
    m.edns->dnssec_ok = dnssec_ok;
  }
  return m;
}

// The skeleton of an upstream answer to `query`: QR, RD, RA, same ID and question, an OPT
// record when the query had one.
inline Message ResponseTo(const Message& query, uint16_t rc = rcode::kNoError) {
  Message m;
  m.id = query.id;
  m.flags = flag::kQR | flag::kRD | flag::kRA;
  m.set_rcode(rc);
  m.questions = query.questions;
  if (query.edns) m.edns.emplace();
  return m;
}

inline const uint8_t* Bytes(const std::string& s) {
  return reinterpret_cast<const uint8_t*>(s.data());
}

}  // namespace berth::dns::forward_test
