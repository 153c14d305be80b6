#include "dns/zone/zone_content.h"

#include <algorithm>

#include "dns/wire/rdata.h"
#include "dns/wire/types.h"

namespace berth::dns {
namespace {

// One record in DNS's eyes: names inside the RDATA compare without case (RFC 4343).
bool SameData(const Record& a, const Record& b) { return a.type == b.type && RdataEqual(a.type, a.rdata, b.rdata); }

}  // namespace

ZoneContent::ZoneContent(Name origin, std::vector<Record> records) : origin_(std::move(origin)) {
  for (auto& r : records) {
    RRsetKey key{r.name.CanonicalSortKey(), r.type};
    auto& set = rrsets_[key];
    if (set.empty()) ++names_[key.first];
    if (std::none_of(set.begin(), set.end(), [&](const Record& o) { return SameData(o, r); })) {
      set.push_back(std::move(r));
      ++record_count_;
    }
  }
}

std::vector<Record>* ZoneContent::Find(const Name& owner, uint16_t type) {
  auto it = rrsets_.find({owner.CanonicalSortKey(), type});
  return it == rrsets_.end() ? nullptr : &it->second;
}

const std::vector<Record>* ZoneContent::Find(const Name& owner, uint16_t type) const {
  auto it = rrsets_.find({owner.CanonicalSortKey(), type});
  return it == rrsets_.end() ? nullptr : &it->second;
}

uint32_t ZoneContent::serial() const {
  const auto* soa = Find(origin_, type::kSOA);
  return soa && !soa->empty() ? SoaSerial(soa->front().rdata) : 0;
}

bool ZoneContent::NameExists(const Name& owner) const { return names_.count(owner.CanonicalSortKey()) > 0; }

bool ZoneContent::HasRRset(const Name& owner, uint16_t type) const { return Find(owner, type) != nullptr; }

std::vector<Record> ZoneContent::RRset(const Name& owner, uint16_t type) const {
  const auto* set = Find(owner, type);
  return set ? *set : std::vector<Record>{};
}

std::vector<Record> ZoneContent::RecordsAt(const Name& owner) const {
  std::vector<Record> out;
  std::string key = owner.CanonicalSortKey();
  for (auto it = rrsets_.lower_bound({key, 0}); it != rrsets_.end() && it->first.first == key; ++it)
    out.insert(out.end(), it->second.begin(), it->second.end());
  return out;
}

std::vector<Record> ZoneContent::Records() const {
  std::vector<Record> out;
  out.reserve(record_count_);
  if (const auto* soa = Find(origin_, type::kSOA)) out.insert(out.end(), soa->begin(), soa->end());
  std::string apex = origin_.CanonicalSortKey();
  for (const auto& [key, set] : rrsets_) {
    if (key.second == type::kSOA && key.first == apex) continue;
    out.insert(out.end(), set.begin(), set.end());
  }
  return out;
}

void ZoneContent::Touch(const RRsetKey& key) {
  if (!editing_ || saved_.count(key)) return;
  auto it = rrsets_.find(key);
  saved_.emplace(key, it == rrsets_.end() ? std::vector<Record>{} : it->second);
}

// Replaces one RRset wholesale, keeping the counts right; empty erases it.
void ZoneContent::Store(const RRsetKey& key, std::vector<Record> records) {
  Touch(key);
  auto it = rrsets_.find(key);
  if (it != rrsets_.end()) {
    record_count_ -= it->second.size();
    if (records.empty()) {
      rrsets_.erase(it);
      if (--names_[key.first] == 0) names_.erase(key.first);
      return;
    }
    it->second = std::move(records);
  } else {
    if (records.empty()) return;
    ++names_[key.first];
    it = rrsets_.emplace(key, std::move(records)).first;
  }
  record_count_ += it->second.size();
}

bool ZoneContent::Add(const Record& r) {
  RRsetKey key{r.name.CanonicalSortKey(), r.type};
  std::vector<Record> set = RRset(r.name, r.type);
  bool changed = false;
  for (auto& o : set) {
    if (o.ttl != r.ttl) {
      o.ttl = r.ttl;
      changed = true;
    }
  }
  auto same = std::find_if(set.begin(), set.end(), [&](const Record& o) { return SameData(o, r); });
  if (same == set.end()) {
    set.push_back(r);
    changed = true;
  } else if (same->rdata != r.rdata) {
    same->rdata = r.rdata;  // the same record spelled with other case: the new spelling wins
    changed = true;
  }
  if (changed) Store(key, std::move(set));
  return changed;
}

bool ZoneContent::Remove(const Record& r) {
  const auto* cur = Find(r.name, r.type);
  if (!cur) return false;
  std::vector<Record> set = *cur;
  auto it = std::find_if(set.begin(), set.end(), [&](const Record& o) { return SameData(o, r); });
  if (it == set.end()) return false;
  set.erase(it);
  Store({r.name.CanonicalSortKey(), r.type}, std::move(set));
  return true;
}

size_t ZoneContent::RemoveRRset(const Name& owner, uint16_t type) {
  const auto* cur = Find(owner, type);
  if (!cur) return 0;
  size_t n = cur->size();
  Store({owner.CanonicalSortKey(), type}, {});
  return n;
}

size_t ZoneContent::RemoveName(const Name& owner) {
  std::string key = owner.CanonicalSortKey();
  std::vector<uint16_t> types;
  for (auto it = rrsets_.lower_bound({key, 0}); it != rrsets_.end() && it->first.first == key; ++it)
    types.push_back(it->first.second);
  size_t n = 0;
  for (uint16_t t : types) n += RemoveRRset(owner, t);
  return n;
}

bool ZoneContent::ReplaceRRset(const Name& owner, uint16_t type, const std::vector<Record>& records) {
  std::vector<Record> fresh;
  for (const auto& r : records)
    if (std::none_of(fresh.begin(), fresh.end(), [&](const Record& o) { return SameData(o, r); })) fresh.push_back(r);
  const auto* cur = Find(owner, type);
  if (cur && cur->size() == fresh.size() &&
      std::is_permutation(cur->begin(), cur->end(), fresh.begin(), fresh.end()))
    return false;
  if (!cur && fresh.empty()) return false;
  Store({owner.CanonicalSortKey(), type}, std::move(fresh));
  return true;
}

Status ZoneContent::SetSerial(uint32_t serial) {
  const auto* soa = Find(origin_, type::kSOA);
  if (!soa || soa->size() != 1) return FailedPrecondition("zone " + origin_.ToText() + " has no SOA record");
  Record r = soa->front();
  if (r.rdata.size() < 22) return FailedPrecondition("zone " + origin_.ToText() + ": malformed SOA");
  size_t off = r.rdata.size() - 20;  // SERIAL REFRESH RETRY EXPIRE MINIMUM end the RDATA
  for (int i = 0; i < 4; ++i) r.rdata[off + i] = static_cast<char>(serial >> (24 - 8 * i));
  Store({origin_.CanonicalSortKey(), type::kSOA}, {std::move(r)});
  return Status::Ok();
}

Status ZoneContent::CheckTouched() const {
  const std::string apex = origin_.CanonicalSortKey();
  std::vector<std::string> owners;
  for (const auto& [key, before] : saved_) {
    auto it = rrsets_.find(key);
    if (it == rrsets_.end()) continue;
    for (const auto& r : it->second) {
      std::string owner = r.name.ToText();
      if (!r.name.IsSubdomainOf(origin_))
        return InvalidArgument("record " + owner + " " + TypeToText(r.type) + " is outside zone " + origin_.ToText());
      if (r.cls != cls::kIN)
        return InvalidArgument("record " + owner + " has class " + ClassToText(r.cls) + ", only IN is served");
      if (IsMetaType(r.type)) return InvalidArgument("record " + owner + " has meta type " + TypeToText(r.type));
      if (Status s = ValidateRdata(r.type, r.rdata); !s.ok())
        return s.WithContext("record " + owner + " " + TypeToText(r.type));
    }
    if (key.second == type::kSOA && key.first != apex)
      return InvalidArgument("SOA record at " + it->second.front().name.ToText() + ", away from the zone apex");
    owners.push_back(key.first);
  }
  const auto* soa = Find(origin_, type::kSOA);
  if (!soa) return InvalidArgument("zone " + origin_.ToText() + " has no SOA record at its apex");
  if (soa->size() != 1) return InvalidArgument("zone " + origin_.ToText() + " has more than one SOA record");
  for (const auto& owner : owners) {
    bool has_cname = false, has_other = false;
    std::string text;
    for (auto it = rrsets_.lower_bound({owner, 0}); it != rrsets_.end() && it->first.first == owner; ++it) {
      text = it->second.front().name.ToText();
      if (it->first.second == type::kCNAME) {
        has_cname = true;
        if (it->second.size() > 1) return InvalidArgument("more than one CNAME at " + text);
      } else if (it->first.second != type::kRRSIG && it->first.second != type::kNSEC) {
        has_other = true;
      }
    }
    if (has_cname && has_other) return InvalidArgument("CNAME and other data at " + text);
    if (has_cname && owner == apex) return InvalidArgument("CNAME at the zone apex " + origin_.ToText());
  }
  return Status::Ok();
}

void ZoneContent::Begin() {
  saved_.clear();
  editing_ = true;
}

bool ZoneContent::Changed() const {
  for (const auto& [key, before] : saved_) {
    auto it = rrsets_.find(key);
    const std::vector<Record> empty;
    const auto& now = it == rrsets_.end() ? empty : it->second;
    if (now.size() != before.size() || !std::is_permutation(now.begin(), now.end(), before.begin(), before.end()))
      return true;
  }
  return false;
}

ZoneContent::Difference ZoneContent::Diff() const {
  Difference d;
  for (const auto& [key, before] : saved_) {
    auto it = rrsets_.find(key);
    const std::vector<Record> empty;
    const auto& now = it == rrsets_.end() ? empty : it->second;
    for (const auto& r : before)
      if (std::find(now.begin(), now.end(), r) == now.end()) d.removed.push_back(r);
    for (const auto& r : now)
      if (std::find(before.begin(), before.end(), r) == before.end()) d.added.push_back(r);
  }
  return d;
}

void ZoneContent::Rollback() {
  editing_ = false;
  for (auto& [key, before] : saved_) Store(key, std::move(before));
  saved_.clear();
}

void ZoneContent::Commit() {
  editing_ = false;
  saved_.clear();
}

}  // namespace berth::dns
