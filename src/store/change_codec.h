// The on-disk forms of journaled zone changes (zone_changes.diff), part of the schema
// (docs/state-schema.md); the first byte is the format version:
//   1  one change: the records it removed, then the ones it added (schema version 4 rows,
//      carried into version 5 by its migration);
//   2  a group of changes in order, each with its old and new serial (schema version 5: one row
//      per zone per group commit).
// Records keep owner (wire form, its case), type, class, TTL and RDATA. Pure functions and a
// value type, thread-compatible. Internal to src/store.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "dns/wire/message.h"
#include "store/store.h"

namespace berth::store {

// Format 1 (what the version-4 migration writes).
std::string EncodeChange(const std::vector<dns::Record>& removed, const std::vector<dns::Record>& added);
// Format 2 holding one format-1 change, moving the zone from `old_serial` to `new_serial`: a
// format-1 change after its version byte is a format-2 change after its serials. Not checked: a
// damaged change stays damaged and fails when decoded.
std::string ChangeAsGroup(uint32_t old_serial, uint32_t new_serial, std::string_view change);

// Format 2, built one change at a time.
class ChangeGroupWriter {
 public:
  ChangeGroupWriter();
  void Add(uint32_t old_serial, uint32_t new_serial, const std::vector<dns::Record>& removed,
           const std::vector<dns::Record>& added);
  uint32_t count() const { return count_; }
  // The encoded group of the changes added so far.
  const std::string& blob() const { return out_; }

 private:
  std::string out_;
  uint32_t count_ = 0;
};

// Appends the group's changes to `out` in order (changed_at is the row's, left 0 here). kIo for
// anything malformed (the blob comes from the database file, which may be damaged).
Status DecodeChanges(std::string_view blob, std::vector<JournalEntry>& out);

}  // namespace berth::store
