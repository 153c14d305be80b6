#include "api/api.h"

#include <chrono>
#include <future>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "api/access.h"
#include "api/cni_routes.h"
#include "api/ddns_routes.h"
#include "api/network_routes.h"
#include "api/write_routes.h"
#include "api/zone_json.h"
#include "dns/query/query.h"
#include "dns/wire/message.h"
#include "dns/zonefile/rdata_text.h"
#include "dns/zonefile/zonefile.h"
#include "http/json.h"

namespace berth::api {
namespace {

using nlohmann::json;

std::string MetricsText(const ApiContext& ctx) {
  std::string out = ctx.dns_metrics->Render();
  auto counter = [&](const char* name, const char* help, uint64_t v, const char* type = "counter") {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, v);
  };
  if (ctx.cache) {
    auto s = ctx.cache->Stats();
    counter("berth_dns_cache_lookups_hit_total", "Cache lookups that found a live answer.", s.hits);
    counter("berth_dns_cache_lookups_miss_total", "Cache lookups that found nothing usable.", s.misses);
    counter("berth_dns_cache_inserts_total", "Answers stored in the cache.", s.inserts);
    counter("berth_dns_cache_evictions_total", "Answers evicted to stay within budget.", s.evictions);
    counter("berth_dns_cache_entries", "Answers in the cache.", s.entries, "gauge");
    counter("berth_dns_cache_bytes", "Bytes held by the cache.", s.bytes, "gauge");
  }
  if (ctx.forwarder) {
    auto s = ctx.forwarder->Stats();
    counter("berth_dns_forward_requests_total", "Questions handed to the forwarder.", s.requests);
    counter("berth_dns_forward_coalesced_total", "Questions that joined an identical in-flight one.", s.coalesced);
    counter("berth_dns_forward_failures_total", "Questions no upstream answered usefully.", s.failures);
    counter("berth_dns_forward_ignored_total", "Upstream datagrams dropped as not matching.", s.ignored);
    // One family per upstream counter, labelled by the upstream's position in the config.
    auto per_upstream = [&](const char* name, const char* help, auto value) {
      out += fmt::format("# HELP {} {}\n# TYPE {} counter\n", name, help, name);
      for (size_t i = 0; i < s.upstreams.size(); ++i)
        out += fmt::format("{}{{upstream=\"{}\"}} {}\n", name, i, value(s.upstreams[i]));
    };
    per_upstream("berth_dns_upstream_queries_total", "Queries sent to each upstream.",
                 [](const dns::UpstreamStats& u) { return u.queries; });
    per_upstream("berth_dns_upstream_timeouts_total", "Queries to each upstream that timed out.",
                 [](const dns::UpstreamStats& u) { return u.timeouts; });
    per_upstream("berth_dns_upstream_failures_total", "Errors from each upstream (socket, SERVFAIL, REFUSED...).",
                 [](const dns::UpstreamStats& u) { return u.errors; });
  }
  auto states = ctx.zones->states();
  out += "# HELP berth_zone_records Records served per zone.\n# TYPE berth_zone_records gauge\n";
  for (const auto& z : states) out += fmt::format("berth_zone_records{{zone=\"{}\"}} {}\n", z.name.ToText(), z.records);
  out += "# HELP berth_zone_serial SOA serial served per zone.\n# TYPE berth_zone_serial gauge\n";
  for (const auto& z : states) out += fmt::format("berth_zone_serial{{zone=\"{}\"}} {}\n", z.name.ToText(), z.serial);
  out += "# HELP berth_zone_load_error 1 when the last load of the zone failed.\n# TYPE berth_zone_load_error gauge\n";
  for (const auto& z : states)
    out += fmt::format("berth_zone_load_error{{zone=\"{}\"}} {}\n", z.name.ToText(), z.last_error.empty() ? 0 : 1);
  return out;
}

// Answers a query the way a client on loopback would get it, forwarding when needed.
http::Response Query(const ApiContext& ctx, const http::Request& req) {
  std::string name_text(req.query_param("name"));
  if (name_text.empty()) return http::JsonError(400, "missing query parameter 'name'");
  if (name_text.back() != '.') name_text += '.';
  auto name = dns::Name::FromText(name_text);
  if (!name.ok()) return http::JsonError(400, "bad name: " + name.status().message());
  std::string type_text(req.query_param("type"));
  auto qtype = dns::TypeFromText(type_text.empty() ? "A" : type_text);
  if (!qtype) return http::JsonError(400, "unknown record type '" + type_text + "'");
  dns::Message q;
  q.id = 1;
  q.flags = dns::flag::kRD;
  q.questions.push_back({*name, *qtype, dns::cls::kIN});
  q.edns = dns::Edns{};
  std::string query = q.Build();
  const auto* qbytes = reinterpret_cast<const uint8_t*>(query.data());

  std::string response(65535, '\0');
  auto* out = reinterpret_cast<uint8_t*>(response.data());
  dns::AnswerOptions opts;
  opts.tcp = true;
  opts.recursion_allowed = ctx.recursor != nullptr;
  opts.edns_udp_size = ctx.edns_udp_size;
  dns::ParsedQuery parsed;
  auto result = dns::AnswerQuery(*ctx.table->Get(), qbytes, query.size(), opts, out, response.size(), &parsed);
  if (result.disposition == dns::Disposition::kForward) {
    result.size = ctx.recursor->FromCache(parsed, qbytes, query.size(), 65535, out, response.size());
    if (result.size == 0) {
      auto promise = std::make_shared<std::promise<std::string>>();
      auto future = promise->get_future();
      ctx.recursor->Resolve(parsed, qbytes, query.size(), 65535,
                            [promise](std::string answer) { promise->set_value(std::move(answer)); });
      if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready)
        return http::JsonError(504, "upstream resolvers did not answer in time");
      std::string answer = future.get();
      if (answer.empty()) return http::JsonError(502, "upstream resolvers failed (SERVFAIL)");
      response = std::move(answer);
      result.size = response.size();
    }
  } else if (result.disposition == dns::Disposition::kDrop) {
    return http::JsonError(500, "query was dropped");
  }
  auto msg = dns::Message::Parse(reinterpret_cast<const uint8_t*>(response.data()), result.size);
  if (!msg.ok()) return http::JsonError(500, "unparsable answer: " + msg.status().message());
  json flags = json::array();
  for (auto [bit, label] : {std::pair{dns::flag::kQR, "qr"}, {dns::flag::kAA, "aa"}, {dns::flag::kTC, "tc"},
                            {dns::flag::kRD, "rd"}, {dns::flag::kRA, "ra"}, {dns::flag::kAD, "ad"}})
    if (msg->has(bit)) flags.push_back(label);
  auto section = [](const std::vector<dns::Record>& rs) {
    json a = json::array();
    for (const auto& r : rs) a.push_back(RecordJson(r));
    return a;
  };
  return http::Response::Json(200, {{"name", name->ToText()},
                                    {"type", dns::TypeToText(*qtype)},
                                    {"rcode", dns::RcodeToText(msg->rcode())},
                                    {"flags", flags},
                                    {"answer", section(msg->answers)},
                                    {"authority", section(msg->authority)},
                                    {"additional", section(msg->additional)}});
}

}  // namespace

Status RegisterRoutes(http::Router& router, ApiContext ctx) {
  auto c = std::make_shared<const ApiContext>(std::move(ctx));
  RETURN_IF_ERROR(router.Add("GET", "/healthz", [](const http::Request&) { return http::Response::Text(200, "ok\n"); }));
  RETURN_IF_ERROR(router.Add("GET", "/readyz", [c](const http::Request&) {
    json zones = json::array();
    for (const auto& z : c->zones->states()) zones.push_back(ZoneJson(z));
    bool ready = c->zones->Ready();
    return http::Response::Json(ready ? 200 : 503, {{"ready", ready}, {"zones", zones}});
  }));
  RETURN_IF_ERROR(router.Add("GET", "/metrics", [c](const http::Request&) {
    http::Response r = http::Response::Text(200, MetricsText(*c));
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return r;
  }));
  const auth::AuthPolicy* policy = c->auth;
  // Zones a caller may not read answer 404, as if they did not exist (no probing of names).
  auto not_found = [](const dns::Name& name) { return http::JsonError(404, "zone " + name.ToText() + " not found"); };
  // The records of a zone the caller may see: outside its names/types they are left out.
  auto visible_records = [c](const auth::Principal& who, const dns::Name& zone, std::vector<dns::Record> records) {
    if (!who.is_admin()) {
      std::erase_if(records, [&](const dns::Record& r) { return !c->auth->MayReadRecord(who, zone, r.name, r.type); });
    }
    return records;
  };
  auto list = RequireAuth(policy, [c](const http::Request&, const auth::Principal& who) {
    json out = json::array();
    for (const auto& z : c->zones->states())
      if (who.is_admin() || c->auth->MayRead(who, z.name)) out.push_back(ZoneJson(z));
    return http::Response::Json(200, out);
  });
  auto show = RequireAuth(policy, [c, not_found, visible_records](const http::Request& req, const auth::Principal& who) {
    auto name = ZoneParam(req);
    if (!name.ok()) return http::ErrorResponse(name.status());
    if (!who.is_admin() && !c->auth->MayRead(who, *name)) return not_found(*name);
    for (const auto& z : c->zones->states()) {
      if (!(z.name == *name)) continue;
      json out = ZoneJson(z);
      auto records = c->zones->Records(*name);
      out["rrsets"] = records.ok() ? RRsetsJson(visible_records(who, *name, std::move(*records))) : json::array();
      return http::Response::Json(200, out);
    }
    return not_found(*name);
  });
  auto export_zone = RequireAuth(policy, [c, not_found, visible_records](const http::Request& req, const auth::Principal& who) {
    auto name = ZoneParam(req);
    if (!name.ok()) return http::ErrorResponse(name.status());
    if (!who.is_admin() && !c->auth->MayRead(who, *name)) return not_found(*name);
    auto records = c->zones->Records(*name);
    if (!records.ok()) return http::ErrorResponse(records.status());
    http::Response r = http::Response::Text(200, dns::WriteZoneText(*name, visible_records(who, *name, std::move(*records))));
    r.content_type = "text/dns; charset=utf-8";
    return r;
  });
  auto import_zone = RequireAuth(policy, [c](const http::Request& req, const auth::Principal& who) {
    auto name = ZoneParam(req);
    if (!name.ok()) return http::ErrorResponse(name.status());
    if (!(who.is_admin() || c->auth->MayManageZone(who, *name))) return Forbidden("no right to replace zone " + name->ToText());
    if (Status s = c->zones->Import(*name, req.body); !s.ok()) return http::ErrorResponse(s);
    for (const auto& z : c->zones->states())
      if (z.name == *name) return http::Response::Json(200, ZoneJson(z));
    return http::JsonError(500, "zone vanished after import");
  });
  // The PowerDNS paths are accepted too, so its clients and scripts work unchanged.
  for (std::string prefix : {"/api/v1", "/api/v1/servers/localhost"}) {
    RETURN_IF_ERROR(router.Add("GET", prefix + "/zones", list));
    RETURN_IF_ERROR(router.Add("GET", prefix + "/zones/{zone}", show));
    RETURN_IF_ERROR(router.Add("GET", prefix + "/zones/{zone}/export", export_zone));
  }
  http::RouteOptions big;
  big.max_body_bytes = size_t{256} << 20;  // whole zone files
  RETURN_IF_ERROR(router.Add("PUT", "/api/v1/zones/{zone}/zonefile", import_zone, big));
  // The query door answers as a loopback client would be, across every zone and the
  // forwarder: admin only.
  RETURN_IF_ERROR(router.Add("GET", "/api/v1/query", RequireAuth(policy, [c](const http::Request& req, const auth::Principal& who) {
    if (!who.is_admin()) return Forbidden("/api/v1/query is for the admin");
    return Query(*c, req);
  })));
  RETURN_IF_ERROR(RegisterZoneWriteRoutes(router, c));
  RETURN_IF_ERROR(RegisterAuthRoutes(router, c));
  if (c->dyndns) RETURN_IF_ERROR(RegisterDyndnsRoutes(router, c->dyndns));
  RETURN_IF_ERROR(RegisterDdnsRoutes(router, c->ddns, c->auth));
  RETURN_IF_ERROR(RegisterNetworkRoutes(router, c));
  RETURN_IF_ERROR(RegisterCniRoutes(router, c));
  return Status::Ok();
}

}  // namespace berth::api
