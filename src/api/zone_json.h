// JSON shapes of the zone endpoints (PowerDNS-like) shared by the read and write routes, and
// the parsing of zone names in URLs. Pure functions: thread-safe.
#pragma once

#include <functional>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "daemon/zone_service.h"
#include "dns/wire/message.h"
#include "http/message.h"

namespace berth::api {

// The {zone} capture; a missing final dot is added ("internal" == "internal."). kInvalidArgument.
Result<dns::Name> ZoneParam(const http::Request& req);
// {"name","type","ttl","content"}.
nlohmann::json RecordJson(const dns::Record& r);
// PowerDNS rrsets: records grouped by (name, type), in the zone's canonical order.
nlohmann::json RRsetsJson(const std::vector<dns::Record>& records);
// The zone object of docs/api.md.
nlohmann::json ZoneJson(const daemon::ZoneState& z);

}  // namespace berth::api
