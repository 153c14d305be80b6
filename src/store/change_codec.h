// The on-disk forms of journaled zone changes (zone_changes.diff), part of the schema
// (docs/state-schema.md); the first byte is the format version:
//   1  one change: the records it removed, then the ones it added (schema version 4 rows,
//      carried into version 5 by its migration);
//   2  a group of changes in order, each with its old and new serial (schema version 5: one row
//      per zone per group commit);
//   3  format 2 where an SOA record equal to the group's previous full SOA but for its serial
//      is written as a back-reference: owner length 0 (no owner has it), then the serial.
//      What ChangeGroupWriter writes: a group's changes each remove and add the SOA.
// Records keep owner (wire form, its case), type, class, TTL and RDATA. Pure functions and a
// value type, thread-compatible. Internal to src/store.
#pragma once

#include <cstdint>
#include <optional>
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

// Format 3, built one change at a time.
class ChangeGroupWriter {
 public:
  ChangeGroupWriter();
  void Add(uint32_t old_serial, uint32_t new_serial, const std::vector<dns::Record>& removed,
           const std::vector<dns::Record>& added);
  uint32_t count() const { return count_; }
  // The encoded group of the changes added so far.
  const std::string& blob() const { return out_; }

 private:
  bool SameSoaButSerial(const dns::Record& r) const;
  void PutRecords(const std::vector<dns::Record>& records);
  std::string out_;
  uint32_t count_ = 0;
  std::optional<dns::Record> last_soa_;  // the last SOA written in full
};

// Appends the group's changes to `out` in order (changed_at is the row's, left 0 here). kIo for
// anything malformed (the blob comes from the database file, which may be damaged).
Status DecodeChanges(std::string_view blob, std::vector<JournalEntry>& out);

}  // namespace berth::store
