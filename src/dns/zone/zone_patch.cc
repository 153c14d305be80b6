// Zone::Patch: a new snapshot from the previous one plus changed RRsets. The node array is
// copied and changed nodes rewritten in place; their new RRsets, names and RDATA are appended
// to the arenas shared with prev (what they replace becomes garbage). The hash table and the
// canonical order are shared unless names come or go, then copied and edited. A linear
// compaction runs once garbage reaches a third of the arenas or the hash table half fills.
#include <algorithm>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

#include "dns/zone/zone.h"
#include "dns/zone/zone_rules.h"

namespace berth::dns {
namespace {

std::string LowerKey(const Name& n) { return std::string(n.Lowercased().wire()); }

// RFC 4034 §6.1 order on wire names, as Name::CanonicalCompare (and Build's sort) has it.
int CompareCanonical(std::string_view a, std::string_view b) {
  uint8_t la[128], lb[128];
  size_t ia = 0, ib = 0;
  for (size_t i = 0; a[i] != 0; i += static_cast<uint8_t>(a[i]) + 1) la[ia++] = static_cast<uint8_t>(i);
  for (size_t i = 0; b[i] != 0; i += static_cast<uint8_t>(b[i]) + 1) lb[ib++] = static_cast<uint8_t>(i);
  while (ia > 0 && ib > 0) {
    size_t at = la[--ia], bt = lb[--ib];
    std::string_view x = a.substr(at + 1, static_cast<uint8_t>(a[at]));
    std::string_view y = b.substr(bt + 1, static_cast<uint8_t>(b[bt]));
    for (size_t k = 0; k < std::min(x.size(), y.size()); ++k) {
      uint8_t cx = LowerByte(static_cast<uint8_t>(x[k])), cy = LowerByte(static_cast<uint8_t>(y[k]));
      if (cx != cy) return cx < cy ? -1 : 1;
    }
    if (x.size() != y.size()) return x.size() < y.size() ? -1 : 1;
  }
  return ia == ib ? 0 : (ia < ib ? -1 : 1);
}

// True when `name` is below `ancestor` (not equal), ignoring case.
bool IsBelow(std::string_view name, std::string_view ancestor) {
  if (name.size() <= ancestor.size()) return false;
  size_t start = name.size() - ancestor.size(), i = 0;
  while (i < start) i += static_cast<uint8_t>(name[i]) + 1;
  return i == start && WireNamesEqual(name.substr(start), ancestor);
}

}  // namespace

class Zone::Patcher {
 public:
  explicit Patcher(const Zone& prev) : prev_(prev), origin_key_(LowerKey(prev.origin_)) {}

  Result<std::shared_ptr<const Zone>> Run(std::span<const RRsetChange> changes) {
    if (Status s = Collect(changes); !s.ok()) return s;
    if (Status s = Merge(); !s.ok()) return s;
    AddEmptyNonTerminals();
    RemoveDeadNames();
    PlanWildcardFlags();
    PlanWrites();
    return Assemble();
  }

 private:
  // A changed RRset as Build would hold it: duplicates collapsed, the first record's TTL.
  struct NewSet {
    uint16_t type;
    uint32_t ttl;
    const Name* spelling;  // the first record's owner (nullptr when removed)
    std::vector<std::string_view> rdatas;  // empty: the RRset goes
  };
  // One RRset of a node after the patch: kept from prev or new.
  struct Set {
    uint16_t type;
    const RRset* old;
    const NewSet* now;
  };
  // A name with changed RRsets.
  struct Edit {
    Name owner;
    const Node* old = nullptr;
    std::vector<NewSet> changes;
    std::vector<Set> sets;  // after the patch, by type
  };
  // A node of the new snapshot that differs from prev's.
  struct Write {
    std::string_view key;   // lower-cased wire name
    std::string_view name;  // as spelled in the new node
    const Node* old;        // prev's node, or nullptr for a new name
    const Edit* edit;       // the RRsets come from here; nullptr: old's (or none)
    uint8_t flags;
  };

  uint32_t IndexOf(const Node* n) const { return static_cast<uint32_t>(n - prev_.nodes_.data()); }
  const Node* FindOld(std::string_view key) const { return prev_.Find(key); }
  bool IsApex(std::string_view key) const { return key == origin_key_; }

  Status Collect(std::span<const RRsetChange> changes) {
    for (const auto& c : changes) {
      if (c.records.empty() && !c.owner.IsSubdomainOf(prev_.origin_)) continue;  // nothing there
      NewSet set{c.type, 0, nullptr, {}};
      for (const auto& r : c.records) {
        if (!(r.name == c.owner) || r.type != c.type)
          return InvalidArgument("record " + r.name.ToText() + " " + TypeToText(r.type) + " is not part of RRset " +
                                 c.owner.ToText() + " " + TypeToText(c.type));
        if (Status s = zone_rules::CheckRecord(r, prev_.origin_); !s.ok()) return s;
        if (!set.spelling) {
          set.spelling = &r.name;
          set.ttl = r.ttl;
        }
        // Duplicate RRs collapse into one (RFC 2181 §5), as in Build.
        if (std::find(set.rdatas.begin(), set.rdatas.end(), r.rdata) == set.rdatas.end()) set.rdatas.push_back(r.rdata);
      }
      auto [it, fresh] = edits_.try_emplace(LowerKey(c.owner));
      Edit& e = it->second;
      if (fresh) {
        e.owner = c.owner;
        e.old = FindOld(it->first);
      }
      auto same = std::find_if(e.changes.begin(), e.changes.end(), [&](const NewSet& s) { return s.type == c.type; });
      if (same != e.changes.end()) *same = std::move(set);  // a later change of the RRset wins
      else e.changes.push_back(std::move(set));
    }
    return Status::Ok();
  }

  // Each edited node's RRsets after the patch, checked against Build's rules; record_count.
  Status Merge() {
    record_delta_ = 0;
    std::vector<zone_rules::SetSize> sizes;
    for (auto& [key, e] : edits_) {
      std::sort(e.changes.begin(), e.changes.end(), [](const NewSet& a, const NewSet& b) { return a.type < b.type; });
      const RRset* old_sets = e.old ? prev_.RRsetsOf(*e.old) : nullptr;
      size_t old_count = e.old ? e.old->rrset_count : 0, i = 0;
      for (const auto& c : e.changes) {
        for (; i < old_count && old_sets[i].type < c.type; ++i) e.sets.push_back({old_sets[i].type, &old_sets[i], nullptr});
        if (i < old_count && old_sets[i].type == c.type) {
          record_delta_ -= old_sets[i].count;
          garbage_ += prev_.RdataBytes(old_sets[i]);
          ++i;
        }
        if (!c.rdatas.empty()) e.sets.push_back({c.type, nullptr, &c});
        record_delta_ += static_cast<int64_t>(c.rdatas.size());
      }
      for (; i < old_count; ++i) e.sets.push_back({old_sets[i].type, &old_sets[i], nullptr});
    }
    for (auto& [key, e] : edits_) {
      sizes.clear();
      for (const auto& s : e.sets) sizes.push_back({s.type, s.old ? s.old->count : s.now->rdatas.size()});
      if (Status s = zone_rules::CheckNode(prev_.origin_, e.owner, sizes); !s.ok()) return s;
    }
    return Status::Ok();
  }

  // New names need their missing ancestors as empty non-terminals, up to the nearest name
  // prev has. Also notes the ancestors of names that now hold data but did not before, which
  // a scan of prev's order cannot see.
  void AddEmptyNonTerminals() {
    for (auto& [key, e] : edits_) {
      if (e.sets.empty() || (e.old && e.old->rrset_count > 0)) continue;
      bool create = !e.old;
      for (Name p = e.owner.Parent(); !(p == prev_.origin_); p = p.Parent()) {
        std::string pk = LowerKey(p);
        if (create) {
          auto edit = edits_.find(pk);
          bool has_node = FindOld(pk) || (edit != edits_.end() && !edit->second.sets.empty());
          if (has_node || !ents_.try_emplace(pk, p).second) create = false;
        }
        if (!new_data_below_.insert(std::move(pk)).second && !create) break;
      }
    }
  }

  // A name whose last RRset went stays as an empty non-terminal while something below it
  // holds data; else it goes, and so may its ancestors that are empty non-terminals.
  void RemoveDeadNames() {
    std::vector<std::pair<std::string_view, const Edit*>> emptied;
    for (auto& [key, e] : edits_) {
      if (e.sets.empty() && e.old && e.old->rrset_count > 0) {
        emptied.emplace_back(key, &e);
        emptied_.insert(IndexOf(e.old));
      }
    }
    for (auto [key, e] : emptied) {
      Name name = e->owner;
      for (std::string k(key); !IsApex(k); name = name.Parent(), k = LowerKey(name)) {
        const Node* node = FindOld(k);
        auto edit = edits_.find(k);
        if (edit != edits_.end() ? !edit->second.sets.empty() : node->rrset_count > 0) break;  // holds data
        auto [it, fresh] = alive_.try_emplace(k, false);
        if (!fresh) break;  // decided already, and so were its ancestors
        it->second = new_data_below_.count(k) > 0 || OldDataBelow(*node);
        if (it->second) break;
        removed_.push_back(node);
      }
    }
  }

  // Whether a name of prev below `n` keeps its data: a scan of n's subtree in canonical
  // order, which passes only empty non-terminals and emptied names before an answer.
  bool OldDataBelow(const Node& n) const {
    std::string_view name = prev_.NodeName(n);
    for (size_t i = OrderPosition(n) + 1; i < prev_.node_count(); ++i) {
      uint32_t idx = prev_.NodeAt(i);
      const Node& below = prev_.nodes_.data()[idx];
      if (!IsBelow(prev_.NodeName(below), name)) return false;
      if (below.rrset_count > 0 && !emptied_.count(idx)) return true;
    }
    return false;
  }

  // First canonical position in prev at or after `name`.
  size_t LowerBound(std::string_view name) const {
    size_t lo = 0, hi = prev_.node_count();
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (CompareCanonical(prev_.NodeName(prev_.nodes_.data()[prev_.NodeAt(mid)]), name) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  size_t OrderPosition(const Node& n) const { return LowerBound(prev_.NodeName(n)); }

  // "*.P" appearing sets P's kHasWildcardChild, disappearing clears it.
  void PlanWildcardFlags() {
    auto parent_key = [](std::string_view key) { return std::string(key.substr(2)); };
    for (const auto& [key, e] : edits_)
      if (!e.old && !e.sets.empty() && e.owner.IsWildcard()) wildcard_[parent_key(key)] = true;
    for (const auto& [key, name] : ents_)
      if (name.IsWildcard()) wildcard_[parent_key(key)] = true;
    std::unordered_set<std::string> gone;
    for (const Node* n : removed_) gone.insert(LowerKey(*Name::FromWire(prev_.NodeName(*n))));
    for (const auto& key : gone) {
      if (key.size() < 2 || key[0] != 1 || key[1] != '*') continue;
      if (!gone.count(parent_key(key))) wildcard_[parent_key(key)] = false;
    }
  }

  uint8_t FlagsOf(std::string_view key, const Node* old, const Edit* edit) const {
    uint8_t flags = old ? old->flags : 0;
    if (edit) {
      flags &= static_cast<uint8_t>(~kDelegation);
      for (const auto& s : edit->sets)
        if (s.type == type::kNS && !IsApex(key)) flags |= kDelegation;
    }
    if (auto w = wildcard_.find(std::string(key)); w != wildcard_.end())
      flags = w->second ? (flags | kHasWildcardChild) : (flags & static_cast<uint8_t>(~kHasWildcardChild));
    return flags;
  }

  // Build names a node after its first record: that of the lowest-typed RRset, the SOA's at
  // the apex. Kept RRsets are spelled as the node already is.
  std::string_view SpellingOf(std::string_view key, const Edit& e) const {
    const Set* first = &e.sets.front();
    if (IsApex(key))
      first = &*std::find_if(e.sets.begin(), e.sets.end(), [](const Set& s) { return s.type == type::kSOA; });
    if (first->now) return first->now->spelling->wire();
    return prev_.NodeName(*e.old);
  }

  void PlanWrites() {
    std::unordered_set<const Node*> gone(removed_.begin(), removed_.end());
    std::unordered_set<std::string_view> written;
    for (const auto& [key, e] : edits_) {
      if (!e.sets.empty()) {
        writes_.push_back({key, SpellingOf(key, e), e.old, &e, FlagsOf(key, e.old, &e)});
      } else if (e.old && e.old->rrset_count > 0 && !gone.count(e.old)) {
        writes_.push_back({key, prev_.NodeName(*e.old), e.old, &e, FlagsOf(key, e.old, &e)});  // now empty
      } else {
        continue;
      }
      written.insert(key);
    }
    for (const auto& [key, name] : ents_) {
      writes_.push_back({key, name.wire(), nullptr, nullptr, FlagsOf(key, nullptr, nullptr)});
      written.insert(key);
    }
    for (const auto& [key, set] : wildcard_) {
      if (written.count(key)) continue;
      const Node* old = FindOld(key);
      writes_.push_back({key, prev_.NodeName(*old), old, nullptr, FlagsOf(key, old, nullptr)});
    }
  }

  Result<std::shared_ptr<const Zone>> Assemble() {
    std::shared_ptr<Zone> z(new Zone());
    z->origin_ = prev_.origin_;
    z->serial_ = prev_.serial_;
    z->negative_ttl_ = prev_.negative_ttl_;
    z->record_count_ = static_cast<size_t>(static_cast<int64_t>(prev_.record_count_) + record_delta_);
    z->nodes_.reserve(prev_.nodes_.size() + writes_.size());
    z->nodes_.assign(prev_.nodes_.begin(), prev_.nodes_.end());

    // What the arenas gain; offsets count from the end of prev's.
    std::vector<RRset> rrsets;
    std::string names, rdata;
    const size_t rrset_base = prev_.rrsets_.size(), name_base = prev_.names_.size(), rdata_base = prev_.rdata_.size();
    const NewSet* soa = nullptr;  // the apex SOA when it changed
    for (const Write& w : writes_) {
      Node node{};
      node.flags = w.flags;
      node.name_size = static_cast<uint8_t>(w.name.size());
      if (w.old && prev_.NodeName(*w.old) == w.name) {
        node.name_offset = w.old->name_offset;
      } else {
        node.name_offset = static_cast<uint32_t>(name_base + names.size());
        names.append(w.name);
        if (w.old) garbage_ += w.old->name_size;
      }
      if (w.edit) {
        node.rrset_begin = static_cast<uint32_t>(rrset_base + rrsets.size());
        node.rrset_count = static_cast<uint16_t>(w.edit->sets.size());
        for (const Set& s : w.edit->sets) {
          if (s.old) {
            rrsets.push_back(*s.old);
            continue;
          }
          if (s.type == type::kSOA) soa = s.now;
          rrsets.push_back({s.type, static_cast<uint16_t>(s.now->rdatas.size()), s.now->ttl,
                            static_cast<uint32_t>(rdata_base + rdata.size())});
          for (std::string_view r : s.now->rdatas) {
            rdata.push_back(static_cast<char>(r.size() >> 8));
            rdata.push_back(static_cast<char>(r.size()));
            rdata.append(r);
          }
        }
        if (w.old) garbage_ += w.old->rrset_count * sizeof(RRset);
      } else if (w.old) {
        node.rrset_begin = w.old->rrset_begin;
        node.rrset_count = w.old->rrset_count;
      }
      if (w.old) {
        z->nodes_[IndexOf(w.old)] = node;  // a name keeps its index: table and order hold
      } else {
        added_.push_back(static_cast<uint32_t>(z->nodes_.size()));
        z->nodes_.push_back(node);
      }
    }
    for (const Node* n : removed_) garbage_ += sizeof(Node) + n->name_size + n->rrset_count * sizeof(RRset);

    z->rrsets_ = prev_.rrsets_.Extended(rrsets);
    z->names_ = prev_.names_.Extended(std::span<const char>(names));
    z->rdata_ = prev_.rdata_.Extended(std::span<const char>(rdata));
    z->apex_ = &z->nodes_[IndexOf(prev_.apex_)];
    if (soa) z->ReadSoa(soa->rdatas.front(), soa->ttl);
    z->garbage_ = prev_.garbage_ + garbage_;
    const bool names_changed = !added_.empty() || !removed_.empty();
    if (names_changed) BuildOrder(*z);
    else z->order_ = prev_.order_;

    const size_t arena_bytes = z->nodes_.size() * sizeof(Node) + z->rrsets_.size() * sizeof(RRset) +
                               z->names_.size() + z->rdata_.size();
    if (z->node_count() * 2 > prev_.table_->slots.size() || z->garbage_ * 3 > arena_bytes)
      return std::shared_ptr<const Zone>(z->Compacted());
    if (names_changed) EditTable(*z);
    else z->SetTable(prev_.table_);
    return std::shared_ptr<const Zone>(std::move(z));
  }

  // prev's canonical order with removed names dropped and added ones inserted: runs of it
  // copied between the (few) edits.
  void BuildOrder(Zone& z) const {
    struct Op {
      size_t pos;
      uint32_t node;  // inserted before pos; 0 with `drop`
      bool drop;      // drops the node at pos
    };
    std::vector<Op> ops;
    for (uint32_t node : added_) ops.push_back({LowerBound(z.NodeName(z.nodes_[node])), node, false});
    for (const Node* n : removed_) ops.push_back({OrderPosition(*n), 0, true});
    std::sort(ops.begin(), ops.end(), [&](const Op& a, const Op& b) {
      if (a.pos != b.pos) return a.pos < b.pos;
      if (a.drop != b.drop) return b.drop;
      return !a.drop && CompareCanonical(z.NodeName(z.nodes_[a.node]), z.NodeName(z.nodes_[b.node])) < 0;
    });
    const size_t count = prev_.node_count();
    auto order = std::make_shared<std::vector<uint32_t>>(count + added_.size() - removed_.size());
    uint32_t* out = order->data();
    size_t from = 0;
    auto copy_to = [&](size_t end) {
      if (prev_.order_) std::copy(prev_.order_->begin() + from, prev_.order_->begin() + end, out);
      else std::iota(out, out + (end - from), static_cast<uint32_t>(from));
      out += end - from;
      from = end;
    };
    for (const Op& op : ops) {
      copy_to(op.pos);
      if (op.drop) ++from;
      else *out++ = op.node;
    }
    copy_to(count);
    z.order_ = std::move(order);
  }

  // prev's hash table with removed names deleted and added ones inserted.
  void EditTable(Zone& z) const {
    auto table = std::make_shared<Table>(*prev_.table_);
    std::vector<uint32_t>& slots = table->slots;
    std::vector<uint32_t>& hashes = table->hashes;
    const uint64_t mask = slots.size() - 1;
    auto home = [&](uint32_t idx) { return HashWireName(z.NodeName(z.nodes_[idx])) & mask; };
    // Deletions first, so the table never holds more than it will (at most half full).
    // Linear probing deletes by shifting later entries of the cluster back: no tombstones,
    // lookups stay as they are.
    for (const Node* n : removed_) {
      uint32_t idx = IndexOf(n);
      uint64_t hole = home(idx);
      while (slots[hole] != idx + 1) hole = (hole + 1) & mask;
      for (uint64_t j = (hole + 1) & mask; slots[j]; j = (j + 1) & mask) {
        uint64_t h = home(slots[j] - 1);
        // The entry at j may fill the hole unless its home lies cyclically in (hole, j].
        if (hole <= j ? (hole < h && h <= j) : (hole < h || h <= j)) continue;
        slots[hole] = slots[j];
        hashes[hole] = hashes[j];
        hole = j;
      }
      slots[hole] = 0;
      hashes[hole] = 0;
    }
    for (uint32_t node : added_) {
      uint64_t h = HashWireName(z.NodeName(z.nodes_[node]));
      uint64_t i = h & mask;
      while (slots[i]) i = (i + 1) & mask;
      slots[i] = node + 1;
      hashes[i] = static_cast<uint32_t>(h >> 32);
    }
    z.SetTable(std::move(table));
  }

  const Zone& prev_;
  const std::string origin_key_;
  std::unordered_map<std::string, Edit> edits_;
  std::unordered_map<std::string, Name> ents_;             // new empty non-terminals
  std::unordered_set<std::string> new_data_below_;         // names above names new to data
  std::unordered_set<uint32_t> emptied_;                   // prev's nodes that lost all RRsets
  std::unordered_map<std::string, bool> alive_;            // emptied names and their ancestors: kept?
  std::vector<const Node*> removed_;                       // prev's nodes that go
  std::unordered_map<std::string, bool> wildcard_;         // parent -> has a wildcard child now
  std::vector<Write> writes_;
  std::vector<uint32_t> added_;                            // new names' node indexes
  int64_t record_delta_ = 0;
  size_t garbage_ = 0;
};

Result<std::shared_ptr<const Zone>> Zone::Patch(const Zone& prev, std::span<const RRsetChange> changes) {
  return Patcher(prev).Run(changes);
}

}  // namespace berth::dns
