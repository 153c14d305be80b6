// ZoneContent: the editable records of one zone, indexed by owner name and type, used to apply
// dynamic changes (RFC 2136 UPDATE, REST PATCH, dyndns2) before a new immutable Zone snapshot
// is built. It remembers each touched RRset's original state so an edit can be rolled back
// whole and its net difference journaled. Not thread-safe: one editor at a time.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "dns/wire/message.h"
#include "dns/wire/name.h"

namespace berth::dns {

class ZoneContent {
 public:
  // `records` must belong to the zone (the ones of a built Zone or of the store).
  ZoneContent(Name origin, std::vector<Record> records);

  const Name& origin() const { return origin_; }
  // The apex SOA serial (0 without an SOA).
  uint32_t serial() const;
  size_t record_count() const { return record_count_; }

  // Lookups; owners compare case-insensitively.
  bool NameExists(const Name& owner) const;  // any record at owner
  bool HasRRset(const Name& owner, uint16_t type) const;
  // The RRset (empty when absent), in insertion order.
  std::vector<Record> RRset(const Name& owner, uint16_t type) const;
  // Every record at `owner`.
  std::vector<Record> RecordsAt(const Name& owner) const;
  // Every record, SOA first, then by owner (canonical order) and type.
  std::vector<Record> Records() const;

  // Edits. They do not validate zone rules (Zone::Build does that when the edit commits).
  // RDATA compares as DNS does (names inside it without case, RFC 4343: RdataEqual).
  // Adds `r` unless a record with the same owner, type and RDATA exists (one spelled with other
  // case is replaced by r's spelling); the whole RRset takes r's TTL either way (RFC 2181 §5.2:
  // one TTL per RRset). Returns true when anything changed.
  bool Add(const Record& r);
  // Removes the record with r's owner, type and RDATA (TTL and class ignored). True if found.
  bool Remove(const Record& r);
  // Removes an RRset / every record at a name; returns how many records went.
  size_t RemoveRRset(const Name& owner, uint16_t type);
  size_t RemoveName(const Name& owner);
  // Makes owner/type hold exactly `records` (empty deletes it). True when anything changed.
  bool ReplaceRRset(const Name& owner, uint16_t type, const std::vector<Record>& records);
  // Rewrites the apex SOA's serial field. kFailedPrecondition without an SOA.
  Status SetSerial(uint32_t serial);

  // Checks the zone rules Zone::Build enforces, for the RRsets touched since Begin(): owners
  // inside the zone, class IN, no meta types, valid RDATA, one SOA and only at the apex, a
  // CNAME alone at its name (and not at the apex). kInvalidArgument naming the record.
  Status CheckTouched() const;

  // Change tracking: Begin() starts an edit; Diff() is its net effect so far; Rollback()
  // restores the content as it was at Begin(); Commit() forgets the saved state.
  void Begin();
  bool Changed() const;
  struct Difference {
    std::vector<Record> removed;  // with the TTL they had
    std::vector<Record> added;
  };
  Difference Diff() const;
  void Rollback();
  void Commit();

 private:
  using RRsetKey = std::pair<std::string, uint16_t>;  // (lower-case wire owner, type)
  std::vector<Record>* Find(const Name& owner, uint16_t type);
  const std::vector<Record>* Find(const Name& owner, uint16_t type) const;
  void Touch(const RRsetKey& key);
  void Store(const RRsetKey& key, std::vector<Record> records);

  Name origin_;
  // Ordered by owner's canonical sort key, then type.
  std::map<RRsetKey, std::vector<Record>> rrsets_;
  std::map<std::string, size_t> names_;  // sort key -> number of RRsets there
  size_t record_count_ = 0;
  std::map<RRsetKey, std::vector<Record>> saved_;  // original RRsets touched since Begin()
  bool editing_ = false;
};

}  // namespace berth::dns
