#include "dns/zone/zone_table.h"

namespace berth::dns {

ZoneSet::ZoneSet(std::vector<std::shared_ptr<const Zone>> zones) : zones_(std::move(zones)) {
  keys_.reserve(zones_.size());
  for (const auto& z : zones_) keys_.emplace_back(z->origin().Lowercased().wire());
  for (size_t i = 0; i < zones_.size(); ++i) by_origin_[keys_[i]] = zones_[i].get();
}

const Zone* ZoneSet::FindZone(std::string_view lower_qname) const {
  if (by_origin_.empty()) return nullptr;
  // Try the name, then each parent: the first hit is the longest match.
  size_t i = 0;
  while (i < lower_qname.size()) {
    auto it = by_origin_.find(lower_qname.substr(i));
    if (it != by_origin_.end()) return it->second;
    uint8_t len = static_cast<uint8_t>(lower_qname[i]);
    if (len == 0) break;
    i += len + 1;
  }
  return nullptr;
}

std::shared_ptr<const Zone> ZoneSet::Get(const Name& origin) const {
  for (const auto& z : zones_)
    if (z->origin() == origin) return z;
  return nullptr;
}

std::shared_ptr<const ZoneSet> ZoneSet::With(std::shared_ptr<const Zone> zone) const {
  std::vector<std::shared_ptr<const Zone>> zones;
  for (const auto& z : zones_)
    if (!(z->origin() == zone->origin())) zones.push_back(z);
  zones.push_back(std::move(zone));
  return std::make_shared<ZoneSet>(std::move(zones));
}

std::shared_ptr<const ZoneSet> ZoneSet::Without(const Name& origin) const {
  std::vector<std::shared_ptr<const Zone>> zones;
  for (const auto& z : zones_)
    if (!(z->origin() == origin)) zones.push_back(z);
  return std::make_shared<ZoneSet>(std::move(zones));
}

}  // namespace berth::dns
