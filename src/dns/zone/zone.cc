#include "dns/zone/zone.h"

#include <algorithm>
#include <unordered_map>

#include "dns/wire/rdata.h"
#include "dns/zone/zone_rules.h"

namespace berth::dns {
namespace zone_rules {

Status CheckRecord(const Record& r, const Name& origin) {
  // Texts only when there is an error to report: this runs per record.
  auto owner = [&r] { return r.name.ToText(); };
  if (!r.name.IsSubdomainOf(origin))
    return InvalidArgument("record " + owner() + " " + TypeToText(r.type) + " is outside zone " + origin.ToText());
  if (r.cls != cls::kIN)
    return InvalidArgument("record " + owner() + " has class " + ClassToText(r.cls) + ", only IN is served");
  if (IsMetaType(r.type)) return InvalidArgument("record " + owner() + " has meta type " + TypeToText(r.type));
  if (Status s = ValidateRdata(r.type, r.rdata); !s.ok()) return s.WithContext("record " + owner() + " " + TypeToText(r.type));
  return Status::Ok();
}

Status CheckNode(const Name& origin, const Name& name, std::span<const SetSize> sets) {
  const bool apex = name == origin;
  bool has_cname = false, has_other = false, has_soa = false;
  for (const auto& s : sets) {
    if (s.type == type::kSOA) {
      if (!apex) return InvalidArgument("SOA record at " + name.ToText() + ", away from the zone apex");
      if (s.records != 1) return InvalidArgument("zone " + origin.ToText() + " has more than one SOA record");
      has_soa = true;
    }
    if (s.type == type::kCNAME) {
      has_cname = true;
      if (s.records > 1) return InvalidArgument("more than one CNAME at " + name.ToText());
    } else if (s.type != type::kRRSIG && s.type != type::kNSEC) {
      has_other = true;
    }
    if (s.records > 65535) return InvalidArgument("RRset too large at " + name.ToText());
  }
  if (apex && !has_soa) return InvalidArgument("zone " + origin.ToText() + " has no SOA record at its apex");
  if (has_cname && has_other) return InvalidArgument("CNAME and other data at " + name.ToText());
  if (has_cname && apex) return InvalidArgument("CNAME at the zone apex " + origin.ToText());
  return Status::Ok();
}

}  // namespace zone_rules

namespace {

struct PendingSet {
  uint16_t type;
  uint32_t ttl;
  std::vector<std::string> rdatas;
};

struct PendingNode {
  Name name;  // case of the first record seen
  std::vector<PendingSet> sets;
};

std::string LowerWire(const Name& n) { return std::string(n.Lowercased().wire()); }

}  // namespace

const Zone::Node* Zone::Find(std::string_view lower_wire, uint64_t hash) const {
  if (!slots_) return nullptr;
  uint32_t tag = static_cast<uint32_t>(hash >> 32);
  for (uint64_t i = hash & mask_;; i = (i + 1) & mask_) {
    uint32_t idx = slots_[i];
    if (idx == 0) return nullptr;
    if (slot_hash_[i] == tag) {
      const Node& n = nodes_[idx - 1];
      if (n.name_size == lower_wire.size() && WireNamesEqual(NodeName(n), lower_wire)) return &n;
    }
  }
}

const Zone::RRset* Zone::FindRRset(const Node& n, uint16_t type) const {
  const RRset* sets = RRsetsOf(n);
  for (uint16_t i = 0; i < n.rrset_count; ++i)
    if (sets[i].type == type) return &sets[i];
  return nullptr;
}

Result<std::shared_ptr<const Zone>> Zone::Build(const Name& origin, std::vector<Record> records) {
  std::unordered_map<std::string, PendingNode> pending;
  const std::string origin_text = origin.ToText();
  for (auto& r : records) {
    if (Status s = zone_rules::CheckRecord(r, origin); !s.ok()) return s;
    PendingNode& node = pending.try_emplace(LowerWire(r.name), PendingNode{r.name, {}}).first->second;
    auto it = std::find_if(node.sets.begin(), node.sets.end(), [&](const PendingSet& s) { return s.type == r.type; });
    if (it == node.sets.end()) {
      node.sets.push_back({r.type, r.ttl, {}});
      it = node.sets.end() - 1;
    }
    // Duplicate RRs collapse into one (RFC 2181 §5); the RRset keeps its first TTL.
    if (std::find(it->rdatas.begin(), it->rdatas.end(), r.rdata) == it->rdatas.end())
      it->rdatas.push_back(std::move(r.rdata));
  }

  auto apex_it = pending.find(LowerWire(origin));
  const PendingSet* soa = nullptr;
  if (apex_it != pending.end()) {
    for (const auto& s : apex_it->second.sets)
      if (s.type == type::kSOA) soa = &s;
  }
  if (!soa) return InvalidArgument("zone " + origin_text + " has no SOA record at its apex");
  if (soa->rdatas.size() != 1) return InvalidArgument("zone " + origin_text + " has more than one SOA record");
  // Copied now: the node's RRsets are reordered below.
  const std::string soa_rdata = soa->rdatas[0];
  const uint32_t soa_ttl = soa->ttl;

  // Semantic checks per node, and empty non-terminals for every missing ancestor.
  std::vector<Name> missing;
  std::vector<zone_rules::SetSize> sizes;
  for (auto& [key, node] : pending) {
    sizes.clear();
    for (const auto& s : node.sets) sizes.push_back({s.type, s.rdatas.size()});
    if (Status s = zone_rules::CheckNode(origin, node.name, sizes); !s.ok()) return s;
    for (Name p = node.name.Parent(); p.IsSubdomainOf(origin) && !(p == origin); p = p.Parent())
      missing.push_back(p);
  }
  for (auto& m : missing) pending.try_emplace(LowerWire(m), PendingNode{m, {}});

  // Canonical order via precomputed byte keys: memcmp instead of label walks in the sort.
  std::vector<std::pair<std::string, PendingNode*>> keyed;
  keyed.reserve(pending.size());
  for (auto& [key, node] : pending) keyed.emplace_back(node.name.CanonicalSortKey(), &node);
  std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<PendingNode*> order;
  order.reserve(keyed.size());
  for (auto& [key, node] : keyed) order.push_back(node);
  keyed = {};

  std::shared_ptr<Zone> zone(new Zone());
  zone->origin_ = origin;
  size_t rrset_total = 0, name_bytes = 0, rdata_bytes = 0;
  for (auto* n : order) {
    rrset_total += n->sets.size();
    name_bytes += n->name.wire_size();
    for (auto& s : n->sets)
      for (auto& r : s.rdatas) rdata_bytes += 2 + r.size();
  }
  zone->nodes_.reserve(order.size());
  zone->rrsets_ = SharedArray<RRset>::WithCapacity(rrset_total);
  zone->names_ = SharedArray<char>::WithCapacity(name_bytes);
  zone->rdata_ = SharedArray<char>::WithCapacity(rdata_bytes);
  for (auto* n : order) {
    std::sort(n->sets.begin(), n->sets.end(), [](const PendingSet& a, const PendingSet& b) { return a.type < b.type; });
    Node node{};
    node.name_offset = static_cast<uint32_t>(zone->names_.size());
    node.name_size = static_cast<uint8_t>(n->name.wire_size());
    zone->names_.append(n->name.wire());
    node.rrset_begin = static_cast<uint32_t>(zone->rrsets_.size());
    node.rrset_count = static_cast<uint16_t>(n->sets.size());
    for (auto& s : n->sets) {
      RRset set{s.type, static_cast<uint16_t>(s.rdatas.size()), s.ttl, static_cast<uint32_t>(zone->rdata_.size())};
      for (auto& r : s.rdatas) {
        const char len[2] = {static_cast<char>(r.size() >> 8), static_cast<char>(r.size())};
        zone->rdata_.append(len);
        zone->rdata_.append(r);
      }
      zone->rrsets_.push_back(set);
      zone->record_count_ += s.rdatas.size();
      if (s.type == type::kNS && !(n->name == origin)) node.flags |= kDelegation;
    }
    zone->nodes_.push_back(node);
  }
  zone->apex_ = zone->nodes_.data();
  zone->IndexAllNodes();
  // Mark parents of wildcard names.
  for (auto& node : zone->nodes_) {
    std::string_view name = zone->NodeName(node);
    if (name.size() >= 2 && name[0] == 1 && name[1] == '*') {
      std::string parent(name.substr(2));
      for (auto& c : parent) c = static_cast<char>(LowerByte(static_cast<uint8_t>(c)));
      if (const Node* p = zone->Find(parent)) zone->nodes_[p - zone->nodes_.data()].flags |= kHasWildcardChild;
    }
  }
  zone->ReadSoa(soa_rdata, soa_ttl);
  return std::shared_ptr<const Zone>(std::move(zone));
}

size_t Zone::RdataBytes(const RRset& set) const {
  const char* p = rdata_.data() + set.rdata_offset;
  size_t n = 0;
  for (uint16_t i = 0; i < set.count; ++i)
    n += 2 + (static_cast<size_t>(static_cast<uint8_t>(p[n])) << 8 | static_cast<uint8_t>(p[n + 1]));
  return n;
}

void Zone::IndexAllNodes() {
  // Hash table at <= 50% load for short probe chains.
  size_t cap = 16;
  while (cap < nodes_.size() * 2) cap <<= 1;
  auto table = std::make_shared<Table>();
  table->slots.assign(cap, 0);
  table->hashes.assign(cap, 0);
  for (size_t i = 0; i < nodes_.size(); ++i) {
    uint64_t h = HashWireName(NodeName(nodes_[i]));
    uint64_t slot = h & (cap - 1);
    while (table->slots[slot]) slot = (slot + 1) & (cap - 1);
    table->slots[slot] = static_cast<uint32_t>(i + 1);
    table->hashes[slot] = static_cast<uint32_t>(h >> 32);
  }
  SetTable(std::move(table));
}

void Zone::SetTable(std::shared_ptr<const Table> table) {
  table_ = std::move(table);
  slots_ = table_->slots.data();
  slot_hash_ = table_->hashes.data();
  mask_ = table_->slots.size() - 1;
}

void Zone::ReadSoa(std::string_view soa_rdata, uint32_t soa_ttl) {
  // Serial at offset len(mname)+len(rname), minimum is the last u32.
  size_t n = soa_rdata.size();
  auto u32at = [&](size_t off) {
    return static_cast<uint32_t>(static_cast<uint8_t>(soa_rdata[off])) << 24 |
           static_cast<uint32_t>(static_cast<uint8_t>(soa_rdata[off + 1])) << 16 |
           static_cast<uint32_t>(static_cast<uint8_t>(soa_rdata[off + 2])) << 8 |
           static_cast<uint32_t>(static_cast<uint8_t>(soa_rdata[off + 3]));
  };
  serial_ = u32at(n - 20);
  negative_ttl_ = std::min(soa_ttl, u32at(n - 4));
}

std::shared_ptr<Zone> Zone::Compacted() const {
  std::shared_ptr<Zone> zone(new Zone());
  zone->origin_ = origin_;
  zone->serial_ = serial_;
  zone->negative_ttl_ = negative_ttl_;
  zone->record_count_ = record_count_;
  const size_t count = node_count();
  size_t rrset_total = 0, name_bytes = 0, rdata_bytes = 0;
  for (size_t i = 0; i < count; ++i) {
    const Node& n = nodes_[NodeAt(i)];
    rrset_total += n.rrset_count;
    name_bytes += n.name_size;
    for (uint16_t k = 0; k < n.rrset_count; ++k) rdata_bytes += RdataBytes(RRsetsOf(n)[k]);
  }
  zone->nodes_.reserve(count);
  zone->rrsets_ = SharedArray<RRset>::WithCapacity(rrset_total);
  zone->names_ = SharedArray<char>::WithCapacity(name_bytes);
  zone->rdata_ = SharedArray<char>::WithCapacity(rdata_bytes);
  // Canonical order, RRsets by type, rdata in RRset order: Build's layout.
  for (size_t i = 0; i < count; ++i) {
    const Node& old = nodes_[NodeAt(i)];
    Node node = old;
    node.name_offset = static_cast<uint32_t>(zone->names_.size());
    zone->names_.append(NodeName(old));
    node.rrset_begin = static_cast<uint32_t>(zone->rrsets_.size());
    for (uint16_t k = 0; k < node.rrset_count; ++k) {
      RRset set = RRsetsOf(old)[k];
      std::span<const char> items(rdata_.data() + set.rdata_offset, RdataBytes(set));
      set.rdata_offset = static_cast<uint32_t>(zone->rdata_.size());
      zone->rdata_.append(items);
      zone->rrsets_.push_back(set);
    }
    zone->nodes_.push_back(node);
  }
  zone->apex_ = zone->nodes_.data();  // the apex sorts first
  zone->IndexAllNodes();
  return zone;
}

std::vector<Record> Zone::Records() const {
  std::vector<Record> out;
  out.reserve(record_count_);
  // SOA first, then every node in canonical order.
  auto emit = [&](const Node& node, const RRset& set) {
    Name owner = *Name::FromWire(NodeName(node));
    ForEachRdata(set, [&](std::string_view rd) {
      out.push_back(Record{owner, set.type, cls::kIN, set.ttl, std::string(rd)});
    });
  };
  if (const RRset* soa = FindRRset(*apex_, type::kSOA)) emit(*apex_, *soa);
  for (size_t i = 0, n = node_count(); i < n; ++i) {
    const Node& node = nodes_[NodeAt(i)];
    const RRset* sets = RRsetsOf(node);
    for (uint16_t k = 0; k < node.rrset_count; ++k)
      if (!(&node == apex_ && sets[k].type == type::kSOA)) emit(node, sets[k]);
  }
  return out;
}

size_t Zone::MemoryBytes() const {
  return sizeof(Zone) + nodes_.capacity() * sizeof(Node) + rrsets_.capacity() * sizeof(RRset) +
         names_.capacity() + rdata_.capacity() + (order_ ? order_->capacity() * 4 : 0) +
         (table_->slots.capacity() + table_->hashes.capacity()) * 4;
}

}  // namespace berth::dns
