// The on-disk form of one journaled zone change (zone_changes.diff): the records it removed,
// then the ones it added, each with owner (wire form, its case), type, class, TTL and RDATA.
// Part of the schema (docs/state-schema.md): the first byte is the format version. Pure
// functions, thread-safe. Internal to src/store.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "dns/wire/message.h"

namespace berth::store {

std::string EncodeChange(const std::vector<dns::Record>& removed, const std::vector<dns::Record>& added);

// Appends the decoded records to `removed` and `added`. kIo for anything malformed (the blob
// comes from the database file, which may be damaged).
Status DecodeChange(std::string_view blob, std::vector<dns::Record>& removed, std::vector<dns::Record>& added);

}  // namespace berth::store
