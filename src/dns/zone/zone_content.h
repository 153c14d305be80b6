// ZoneContent: the editable records of one zone, indexed by owner name and type, used to apply
// dynamic changes (RFC 2136 UPDATE, REST PATCH, dyndns2) before a new immutable Zone snapshot
// is built. It remembers each touched RRset's original state so an edit can be rolled back
// whole and its net difference journaled. Not thread-safe: one editor at a time.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/status.h"
#include "dns/wire/message.h"
#include "dns/wire/name.h"

namespace berth::dns {

class ZoneContent {
 public:
  // `records` must belong to the zone (the ones of a built Zone or of the store).
  ZoneContent(Name origin, std::vector<Record> records);
  // Move-only (it points into its own index).
  ZoneContent(ZoneContent&&) = default;
  ZoneContent& operator=(ZoneContent&&) = default;
  ZoneContent(const ZoneContent&) = delete;
  ZoneContent& operator=(const ZoneContent&) = delete;

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
  // One RRset. An edit empties RRsets rather than erasing them, so `saved` (its original is in
  // saved_) holds until Commit()/Rollback() drops the empty ones.
  struct Slot {
    uint16_t type = 0;
    bool saved = false;
    std::vector<Record> records;
  };
  using Node = std::vector<Slot>;  // the RRsets at one owner, by type
  // Owners hash and compare without case, so lookups copy nothing; most are spelled alike.
  struct SameOwner {
    bool operator()(const Name& a, const Name& b) const { return a.wire() == b.wire() || a == b; }
  };
  using Nodes = std::unordered_map<Name, Node, NameHash, SameOwner>;
  using Entry = Nodes::value_type;
  struct Saved {
    Entry* node;  // elements of an unordered_map stay put; edits erase none
    uint16_t type;
    std::vector<Record> before;
  };

  const std::vector<Record>* Find(const Name& owner, uint16_t type) const;  // non-empty RRset
  std::pair<Entry*, Slot*> FindSlot(const Name& owner, uint16_t type);     // non-empty RRset
  std::pair<Entry*, Slot*> MakeSlot(const Name& owner, uint16_t type);     // found or created
  void Touch(Entry& node, Slot& slot);
  void Save(Entry& node, Slot& slot, std::vector<Record> before);
  void Assign(Entry& node, Slot& slot, std::vector<Record> records);
  void Prune(Entry& node, uint16_t type);
  void Finish();
  void SortSaved() const;

  Name origin_;
  Nodes nodes_;
  Entry* apex_;  // origin_'s node, kept even when empty so the SOA is found without hashing
  size_t record_count_ = 0;
  // RRsets touched since Begin(), as they were then. Diff() and CheckTouched() sort them into
  // zone order (canonical owner, then type) when they first need it, so diffs and errors come
  // out in the order they always have.
  mutable std::vector<Saved> saved_;
  mutable bool saved_sorted_ = true;
  bool editing_ = false;
};

}  // namespace berth::dns
