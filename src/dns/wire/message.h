// A whole DNS message as values: header, sections, EDNS. Used off the hot path (forwarding,
// dynamic updates, transfers, tests); the query fast path parses in place instead (see
// dns/query/query.h). Parse drops the whole message on any anomaly. Plain value type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "dns/wire/name.h"
#include "dns/wire/types.h"

namespace berth::dns {

struct Question {
  Name name;
  uint16_t type = 0;
  uint16_t cls = cls::kIN;
};

struct Record {
  Name name;
  uint16_t type = 0;
  uint16_t cls = cls::kIN;
  uint32_t ttl = 0;
  std::string rdata;  // canonical uncompressed form (see rdata.h)

  bool operator==(const Record& o) const {
    return name == o.name && type == o.type && cls == o.cls && ttl == o.ttl && rdata == o.rdata;
  }
};

struct Edns {
  uint16_t udp_size = kDefaultEdnsSize;
  uint8_t extended_rcode = 0;  // upper 8 bits of the 12-bit rcode
  uint8_t version = 0;
  bool dnssec_ok = false;
  std::string options;  // raw option TLVs
};

struct Message {
  uint16_t id = 0;
  uint16_t flags = 0;  // QR, opcode, AA, TC, RD, RA, AD, CD and the low 4 rcode bits
  std::vector<Question> questions;
  std::vector<Record> answers;
  std::vector<Record> authority;
  std::vector<Record> additional;  // without the OPT record, which is `edns`
  std::optional<Edns> edns;

  uint8_t opcode() const { return (flags >> 11) & 0xF; }
  void set_opcode(uint8_t op) { flags = static_cast<uint16_t>((flags & ~0x7800) | (op & 0xF) << 11); }
  // The full 12-bit rcode (header bits plus the EDNS extension).
  uint16_t rcode() const {
    return static_cast<uint16_t>((flags & 0xF) | (edns ? edns->extended_rcode << 4 : 0));
  }
  void set_rcode(uint16_t rc);
  bool has(uint16_t f) const { return flags & f; }

  // Parses a message; kInvalidArgument on anything malformed (short, bad names, bad RDATA,
  // more than one OPT, trailing bytes).
  static Result<Message> Parse(const uint8_t* data, size_t size);
  // Encodes with name compression. When the message exceeds `max_size`, whole records are
  // dropped from the end and TC is set (sections are cut where they overflow).
  std::string Build(size_t max_size = 65535) const;
};

}  // namespace berth::dns
