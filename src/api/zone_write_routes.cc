// Zone writes through the API: every change is validated whole and checked against the
// caller's scope before anything is handed to ZoneService, which applies it in one durable step.
#include <optional>

#include <nlohmann/json.hpp>

#include "api/access.h"
#include "api/write_routes.h"
#include "api/zone_json.h"
#include "api/zone_write_request.h"
#include "dns/wire/types.h"
#include "dns/zonefile/rdata_text.h"
#include "http/json.h"

namespace berth::api {
namespace {

using nlohmann::json;

// 422 for a request that is well-formed JSON but cannot be applied (PowerDNS does the same).
http::Response Unprocessable(std::string message) { return http::JsonError(422, std::move(message)); }

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
  auto change = ParseSimpleUpdate(*body, *zone);
  if (!change.ok()) return Unprocessable(change.status().message());
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
