#include "api/zone_json.h"

#include <map>

#include "dns/wire/types.h"
#include "dns/zonefile/rdata_text.h"

namespace berth::api {

using nlohmann::json;

// Zone names in URLs may omit the final dot ("internal" == "internal.").
Result<dns::Name> ZoneParam(const http::Request& req) {
  auto it = req.params.find("zone");
  std::string text = it == req.params.end() ? "" : it->second;
  if (!text.empty() && text.back() != '.') text += '.';
  auto name = dns::Name::FromText(text);
  if (!name.ok()) return InvalidArgument("bad zone name '" + it->second + "': " + name.status().message());
  return name;
}


json RecordJson(const dns::Record& r) {
  return {{"name", r.name.ToText()},
          {"type", dns::TypeToText(r.type)},
          {"ttl", r.ttl},
          {"content", dns::RdataToText(r.type, r.rdata)}};
}

// PowerDNS rrsets: records grouped by (name, type), in the zone's canonical order.
json RRsetsJson(const std::vector<dns::Record>& records) {
  json out = json::array();
  std::map<std::pair<std::string, uint16_t>, size_t> index;
  for (const auto& r : records) {
    auto key = std::make_pair(r.name.Lowercased().ToText(), r.type);
    auto [it, fresh] = index.try_emplace(key, out.size());
    if (fresh) {
      out.push_back({{"name", r.name.ToText()},
                     {"type", dns::TypeToText(r.type)},
                     {"ttl", r.ttl},
                     {"records", json::array()},
                     {"comments", json::array()}});
    }
    out[it->second]["records"].push_back({{"content", dns::RdataToText(r.type, r.rdata)}, {"disabled", false}});
  }
  return out;
}

json ZoneJson(const daemon::ZoneState& z) {
  std::string name = z.name.ToText();
  return {{"id", name},
          {"name", name},
          {"kind", "Native"},
          {"serial", z.serial},
          {"url", "/api/v1/zones/" + name},
          {"source", z.source},
          {"file", z.file},
          {"serving", z.serving},
          {"records", z.records},
          {"last_error", z.last_error}};
}

}  // namespace berth::api
