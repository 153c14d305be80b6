// Zone: one authoritative zone as an immutable, compact snapshot built from records and
// validated on the way in. Lookups never lock and never allocate; a changed zone is a new
// snapshot (see zone_table.h for publishing). Immutable after Build: thread-safe to share.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "dns/wire/message.h"
#include "dns/wire/name.h"

namespace berth::dns {

class Zone {
 public:
  // One RRset inside the snapshot. RDATA items are stored back to back, each as
  // <u16 length><bytes>, in the zone's rdata arena.
  struct RRset {
    uint16_t type;
    uint16_t count;
    uint32_t ttl;
    uint32_t rdata_offset;
  };

  // A node: an owner name with its RRsets, or an empty non-terminal (no RRsets).
  struct Node {
    uint32_t name_offset;  // into the name arena: wire form, case as in the zone
    uint8_t name_size;
    uint8_t flags;
    uint16_t rrset_count;
    uint32_t rrset_begin;  // index into rrsets_
  };
  static constexpr uint8_t kDelegation = 1;  // NS at a non-apex node: a zone cut
  static constexpr uint8_t kHasWildcardChild = 2;  // "*.<this>" exists

  // Builds a snapshot. Errors (kInvalidArgument, naming the owner): records outside
  // `origin`, class other than IN, meta types, no SOA or several at the apex, SOA away from
  // the apex, CNAME beside other data or more than one CNAME, bad RDATA.
  static Result<std::shared_ptr<const Zone>> Build(const Name& origin, std::vector<Record> records);

  const Name& origin() const { return origin_; }
  uint32_t serial() const { return serial_; }
  // RFC 2308 negative TTL: min(SOA TTL, SOA MINIMUM).
  uint32_t negative_ttl() const { return negative_ttl_; }
  size_t record_count() const { return record_count_; }
  const Node* apex() const { return &nodes_[0]; }

  // Finds the node for a lower-cased wire name (exact match), or nullptr. No allocation.
  const Node* Find(std::string_view lower_wire, uint64_t hash) const;
  const Node* Find(std::string_view lower_wire) const { return Find(lower_wire, HashWireName(lower_wire)); }

  std::string_view NodeName(const Node& n) const {
    return std::string_view(names_.data() + n.name_offset, n.name_size);
  }
  // The node's RRset of `type`, or nullptr.
  const RRset* FindRRset(const Node& n, uint16_t type) const;
  const RRset* RRsetsOf(const Node& n) const { return rrsets_.data() + n.rrset_begin; }
  // Calls fn(std::string_view rdata) for each item of the RRset.
  template <typename Fn>
  void ForEachRdata(const RRset& set, Fn&& fn) const {
    const char* p = rdata_.data() + set.rdata_offset;
    for (uint16_t i = 0; i < set.count; ++i) {
      uint16_t len = static_cast<uint16_t>(static_cast<uint8_t>(p[0]) << 8 | static_cast<uint8_t>(p[1]));
      fn(std::string_view(p + 2, len));
      p += 2 + len;
    }
  }

  // All records back as values (export, API, transfers), SOA first, then canonical order.
  std::vector<Record> Records() const;
  // Bytes of memory held by the snapshot (for /metrics and the memory benchmark).
  size_t MemoryBytes() const;

 private:
  Zone() = default;

  Name origin_;
  uint32_t serial_ = 0;
  uint32_t negative_ttl_ = 0;
  size_t record_count_ = 0;
  std::vector<Node> nodes_;
  std::vector<RRset> rrsets_;
  std::string names_;
  std::string rdata_;
  // Open-addressing table of node indexes (+1; 0 = empty) keyed by lower-cased name.
  std::vector<uint32_t> slots_;
  std::vector<uint32_t> slot_hash_;  // upper 32 bits of each slot's hash, to skip compares
  uint64_t mask_ = 0;
};

}  // namespace berth::dns
