// The zone-write API's request bodies, parsed and checked into changes: PowerDNS-shaped rrsets
// (PATCH /api/v1/zones/{zone}, and those of POST /api/v1/zones), a new zone's SOA and NS, and
// the simple {"name", "type", "content", "ttl"} of POST /api/v1/update. No state and no rights
// here (the routes check those); errors are kInvalidArgument naming the part at fault.
// Pure functions: thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "dns/wire/message.h"
#include "dns/wire/name.h"

namespace berth::api {

// One rrset of a request: what ZoneContent::ReplaceRRset/RemoveRRset take.
struct RRsetChange {
  dns::Name owner;
  uint16_t type = 0;
  bool remove = false;
  std::vector<dns::Record> records;  // class IN, the rrset's TTL; empty when remove
  std::string label;                 // "www.a.internal. A" for messages
};

// `text` as an absolute name (a missing trailing dot is added).
Result<dns::Name> AbsoluteName(std::string text);

// The string at `key`, or "" when absent or not a string.
std::string StringField(const nlohmann::json& j, const char* key);

// rrsets[index] of a request for `zone`. `patch`: changetype REPLACE or DELETE is required;
// otherwise the rrset is one to create (ttl defaults to 3600). Errors name "rrsets[i] (owner type)".
Result<RRsetChange> ParseRRset(const nlohmann::json& j, const dns::Name& zone, size_t index, bool patch);

// A new zone's SOA (the body's "soa" text, or a default with a YYYYMMDD01 serial) and NS
// records (its "nameservers"), for POST /api/v1/zones.
Result<std::vector<dns::Record>> NewZoneRecords(const dns::Name& zone, const nlohmann::json& body);

// POST /api/v1/update's body for `zone` (the served zone holding its name): the RRset named
// by "name" and "type" (default A) replaced by the one record "content", TTL "ttl" or 300.
Result<RRsetChange> ParseSimpleUpdate(const nlohmann::json& body, const dns::Name& zone);

}  // namespace berth::api
