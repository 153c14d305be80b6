// Fuzzes the zone-write API's request bodies: the first byte picks the door (PATCH rrsets,
// zone creation, /api/v1/update), the rest is the HTTP body, parsed as the routes parse it.
// Whatever is accepted must be a change the zone can take: records owned by the rrset's name
// inside the zone, of its type, class IN, a TTL within 31 bits, and RDATA that prints as text
// and reads back to the same bytes (what zone export and import rely on).
#include <cstddef>
#include <cstdint>
#include <string>

#include "api/zone_write_request.h"
#include "dns/wire/types.h"
#include "dns/zonefile/rdata_text.h"
#include "http/json.h"

namespace {

using namespace berth;

void CheckRecords(const dns::Name& zone, const dns::Name& owner, uint16_t type, const std::vector<dns::Record>& records) {
  for (const auto& r : records) {
    if (!(r.name == owner) || r.type != type || r.cls != dns::cls::kIN || r.ttl > 0x7fffffffu) __builtin_trap();
    if (!r.name.IsSubdomainOf(zone)) __builtin_trap();
    auto again = dns::RdataFromText(r.type, dns::RdataToText(r.type, r.rdata), zone);
    if (!again.ok() || *again != r.rdata) __builtin_trap();
  }
}

void CheckChange(const dns::Name& zone, const api::RRsetChange& c) {
  if (c.remove && !c.records.empty()) __builtin_trap();
  CheckRecords(zone, c.owner, c.type, c.records);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const dns::Name zone = *dns::Name::FromText("a.internal.");
  http::Request req;
  req.body.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto body = http::ParseJsonBody(req);
  if (!body.ok()) return 0;
  const nlohmann::json& j = *body;
  switch (data[0] % 3) {
    case 0: {  // PATCH /api/v1/zones/{zone}
      if (!j.is_object() || !j.contains("rrsets") || !j["rrsets"].is_array()) return 0;
      for (size_t i = 0; i < j["rrsets"].size(); ++i) {
        auto c = api::ParseRRset(j["rrsets"][i], zone, i, /*patch=*/true);
        if (c.ok()) CheckChange(zone, *c);
      }
      break;
    }
    case 1: {  // POST /api/v1/zones
      if (!j.is_object()) return 0;
      auto records = api::NewZoneRecords(zone, j);
      if (records.ok()) {
        if (records->empty() || (*records)[0].type != dns::type::kSOA) __builtin_trap();
        for (const auto& r : *records) CheckRecords(zone, zone, r.type, {r});
      }
      if (auto rrsets = j.find("rrsets"); rrsets != j.end() && rrsets->is_array()) {
        for (size_t i = 0; i < rrsets->size(); ++i) {
          auto c = api::ParseRRset((*rrsets)[i], zone, i, /*patch=*/false);
          if (c.ok()) CheckChange(zone, *c);
        }
      }
      break;
    }
    default: {  // POST /api/v1/update
      auto c = api::ParseSimpleUpdate(j, zone);
      if (c.ok()) {
        if (c->remove || c->records.size() != 1) __builtin_trap();
        CheckChange(zone, *c);
      }
    }
  }
  return 0;
}
