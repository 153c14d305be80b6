// Zone writes through the API: every change is validated whole and checked against the
// caller's scope before anything is handed to ZoneService, which applies it in one durable step.
#include <ctime>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "api/access.h"
#include "api/write_routes.h"
#include "api/zone_json.h"
#include "dns/wire/types.h"
#include "dns/zonefile/rdata_text.h"
#include "http/json.h"

namespace berth::api {
namespace {

using nlohmann::json;

constexpr uint32_t kDefaultTtl = 3600;
constexpr uint32_t kUpdateTtl = 300;  // /api/v1/update without "ttl"

// One rrset of a request, parsed and checked: what ZoneContent::ReplaceRRset/RemoveRRset take.
struct RRsetChange {
  dns::Name owner;
  uint16_t type = 0;
  bool remove = false;
  std::vector<dns::Record> records;
  std::string label;  // "www.a.internal. A" for messages
};

// 422 for a request that is well-formed JSON but cannot be applied (PowerDNS does the same).
http::Response Unprocessable(std::string message) { return http::JsonError(422, std::move(message)); }

std::string StringField(const json& j, const char* key) {
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

// Parses rrsets[index]. `patch`: changetype is required (REPLACE or DELETE); otherwise the
// rrset is one to create. Errors (kInvalidArgument) name the rrset.
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
    if (r.value("disabled", false)) return InvalidArgument(rwhere + ": disabled records are not supported");
    auto rdata = dns::RdataFromText(c.type, r["content"].get<std::string>(), zone);
    if (!rdata.ok()) return InvalidArgument(rwhere + ": " + rdata.status().message());
    c.records.push_back({c.owner, c.type, dns::cls::kIN, *ttl, std::move(*rdata)});
  }
  return c;
}

std::optional<daemon::ZoneState> FindState(const ApiContext& c, const dns::Name& zone) {
  for (auto& z : c.zones->states())
    if (z.name == zone) return z;
  return std::nullopt;
}

bool MayRead(const ApiContext& c, const auth::Principal& who, const dns::Name& zone) {
  return who.is_admin() || (c.auth && c.auth->MayRead(who, zone));
}
bool MayWrite(const ApiContext& c, const auth::Principal& who, const dns::Name& zone, const dns::Name& owner,
              uint16_t type) {
  return who.is_admin() ? owner.IsSubdomainOf(zone) : c.auth && c.auth->MayWrite(who, zone, owner, type);
}
bool MayManage(const ApiContext& c, const auth::Principal& who, const dns::Name& zone) {
  return who.is_admin() || (c.auth && c.auth->MayManageZone(who, zone));
}

// Maps ZoneService errors of an edit: zone rules broken by the change are 422.
http::Response EditError(const Status& s) {
  if (s.code() == Code::kInvalidArgument) return Unprocessable(s.message());
  return http::ErrorResponse(s);
}

// The SOA and NS records of a new zone: YYYYMMDD01 serial, the first nameserver as MNAME.
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

http::Response CreateZone(const ApiContext& c, const http::Request& req, const auth::Principal& who) {
  auto body = http::ParseJsonBody(req);
  if (!body.ok()) return http::ErrorResponse(body.status());
  if (!body->is_object()) return http::JsonError(400, "expected a JSON object {name, kind, nameservers, rrsets}");
  auto zone = AbsoluteName(StringField(*body, "name"));
  if (!zone.ok()) return http::JsonError(400, "zone " + zone.status().message());
  dns::Name name = zone->Lowercased();
  std::string kind = StringField(*body, "kind");
  if (!kind.empty() && kind != "Native" && kind != "Master") {
    return Unprocessable("kind '" + kind + "' is not supported (Native or Master)");
  }
  if (!MayManage(c, who, name)) return Forbidden("no right to create zone " + name.ToText());
  auto records = NewZoneRecords(name, *body);
  if (!records.ok()) return Unprocessable(records.status().message());
  if (auto rrsets = body->find("rrsets"); rrsets != body->end()) {
    if (!rrsets->is_array()) return http::JsonError(400, "rrsets must be a list");
    for (size_t i = 0; i < rrsets->size(); ++i) {
      auto change = ParseRRset((*rrsets)[i], name, i, /*patch=*/false);
      if (!change.ok()) return Unprocessable(change.status().message());
      if (change->type == dns::type::kSOA) std::erase_if(*records, [](const dns::Record& r) { return r.type == dns::type::kSOA; });
      records->insert(records->end(), change->records.begin(), change->records.end());
    }
  }
  Status s = c.zones->Create(name, std::move(*records));
  if (!s.ok()) return s.code() == Code::kInvalidArgument ? Unprocessable(s.message()) : http::ErrorResponse(s);
  auto state = FindState(c, name);
  if (!state) return http::JsonError(500, "zone vanished after creation");
  json out = ZoneJson(*state);
  auto served = c.zones->Records(name);
  out["rrsets"] = served.ok() ? RRsetsJson(*served) : json::array();
  http::Response r = http::Response::Json(201, out);
  r.headers.emplace_back("Location", "/api/v1/zones/" + name.ToText());
  return r;
}

http::Response DeleteZone(const ApiContext& c, const http::Request& req, const auth::Principal& who) {
  auto zone = ZoneParam(req);
  if (!zone.ok()) return http::ErrorResponse(zone.status());
  if (!MayRead(c, who, *zone)) return http::JsonError(404, "zone " + zone->ToText() + " not found");
  if (!MayManage(c, who, *zone)) return Forbidden("no right to delete zone " + zone->ToText());
  if (Status s = c.zones->Delete(*zone); !s.ok()) return http::ErrorResponse(s);
  return http::Response{204, "", "", {}};
}

http::Response PatchZone(const ApiContext& c, const http::Request& req, const auth::Principal& who) {
  auto zone = ZoneParam(req);
  if (!zone.ok()) return http::ErrorResponse(zone.status());
  if (!MayRead(c, who, *zone) || !FindState(c, *zone)) return http::JsonError(404, "zone " + zone->ToText() + " not found");
  auto body = http::ParseJsonBody(req);
  if (!body.ok()) return http::ErrorResponse(body.status());
  if (!body->is_object() || !body->contains("rrsets") || !(*body)["rrsets"].is_array()) {
    return http::JsonError(400, "expected a JSON object {\"rrsets\": [...]}");
  }
  // Everything is parsed and authorized before the one edit: a bad rrset changes nothing.
  std::vector<RRsetChange> changes;
  const json& rrsets = (*body)["rrsets"];
  for (size_t i = 0; i < rrsets.size(); ++i) {
    auto change = ParseRRset(rrsets[i], *zone, i, /*patch=*/true);
    if (!change.ok()) return Unprocessable(change.status().message());
    if (!MayWrite(c, who, *zone, change->owner, change->type)) {
      return Forbidden("rrsets[" + std::to_string(i) + "] (" + change->label + "): outside your scope");
    }
    changes.push_back(std::move(*change));
  }
  auto outcome = c.zones->Edit(*zone, [changes = std::move(changes)](dns::ZoneContent& content) {
    for (const auto& ch : changes) {
      if (ch.remove) {
        content.RemoveRRset(ch.owner, ch.type);
      } else {
        content.ReplaceRRset(ch.owner, ch.type, ch.records);
      }
    }
    return Status::Ok();
  });
  if (!outcome.ok()) return EditError(outcome.status());
  return http::Response{204, "", "", {}};
}

// The seed's simple door: {"name", "type", "content", "ttl"} replaces that RRset with one record.
http::Response Update(const ApiContext& c, const http::Request& req, const auth::Principal& who) {
  auto body = http::ParseJsonBody(req);
  if (!body.ok()) return http::ErrorResponse(body.status());
  if (!body->is_object()) return http::JsonError(400, "expected a JSON object {name, type, content, ttl}");
  auto name = AbsoluteName(StringField(*body, "name"));
  if (!name.ok()) return http::JsonError(400, name.status().message());
  // The zone is the longest served suffix of the name.
  std::optional<dns::Name> zone;
  for (const auto& z : c.zones->states()) {
    if (name->IsSubdomainOf(z.name) && (!zone || z.name.LabelCount() > zone->LabelCount())) zone = z.name;
  }
  if (!zone || !MayRead(c, who, *zone)) return http::JsonError(404, "no zone serves " + name->ToText());
  json rrset = {{"name", name->ToText()},
                {"type", body->value("type", json("A"))},
                {"records", json::array({{{"content", body->value("content", json(nullptr))}}})}};
  if (body->contains("ttl")) rrset["ttl"] = (*body)["ttl"];
  auto change = ParseRRset(rrset, *zone, 0, /*patch=*/false);
  if (change.ok() && !body->contains("ttl")) {
    for (auto& r : change->records) r.ttl = kUpdateTtl;
  }
  if (!change.ok()) {
    std::string msg = change.status().message();
    if (msg.starts_with("rrsets[0]")) msg = msg.substr(msg.find(':') + 2);
    return Unprocessable(msg);
  }
  if (!MayWrite(c, who, *zone, change->owner, change->type)) return Forbidden(change->label + ": outside your scope");
  std::vector<dns::Record> records = change->records;
  auto outcome = c.zones->Edit(*zone, [change = *change](dns::ZoneContent& content) {
    content.ReplaceRRset(change.owner, change.type, change.records);
    return Status::Ok();
  });
  if (!outcome.ok()) return EditError(outcome.status());
  return http::Response::Json(200, {{"zone", zone->ToText()},
                                    {"name", change->owner.ToText()},
                                    {"type", dns::TypeToText(change->type)},
                                    {"ttl", records[0].ttl},
                                    {"content", dns::RdataToText(change->type, records[0].rdata)},
                                    {"changed", outcome->changed},
                                    {"serial", outcome->serial}});
}

}  // namespace

Status RegisterZoneWriteRoutes(http::Router& router, std::shared_ptr<const ApiContext> ctx) {
  auto bind = [ctx](http::Response (*fn)(const ApiContext&, const http::Request&, const auth::Principal&)) {
    return RequireAuth(ctx->auth, [ctx, fn](const http::Request& req, const auth::Principal& who) {
      return fn(*ctx, req, who);
    });
  };
  for (std::string prefix : {"/api/v1", "/api/v1/servers/localhost"}) {
    RETURN_IF_ERROR(router.Add("POST", prefix + "/zones", bind(CreateZone)));
    RETURN_IF_ERROR(router.Add("DELETE", prefix + "/zones/{zone}", bind(DeleteZone)));
    RETURN_IF_ERROR(router.Add("PATCH", prefix + "/zones/{zone}", bind(PatchZone)));
  }
  RETURN_IF_ERROR(router.Add("POST", "/api/v1/update", bind(Update)));
  return Status::Ok();
}

}  // namespace berth::api
