// The zone rules Zone::Build and Zone::Patch enforce, one record or one node at a time, so
// both refuse the same things with the same messages. Stateless functions: thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/status.h"
#include "dns/wire/message.h"
#include "dns/wire/name.h"

namespace berth::dns::zone_rules {

// Inside `origin`, class IN, not a meta type, well-formed RDATA.
Status CheckRecord(const Record& r, const Name& origin);

struct SetSize {
  uint16_t type;
  size_t records;
};
// One node's RRsets (after duplicates collapsed): SOA only at the apex (and exactly one
// there), at most one CNAME and nothing but RRSIG/NSEC beside it, none at the apex, RRsets
// of at most 65535 records.
Status CheckNode(const Name& origin, const Name& name, std::span<const SetSize> sets);

}  // namespace berth::dns::zone_rules
