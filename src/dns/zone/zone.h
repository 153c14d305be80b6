// Zone: one authoritative zone as an immutable, compact snapshot built from records and
// validated on the way in. Lookups never lock and never allocate; a changed zone is a new
// snapshot, built whole (Build) or from its predecessor plus the changed RRsets (Patch), see
// zone_table.h for publishing. Immutable once made: thread-safe to share and to Patch.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "dns/wire/message.h"
#include "dns/wire/name.h"
#include "dns/zone/shared_array.h"

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
  // Duplicate RDATA collapses; an RRset takes its first record's TTL, a node the spelling of
  // the first record seen there.
  static Result<std::shared_ptr<const Zone>> Build(const Name& origin, std::vector<Record> records);

  // One RRset's new state: `records` (each with this owner and type) replace the RRset;
  // empty removes it.
  struct RRsetChange {
    Name owner;
    uint16_t type = 0;
    std::vector<Record> records;
  };
  // The snapshot Build(prev.origin(), R) would make, R being prev.Records() with these RRsets
  // replaced (in Records() order, as ZoneContent::Records() gives them): same nodes, empty
  // non-terminals, flags, RRsets, serial and Records(). Hence a node is spelled as the first
  // record of its lowest-typed RRset (the SOA's at the apex); an empty non-terminal keeps its
  // spelling, a new one takes its creator's. A later change of the same RRset wins.
  // Errors (kInvalidArgument): Build's, for the changed RRsets and their nodes, with the same
  // messages; a record whose owner or type is not its change's.
  // Cost: O(changes), a memcpy of the node array (12 bytes a name), and of the hash table and
  // order index (~25 bytes a name) when names come or go; amortized, a linear compaction once
  // replaced data is a third of the arenas. Safe while `prev` is read or patched elsewhere;
  // patching other than the newest snapshot copies the arenas too.
  static Result<std::shared_ptr<const Zone>> Patch(const Zone& prev, std::span<const RRsetChange> changes);

  const Name& origin() const { return origin_; }
  uint32_t serial() const { return serial_; }
  // RFC 2308 negative TTL: min(SOA TTL, SOA MINIMUM).
  uint32_t negative_ttl() const { return negative_ttl_; }
  size_t record_count() const { return record_count_; }
  // Names with data plus empty non-terminals.
  size_t node_count() const { return order_ ? order_->size() : nodes_.size(); }
  const Node* apex() const { return apex_; }

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
  // Bytes of memory held by the snapshot (for /metrics and the memory benchmark); arenas
  // shared with patched snapshots count in full in each.
  size_t MemoryBytes() const;

 private:
  class Patcher;  // zone_patch.cc
  // Open-addressing table of node indexes (+1; 0 = empty) keyed by lower-cased name, and the
  // upper 32 bits of each slot's hash, to skip compares.
  struct Table {
    std::vector<uint32_t> slots;
    std::vector<uint32_t> hashes;
  };
  Zone() = default;

  // The node at canonical position i.
  uint32_t NodeAt(size_t i) const { return order_ ? (*order_)[i] : static_cast<uint32_t>(i); }
  // A new hash table sized for, and filled with, all of nodes_.
  void IndexAllNodes();
  void SetTable(std::shared_ptr<const Table> table);
  // Bytes of the RRset's items in the rdata arena.
  size_t RdataBytes(const RRset& set) const;
  // The SOA fields kept outside the arenas.
  void ReadSoa(std::string_view soa_rdata, uint32_t soa_ttl);
  // A copy without garbage, laid out as Build lays it out. Linear, no sort.
  std::shared_ptr<Zone> Compacted() const;

  Name origin_;
  uint32_t serial_ = 0;
  uint32_t negative_ttl_ = 0;
  size_t record_count_ = 0;
  const Node* apex_ = nullptr;
  // A patched snapshot rewrites its own copy of the nodes (a name keeps its index) and
  // appends new RRsets, names and RDATA to arenas shared with its predecessor; what is
  // replaced stays behind as garbage until compaction.
  std::vector<Node> nodes_;
  SharedArray<RRset> rrsets_;
  SharedArray<char> names_;
  SharedArray<char> rdata_;
  size_t garbage_ = 0;  // bytes of nodes_ and the arenas that no live node reaches
  // Live node indexes in canonical order; null: all of nodes_, in order (as Build makes it).
  // Shared by patched snapshots until names come or go, like the table.
  std::shared_ptr<const std::vector<uint32_t>> order_;
  // Shared like order_.
  std::shared_ptr<const Table> table_;
  const uint32_t* slots_ = nullptr;  // table_'s arrays, for the lookup path
  const uint32_t* slot_hash_ = nullptr;
  uint64_t mask_ = 0;
};

}  // namespace berth::dns
