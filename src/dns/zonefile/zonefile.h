// RFC 1035 §5.1 master (zone) files: ParseZoneText/ParseZoneFile read the whole text into
// records or reject it whole with "source:line: reason"; WriteZoneText writes records back
// in a form the parser reads to the same records (used by `berth zone export`). Only syntax
// and per-record checks live here; zone-level rules (one SOA, CNAME exclusivity) belong to the
// zone module. Pure functions over their inputs: thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "dns/wire/message.h"
#include "dns/wire/name.h"

namespace berth::dns {

struct ZoneFileOptions {
  // $INCLUDE reads files from disk: turn it off for untrusted text (API imports, fuzzing).
  bool allow_include = true;
  int max_include_depth = 10;
  // Limit on the bytes read, for one file and in total over all $INCLUDEd files.
  size_t max_bytes = size_t{256} << 20;
  // Limit on the number of records; 0 means none.
  size_t max_records = 0;
  // Directory for relative $INCLUDE paths in ParseZoneText; empty means the directory of
  // `source_name`. (ParseZoneFile and included files always use their own directory.)
  std::string include_dir;
};

// Parses zone text whose names are relative to `origin` (also the zone apex: every owner must
// be at or below it). Records come out in file order with class IN and canonical RDATA.
// A record without a TTL takes $TTL, else the last explicit TTL (RFC 1035), else the SOA
// minimum (RFC 2308 convention, as BIND does). Errors, all with "source:line: " in front:
// kInvalidArgument for bad syntax, bad RDATA, unknown type, non-IN class, meta types (OPT,
// ANY...), out-of-zone owners, a missing TTL, $INCLUDE when disabled, include loops or depth;
// kResourceExhausted when max_bytes or max_records is exceeded; kIo/kNotFound when an
// included file cannot be read.
Result<std::vector<Record>> ParseZoneText(std::string_view text, const Name& origin,
                                          std::string_view source_name,
                                          const ZoneFileOptions& opts = {});

// Reads and parses the file at `path` (the error prefix is `path`). Errors as ParseZoneText,
// plus kNotFound/kIo when the file cannot be read and kResourceExhausted when it is too big.
Result<std::vector<Record>> ParseZoneFile(const std::string& path, const Name& origin,
                                          const ZoneFileOptions& opts = {});

// Zone text for `records`: a $ORIGIN line, then SOA records first, then the others in their
// given order, one absolute "owner TTL IN TYPE rdata" line each. ParseZoneText(result, origin)
// gives back the same records when they are class IN and inside `origin`.
std::string WriteZoneText(const Name& origin, const std::vector<Record>& records);

}  // namespace berth::dns
