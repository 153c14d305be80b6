#include "api/zone_write_request.h"

#include <cctype>
#include <ctime>
#include <optional>

#include <fmt/format.h>

#include "dns/wire/types.h"
#include "dns/zonefile/rdata_text.h"

namespace berth::api {
namespace {

using nlohmann::json;

constexpr uint32_t kDefaultTtl = 3600;
constexpr uint32_t kUpdateTtl = 300;  // /api/v1/update without "ttl"

Result<uint32_t> TtlField(const json& j, std::optional<uint32_t> fallback) {
  auto it = j.find("ttl");
  if (it == j.end()) {
    if (fallback) return *fallback;
    return InvalidArgument("ttl is missing");
  }
  if (!it->is_number_unsigned() || it->get<uint64_t>() > 0x7fffffff) {
    return InvalidArgument("ttl must be an integer from 0 to 2147483647");
  }
  return it->get<uint32_t>();
}

}  // namespace

std::string StringField(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

Result<dns::Name> AbsoluteName(std::string text) {
  if (text.empty()) return InvalidArgument("name is empty");
  if (text.back() != '.') text += '.';
  auto name = dns::Name::FromText(text);
  if (!name.ok()) return InvalidArgument("bad name '" + text + "': " + name.status().message());
  return name;
}

Result<RRsetChange> ParseRRset(const json& j, const dns::Name& zone, size_t index, bool patch) {
  std::string where = "rrsets[" + std::to_string(index) + "]";
  if (!j.is_object()) return InvalidArgument(where + ": expected an object");
  RRsetChange c;
  auto owner = AbsoluteName(StringField(j, "name"));
  if (!owner.ok()) return InvalidArgument(where + ": " + owner.status().message());
  c.owner = *owner;
  std::string type_text = StringField(j, "type");
  auto type = dns::TypeFromText(type_text);
  if (!type || *type == 0 || dns::IsMetaType(*type)) {
    return InvalidArgument(where + ": unknown record type '" + type_text + "'");
  }
  c.type = *type;
  c.label = c.owner.ToText() + " " + dns::TypeToText(c.type);
  where += " (" + c.label + ")";
  if (!c.owner.IsSubdomainOf(zone)) return InvalidArgument(where + ": name is outside zone " + zone.ToText());
  if (patch) {
    std::string changetype = StringField(j, "changetype");
    for (char& ch : changetype) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (changetype != "REPLACE" && changetype != "DELETE") {
      return InvalidArgument(where + ": changetype must be REPLACE or DELETE");
    }
    c.remove = changetype == "DELETE";
    if (c.remove) return c;
  }
  auto ttl = TtlField(j, patch ? std::nullopt : std::optional<uint32_t>(kDefaultTtl));
  if (!ttl.ok()) return InvalidArgument(where + ": " + ttl.status().message());
  auto records = j.find("records");
  if (records == j.end() || !records->is_array()) return InvalidArgument(where + ": records must be a list");
  for (size_t k = 0; k < records->size(); ++k) {
    const json& r = (*records)[k];
    std::string rwhere = where + ".records[" + std::to_string(k) + "]";
    if (!r.is_object() || !r.contains("content") || !r["content"].is_string()) {
      return InvalidArgument(rwhere + ": expected {\"content\": \"...\"}");
    }
    if (auto disabled = r.find("disabled"); disabled != r.end()) {
      if (!disabled->is_boolean()) return InvalidArgument(rwhere + ": disabled must be true or false");
      if (disabled->get<bool>()) return InvalidArgument(rwhere + ": disabled records are not supported");
    }
    auto rdata = dns::RdataFromText(c.type, r["content"].get<std::string>(), zone);
    if (!rdata.ok()) return InvalidArgument(rwhere + ": " + rdata.status().message());
    c.records.push_back({c.owner, c.type, dns::cls::kIN, *ttl, std::move(*rdata)});
  }
  return c;
}

Result<std::vector<dns::Record>> NewZoneRecords(const dns::Name& zone, const json& body) {
  std::vector<dns::Record> records;
  std::vector<dns::Name> nameservers;
  if (auto ns = body.find("nameservers"); ns != body.end()) {
    if (!ns->is_array()) return InvalidArgument("nameservers must be a list of names");
    for (const auto& n : *ns) {
      if (!n.is_string()) return InvalidArgument("nameservers must be a list of names");
      ASSIGN_OR_RETURN(dns::Name name, AbsoluteName(n.get<std::string>()));
      nameservers.push_back(name);
    }
  }
  std::string soa_text = StringField(body, "soa");
  if (soa_text.empty()) {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::string mname = nameservers.empty() ? "ns1." + zone.ToText() : nameservers[0].ToText();
    soa_text = fmt::format("{} hostmaster.{} {:04}{:02}{:02}01 3600 600 604800 300", mname, zone.ToText(),
                           tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  }
  auto soa = dns::RdataFromText(dns::type::kSOA, soa_text, zone);
  if (!soa.ok()) return InvalidArgument("soa: " + soa.status().message());
  records.push_back({zone, dns::type::kSOA, dns::cls::kIN, kDefaultTtl, std::move(*soa)});
  for (const auto& ns : nameservers) {
    auto rdata = dns::RdataFromText(dns::type::kNS, ns.ToText(), zone);
    if (!rdata.ok()) return InvalidArgument("nameserver " + ns.ToText() + ": " + rdata.status().message());
    records.push_back({zone, dns::type::kNS, dns::cls::kIN, kDefaultTtl, std::move(*rdata)});
  }
  return records;
}

Result<RRsetChange> ParseSimpleUpdate(const json& body, const dns::Name& zone) {
  if (!body.is_object()) return InvalidArgument("expected a JSON object {name, type, content, ttl}");
  json rrset = {{"name", StringField(body, "name")},
                {"type", body.value("type", json("A"))},
                {"records", json::array({{{"content", body.value("content", json(nullptr))}}})}};
  if (body.contains("ttl")) rrset["ttl"] = body["ttl"];
  auto change = ParseRRset(rrset, zone, 0, /*patch=*/false);
  if (!change.ok()) {
    // One rrset only: its "rrsets[0] (...)" prefix would puzzle the caller.
    std::string msg = change.status().message();
    if (msg.starts_with("rrsets[0]")) msg = msg.substr(msg.find(": ") + 2);
    return InvalidArgument(msg);
  }
  if (!body.contains("ttl")) {
    for (auto& r : change->records) r.ttl = kUpdateTtl;
  }
  return change;
}

}  // namespace berth::api
