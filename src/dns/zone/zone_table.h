// ZoneSet: an immutable set of zones with longest-match lookup by query name.
// ZoneTable: publishes ZoneSets RCU-style. Readers (DNS workers) keep their own snapshot and
// re-fetch it only when version() moves, so the query path takes no lock; writers build a
// new set aside and swap it in. ZoneTable is thread-safe; ZoneSet is immutable.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

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

class ZoneTable {
 public:
  ZoneTable() : current_(std::make_shared<ZoneSet>()) {}

  std::shared_ptr<const ZoneSet> Get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return current_;
  }
  // Bumped on every Publish; readers compare it to decide whether to re-fetch.
  uint64_t version() const { return version_.load(std::memory_order_acquire); }
  void Publish(std::shared_ptr<const ZoneSet> set) {
    std::lock_guard<std::mutex> lock(mu_);
    current_ = std::move(set);
    version_.fetch_add(1, std::memory_order_release);
  }
  // Read-modify-publish under one lock, so concurrent writers do not lose each other's zones.
  template <typename Fn>
  void Update(Fn&& fn) {
    std::lock_guard<std::mutex> lock(mu_);
    current_ = fn(*current_);
    version_.fetch_add(1, std::memory_order_release);
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const ZoneSet> current_;
  std::atomic<uint64_t> version_{1};
};

// A reader's cached snapshot: cheap to check on every batch of queries.
class ZoneSnapshot {
 public:
  explicit ZoneSnapshot(const ZoneTable& table) : table_(table) { Refresh(); }
  // Re-fetches the set if the table has published since the last call.
  const ZoneSet& Refresh() {
    uint64_t v = table_.version();
    if (v != version_) {
      set_ = table_.Get();
      version_ = v;
    }
    return *set_;
  }
  const ZoneSet& current() const { return *set_; }

 private:
  const ZoneTable& table_;
  std::shared_ptr<const ZoneSet> set_;
  uint64_t version_ = 0;
};

}  // namespace berth::dns
