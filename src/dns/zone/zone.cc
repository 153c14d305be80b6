#include "dns/zone/zone.h"

#include <algorithm>
#include <unordered_set>

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

// One record's place in Build's sort: its owner's canonical key relative to the origin (the
// labels left of it, Name::AppendCanonicalSortKey), the first
// 8 key bytes big-endian for cheap comparisons, its type, and its input position.
struct SortItem {
  uint64_t prefix;
  uint32_t key_offset;
  uint16_t key_size;
  uint16_t type;
  uint32_t index;
};

uint64_t KeyPrefix(std::string_view key) {
  uint64_t p = 0;
  for (size_t i = 0; i < 8; ++i) p = p << 8 | (i < key.size() ? static_cast<uint8_t>(key[i]) : 0);
  return p;
}

// A key's labels end in 0x00 0x00; a 0x00 inside a label is 0x00 0x01.
size_t KeyLabelEnd(std::string_view key, size_t at) {
  while (!(key[at] == 0 && key[at + 1] == 0)) at += key[at] == 0 ? 2 : 1;
  return at + 2;
}

// The key of the ancestor with the first `labels` labels of `key` (counted from the origin).
std::string_view KeyOfFirstLabels(std::string_view key, size_t labels) {
  size_t at = 0;
  while (labels-- > 0) at = KeyLabelEnd(key, at);
  return key.substr(0, at);
}

// The wire name without its first `drop` labels.
std::string_view WireSuffix(std::string_view wire, size_t drop) {
  size_t i = 0;
  while (drop-- > 0) i += static_cast<uint8_t>(wire[i]) + 1;
  return wire.substr(i);
}

// A node of the zone being built: a run of sorted items with one owner, or an empty
// non-terminal (no items), spelled as `spelling` with its first `drop_labels` labels dropped.
struct PlannedNode {
  uint32_t item_begin;
  uint32_t item_end;
  std::string_view spelling;
  uint8_t drop_labels;
};

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
  // Sorting records by (owner's canonical key, type, input position) puts each node's records
  // together in canonical node order, each RRset together in input order: one sort of small
  // items instead of a map of names, and the nodes come out in the snapshot's layout.
  if (records.size() >= UINT32_MAX) return InvalidArgument("zone " + origin.ToText() + " has too many records");
  const size_t origin_labels = origin.LabelCount();
  std::string keys;
  keys.reserve(records.size() * 12);
  std::vector<SortItem> items;
  items.reserve(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const Record& r = records[i];
    if (Status s = zone_rules::CheckRecord(r, origin); !s.ok()) return s;
    const size_t offset = keys.size();
    if (offset > UINT32_MAX - 1024) return InvalidArgument("zone " + origin.ToText() + " is too large to build");
    const size_t size = r.name.AppendCanonicalSortKey(r.name.LabelCount() - origin_labels, keys);
    items.push_back(SortItem{0, static_cast<uint32_t>(offset), static_cast<uint16_t>(size), r.type, static_cast<uint32_t>(i)});
  }
  auto key_of = [&keys](const SortItem& it) { return std::string_view(keys).substr(it.key_offset, it.key_size); };
  for (auto& it : items) it.prefix = KeyPrefix(key_of(it));
  std::sort(items.begin(), items.end(), [&](const SortItem& a, const SortItem& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    if (int c = key_of(a).compare(key_of(b)); c != 0) return c < 0;
    if (a.type != b.type) return a.type < b.type;
    return a.index < b.index;
  });

  // Duplicate RRs collapse into one (RFC 2181 §5): marked here, skipped below. The RRset keeps
  // its first record's TTL, a node the spelling of its first record.
  std::vector<bool> duplicate(items.size(), false);
  std::vector<PlannedNode> nodes;
  // The planned nodes above the current one: key, and labels left of the origin.
  std::vector<std::pair<std::string_view, size_t>> ancestors;
  std::vector<zone_rules::SetSize> sizes;
  std::unordered_set<std::string_view> seen;
  size_t rrset_total = 0, name_bytes = 0, rdata_bytes = 0, record_total = 0;
  const Record* soa = nullptr;
  for (size_t begin = 0; begin < items.size();) {
    const std::string_view key = key_of(items[begin]);
    size_t end = begin;
    uint32_t first_index = items[begin].index;
    while (end < items.size() && key_of(items[end]) == key) first_index = std::min(first_index, items[end++].index);
    const Name& owner = records[first_index].name;

    // Empty non-terminals: the ancestors between the nearest planned one and this node.
    while (!ancestors.empty() && !key.starts_with(ancestors.back().first)) ancestors.pop_back();
    const size_t relative_labels = owner.LabelCount() - origin_labels;
    const size_t known = ancestors.empty() ? 0 : ancestors.back().second;
    for (size_t labels = known + 1; labels < relative_labels; ++labels) {
      const uint8_t drop = static_cast<uint8_t>(relative_labels - labels);
      nodes.push_back(PlannedNode{static_cast<uint32_t>(begin), static_cast<uint32_t>(begin), owner.wire(), drop});
      name_bytes += WireSuffix(owner.wire(), drop).size();
      // The ancestor's key is a prefix of this node's key, ending after its labels.
      ancestors.emplace_back(KeyOfFirstLabels(key, labels), labels);
    }

    sizes.clear();
    for (size_t set_begin = begin; set_begin < end;) {
      size_t set_end = set_begin;
      while (set_end < end && items[set_end].type == items[set_begin].type) ++set_end;
      size_t kept = 0;
      const bool hashed = set_end - set_begin > 8;
      if (hashed) seen.clear();
      for (size_t k = set_begin; k < set_end; ++k) {
        const std::string& rd = records[items[k].index].rdata;
        bool dup = false;
        if (hashed) {
          dup = !seen.insert(rd).second;
        } else {
          for (size_t j = set_begin; j < k && !dup; ++j)
            dup = !duplicate[j] && records[items[j].index].rdata == rd;
        }
        duplicate[k] = dup;
        if (!dup) ++kept, rdata_bytes += 2 + rd.size();
      }
      sizes.push_back({items[set_begin].type, kept});
      record_total += kept;
      if (items[set_begin].type == type::kSOA && relative_labels == 0) soa = &records[items[set_begin].index];
      set_begin = set_end;
    }
    if (Status s = zone_rules::CheckNode(origin, owner, sizes); !s.ok()) return s;
    rrset_total += sizes.size();
    name_bytes += owner.wire_size();
    nodes.push_back(PlannedNode{static_cast<uint32_t>(begin), static_cast<uint32_t>(end), owner.wire(), 0});
    ancestors.emplace_back(key, relative_labels);
    begin = end;
  }
  // With an SOA, the apex exists and sorts first (its relative key is empty).
  if (!soa) return InvalidArgument("zone " + origin.ToText() + " has no SOA record at its apex");

  std::shared_ptr<Zone> zone(new Zone());
  zone->origin_ = origin;
  zone->nodes_.reserve(nodes.size());
  zone->rrsets_ = SharedArray<RRset>::WithCapacity(rrset_total);
  zone->names_ = SharedArray<char>::WithCapacity(name_bytes);
  zone->rdata_ = SharedArray<char>::WithCapacity(rdata_bytes);
  zone->record_count_ = record_total;
  for (const PlannedNode& planned : nodes) {
    const std::string_view name = WireSuffix(planned.spelling, planned.drop_labels);
    Node node{};
    node.name_offset = static_cast<uint32_t>(zone->names_.size());
    node.name_size = static_cast<uint8_t>(name.size());
    zone->names_.append(name);
    node.rrset_begin = static_cast<uint32_t>(zone->rrsets_.size());
    const bool apex = &planned == &nodes.front();
    for (size_t set_begin = planned.item_begin; set_begin < planned.item_end;) {
      const SortItem& first = items[set_begin];
      RRset set{first.type, 0, records[first.index].ttl, static_cast<uint32_t>(zone->rdata_.size())};
      size_t k = set_begin;
      for (; k < planned.item_end && items[k].type == first.type; ++k) {
        if (duplicate[k]) continue;
        const std::string& r = records[items[k].index].rdata;
        const char len[2] = {static_cast<char>(r.size() >> 8), static_cast<char>(r.size())};
        zone->rdata_.append(len);
        zone->rdata_.append(r);
        ++set.count;
      }
      zone->rrsets_.push_back(set);
      ++node.rrset_count;
      if (set.type == type::kNS && !apex) node.flags |= kDelegation;
      set_begin = k;
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
  zone->ReadSoa(soa->rdata, soa->ttl);
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
