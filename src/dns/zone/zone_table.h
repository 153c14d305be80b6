// ZoneSet: an immutable set of zones with longest-match lookup by query name.
// ZoneTable: publishes ZoneSets RCU-style (core/published.h). Readers (DNS workers) keep their
// own snapshot and re-fetch it only when the version moves, so the query path takes no lock;
// writers build a new set aside and swap it in. ZoneTable is thread-safe; ZoneSet is immutable.
#pragma once

#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/published.h"
#include "dns/zone/zone.h"

namespace berth::dns {

class ZoneSet {
 public:
  ZoneSet() = default;
  explicit ZoneSet(std::vector<std::shared_ptr<const Zone>> zones);

  // The zone with the longest origin that is an ancestor of (or equal to) the lower-cased
  // wire name `qname`, or nullptr. No allocation.
  const Zone* FindZone(std::string_view lower_qname) const;
  // The zone with exactly this origin, or nullptr.
  std::shared_ptr<const Zone> Get(const Name& origin) const;
  const std::vector<std::shared_ptr<const Zone>>& zones() const { return zones_; }

  // A copy of this set with `zone` added or replacing the zone of the same origin.
  std::shared_ptr<const ZoneSet> With(std::shared_ptr<const Zone> zone) const;
  // A copy of this set without the zone `origin`.
  std::shared_ptr<const ZoneSet> Without(const Name& origin) const;

 private:
  struct Hash {
    size_t operator()(std::string_view s) const { return HashWireName(s); }
  };
  std::vector<std::shared_ptr<const Zone>> zones_;
  std::unordered_map<std::string_view, const Zone*, Hash> by_origin_;  // lower-cased origins
  std::vector<std::string> keys_;
};

// The published zone set: DNS workers read it through a ZoneSnapshot (no lock per query);
// ZoneService publishes a new set after each change.
class ZoneTable : public Published<ZoneSet> {
 public:
  ZoneTable() : Published<ZoneSet>(std::make_shared<ZoneSet>()) {}
};

// A reader's cached snapshot: cheap to check on every batch of queries.
using ZoneSnapshot = Published<ZoneSet>::Reader;

}  // namespace berth::dns
