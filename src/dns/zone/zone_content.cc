#include "dns/zone/zone_content.h"

#include <algorithm>
#include <tuple>

#include "dns/wire/rdata.h"
#include "dns/wire/types.h"

namespace berth::dns {
namespace {

// One record in DNS's eyes: names inside the RDATA compare without case (RFC 4343).
bool SameData(const Record& a, const Record& b) { return a.type == b.type && RdataEqual(a.type, a.rdata, b.rdata); }

// The slot of `type` in a node (const or not), or null. Nodes hold a handful of types.
template <class Node>
auto* SlotIn(Node& node, uint16_t type) {
  auto it = std::find_if(node.begin(), node.end(), [&](const auto& s) { return s.type == type; });
  return it == node.end() ? nullptr : &*it;
}

// Record::operator==, cheapest fields first: Diff compares records that mostly share their owner.
bool SameRecord(const Record& a, const Record& b) {
  return a.type == b.type && a.ttl == b.ttl && a.cls == b.cls && a.rdata == b.rdata && a.name == b.name;
}

}  // namespace

ZoneContent::ZoneContent(Name origin, std::vector<Record> records)
    : origin_(std::move(origin)), apex_(&*nodes_.try_emplace(origin_).first) {
  nodes_.reserve(records.size());
  for (auto& r : records) {
    auto& set = MakeSlot(r.name, r.type).second->records;
    if (std::none_of(set.begin(), set.end(), [&](const Record& o) { return SameData(o, r); })) {
      set.push_back(std::move(r));
      ++record_count_;
    }
  }
}

const std::vector<Record>* ZoneContent::Find(const Name& owner, uint16_t type) const {
  auto it = nodes_.find(owner);
  const Slot* slot = it == nodes_.end() ? nullptr : SlotIn(it->second, type);
  return slot && !slot->records.empty() ? &slot->records : nullptr;
}

std::pair<ZoneContent::Entry*, ZoneContent::Slot*> ZoneContent::FindSlot(const Name& owner, uint16_t type) {
  auto it = nodes_.find(owner);
  Slot* slot = it == nodes_.end() ? nullptr : SlotIn(it->second, type);
  if (!slot || slot->records.empty()) return {nullptr, nullptr};
  return {&*it, slot};
}

std::pair<ZoneContent::Entry*, ZoneContent::Slot*> ZoneContent::MakeSlot(const Name& owner, uint16_t type) {
  Entry& e = *nodes_.try_emplace(owner).first;
  Node& node = e.second;
  auto it = std::find_if(node.begin(), node.end(), [&](const Slot& s) { return s.type >= type; });
  if (it == node.end() || it->type != type) it = node.insert(it, Slot{type, false, {}});
  return {&e, &*it};
}

uint32_t ZoneContent::serial() const {
  const Slot* soa = SlotIn(apex_->second, type::kSOA);
  return soa && !soa->records.empty() ? SoaSerial(soa->records.front().rdata) : 0;
}

bool ZoneContent::NameExists(const Name& owner) const {
  auto it = nodes_.find(owner);
  return it != nodes_.end() && std::any_of(it->second.begin(), it->second.end(), [](const Slot& s) { return !s.records.empty(); });
}

bool ZoneContent::HasRRset(const Name& owner, uint16_t type) const { return Find(owner, type) != nullptr; }

std::vector<Record> ZoneContent::RRset(const Name& owner, uint16_t type) const {
  const auto* set = Find(owner, type);
  return set ? *set : std::vector<Record>{};
}

std::vector<Record> ZoneContent::RecordsAt(const Name& owner) const {
  std::vector<Record> out;
  auto it = nodes_.find(owner);
  if (it != nodes_.end())
    for (const Slot& s : it->second) out.insert(out.end(), s.records.begin(), s.records.end());
  return out;
}

std::vector<Record> ZoneContent::Records() const {
  // Sorted here, not kept sorted: only full rebuilds and exports ask for every record.
  std::vector<std::pair<std::string, const Node*>> order;
  order.reserve(nodes_.size());
  for (const auto& [owner, node] : nodes_) order.emplace_back(owner.CanonicalSortKey(), &node);
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Record> out;
  out.reserve(record_count_);
  if (const Slot* soa = SlotIn(apex_->second, type::kSOA)) out.insert(out.end(), soa->records.begin(), soa->records.end());
  for (const auto& [key, node] : order)
    for (const Slot& s : *node)
      if (!(s.type == type::kSOA && node == &apex_->second)) out.insert(out.end(), s.records.begin(), s.records.end());
  return out;
}

// Remembers the RRset as it was at Begin(), once per edit. Assign() moves it out instead, as
// it replaces it whole anyway.
void ZoneContent::Touch(Entry& node, Slot& slot) {
  if (editing_ && !slot.saved) Save(node, slot, slot.records);
}

void ZoneContent::Save(Entry& node, Slot& slot, std::vector<Record> before) {
  saved_.push_back({&node, slot.type, std::move(before)});
  saved_sorted_ = false;
  slot.saved = true;
}

// Replaces one RRset wholesale (empty removes it), keeping the count.
void ZoneContent::Assign(Entry& node, Slot& slot, std::vector<Record> records) {
  record_count_ -= slot.records.size();
  record_count_ += records.size();
  if (editing_ && !slot.saved) Save(node, slot, std::move(slot.records));
  slot.records = std::move(records);
  Prune(node, slot.type);
}

// Drops the RRset if empty, and then its owner if nothing is left there (never the apex).
// Not during an edit: the saved marks must last until it ends.
void ZoneContent::Prune(Entry& node, uint16_t type) {
  if (editing_) return;
  Slot* slot = SlotIn(node.second, type);
  if (!slot || !slot->records.empty()) return;
  node.second.erase(node.second.begin() + (slot - node.second.data()));
  if (node.second.empty() && &node != apex_) nodes_.erase(nodes_.find(node.first));
}

bool ZoneContent::Add(const Record& r) {
  auto [node, slot] = MakeSlot(r.name, r.type);
  auto& set = slot->records;
  auto same = std::find_if(set.begin(), set.end(), [&](const Record& o) { return SameData(o, r); });
  bool same_ttl = std::all_of(set.begin(), set.end(), [&](const Record& o) { return o.ttl == r.ttl; });
  if (same != set.end() && same->rdata == r.rdata && same_ttl) return false;
  Touch(*node, *slot);
  for (auto& o : set) o.ttl = r.ttl;
  if (same == set.end()) {
    set.push_back(r);
    ++record_count_;
  } else {
    same->rdata = r.rdata;  // the same record spelled with other case: the new spelling wins
  }
  return true;
}

bool ZoneContent::Remove(const Record& r) {
  auto [node, slot] = FindSlot(r.name, r.type);
  if (!slot) return false;
  auto& set = slot->records;
  auto it = std::find_if(set.begin(), set.end(), [&](const Record& o) { return SameData(o, r); });
  if (it == set.end()) return false;
  Touch(*node, *slot);
  set.erase(it);
  --record_count_;
  Prune(*node, r.type);
  return true;
}

size_t ZoneContent::RemoveRRset(const Name& owner, uint16_t type) {
  auto [node, slot] = FindSlot(owner, type);
  if (!slot) return 0;
  size_t n = slot->records.size();
  Assign(*node, *slot, {});
  return n;
}

size_t ZoneContent::RemoveName(const Name& owner) {
  auto it = nodes_.find(owner);
  if (it == nodes_.end()) return 0;
  std::vector<uint16_t> types;  // removing may erase slots (outside an edit): no iterating them
  for (const Slot& s : it->second) types.push_back(s.type);
  size_t n = 0;
  for (uint16_t t : types) n += RemoveRRset(owner, t);
  return n;
}

bool ZoneContent::ReplaceRRset(const Name& owner, uint16_t type, const std::vector<Record>& records) {
  std::vector<Record> fresh;
  fresh.reserve(records.size());
  for (const auto& r : records)
    if (std::none_of(fresh.begin(), fresh.end(), [&](const Record& o) { return SameData(o, r); })) fresh.push_back(r);
  auto [node, slot] = FindSlot(owner, type);
  if (slot) {
    const auto& cur = slot->records;
    if (cur.size() == fresh.size() && std::is_permutation(cur.begin(), cur.end(), fresh.begin(), fresh.end())) return false;
  } else {
    if (fresh.empty()) return false;
    std::tie(node, slot) = MakeSlot(owner, type);
  }
  Assign(*node, *slot, std::move(fresh));
  return true;
}

Status ZoneContent::SetSerial(uint32_t serial) {
  Slot* soa = SlotIn(apex_->second, type::kSOA);
  if (!soa || soa->records.size() != 1) return FailedPrecondition("zone " + origin_.ToText() + " has no SOA record");
  if (soa->records.front().rdata.size() < 22) return FailedPrecondition("zone " + origin_.ToText() + ": malformed SOA");
  Touch(*apex_, *soa);
  std::string& rdata = soa->records.front().rdata;
  size_t off = rdata.size() - 20;  // SERIAL REFRESH RETRY EXPIRE MINIMUM end the RDATA
  for (int i = 0; i < 4; ++i) rdata[off + i] = static_cast<char>(serial >> (24 - 8 * i));
  return Status::Ok();
}

void ZoneContent::SortSaved() const {
  if (saved_sorted_) return;
  std::sort(saved_.begin(), saved_.end(), [](const Saved& a, const Saved& b) {
    if (a.node != b.node) return Name::CanonicalCompare(a.node->first, b.node->first) < 0;
    return a.type < b.type;
  });
  saved_sorted_ = true;
}

Status ZoneContent::CheckTouched() const {
  SortSaved();
  for (const Saved& s : saved_) {
    const auto& set = SlotIn(s.node->second, s.type)->records;
    for (const auto& r : set) {
      if (!r.name.IsSubdomainOf(origin_))
        return InvalidArgument("record " + r.name.ToText() + " " + TypeToText(r.type) + " is outside zone " + origin_.ToText());
      if (r.cls != cls::kIN)
        return InvalidArgument("record " + r.name.ToText() + " has class " + ClassToText(r.cls) + ", only IN is served");
      if (IsMetaType(r.type)) return InvalidArgument("record " + r.name.ToText() + " has meta type " + TypeToText(r.type));
      if (Status st = ValidateRdata(r.type, r.rdata); !st.ok())
        return st.WithContext("record " + r.name.ToText() + " " + TypeToText(r.type));
    }
    if (!set.empty() && s.type == type::kSOA && s.node != apex_)
      return InvalidArgument("SOA record at " + set.front().name.ToText() + ", away from the zone apex");
  }
  const Slot* soa = SlotIn(apex_->second, type::kSOA);
  if (!soa || soa->records.empty()) return InvalidArgument("zone " + origin_.ToText() + " has no SOA record at its apex");
  if (soa->records.size() != 1) return InvalidArgument("zone " + origin_.ToText() + " has more than one SOA record");
  for (const Saved& s : saved_) {
    if (SlotIn(s.node->second, s.type)->records.empty()) continue;
    bool has_cname = false, has_other = false;
    const Record* last = nullptr;  // names the owner in messages, as spelled by its last RRset
    for (const Slot& slot : s.node->second) {
      if (slot.records.empty()) continue;
      last = &slot.records.front();
      if (slot.type == type::kCNAME) {
        has_cname = true;
        if (slot.records.size() > 1) return InvalidArgument("more than one CNAME at " + last->name.ToText());
      } else if (slot.type != type::kRRSIG && slot.type != type::kNSEC) {
        has_other = true;
      }
    }
    if (has_cname && has_other) return InvalidArgument("CNAME and other data at " + last->name.ToText());
    if (has_cname && s.node == apex_) return InvalidArgument("CNAME at the zone apex " + origin_.ToText());
  }
  return Status::Ok();
}

void ZoneContent::Begin() {
  Finish();
  editing_ = true;
}

bool ZoneContent::Changed() const {
  for (const Saved& s : saved_) {
    const auto& now = SlotIn(s.node->second, s.type)->records;
    if (now.size() != s.before.size() || !std::is_permutation(now.begin(), now.end(), s.before.begin(), s.before.end()))
      return true;
  }
  return false;
}

ZoneContent::Difference ZoneContent::Diff() const {
  Difference d;
  size_t before_total = 0, now_total = 0;
  for (const Saved& s : saved_) {
    before_total += s.before.size();
    now_total += SlotIn(s.node->second, s.type)->records.size();
  }
  d.removed.reserve(before_total);
  d.added.reserve(now_total);
  SortSaved();
  for (const Saved& s : saved_) {
    const auto& now = SlotIn(s.node->second, s.type)->records;
    const auto& before = s.before;
    auto in = [](const std::vector<Record>& set, const Record& r) {
      return std::any_of(set.begin(), set.end(), [&](const Record& o) { return SameRecord(o, r); });
    };
    for (const auto& r : before)
      if (!in(now, r)) d.removed.push_back(r);
    for (const auto& r : now)
      if (!in(before, r)) d.added.push_back(r);
  }
  return d;
}

void ZoneContent::Rollback() {
  for (Saved& s : saved_) {
    Slot& slot = *SlotIn(s.node->second, s.type);
    record_count_ -= slot.records.size();
    record_count_ += s.before.size();
    slot.records = std::move(s.before);
  }
  Finish();
}

void ZoneContent::Commit() { Finish(); }

// Ends an edit: clears the saved marks and drops what it emptied. A node is erased only with its
// last slot, so no later entry of saved_ can point at it.
void ZoneContent::Finish() {
  editing_ = false;
  for (Saved& s : saved_) {
    SlotIn(s.node->second, s.type)->saved = false;
    Prune(*s.node, s.type);
  }
  saved_.clear();
}

}  // namespace berth::dns
