#include "api/ddns_routes.h"

#include <ctime>

#include "api/access.h"
#include "http/json.h"

namespace berth::api {
namespace {

using nlohmann::json;

json Time(const std::optional<std::chrono::system_clock::time_point>& t) {
  if (!t) return nullptr;
  std::time_t secs = std::chrono::system_clock::to_time_t(*t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

json DdnsJobJson(const ddns::JobStatus& j) {
  return {{"job", j.job},
          {"provider", j.provider},
          {"provider_type", j.provider_type},
          {"type", j.type},
          {"names", j.names},
          {"source", j.source},
          {"address", j.address ? json(j.address->ToString()) : json(nullptr)},
          {"last_run", Time(j.last_run)},
          {"last_push", Time(j.last_push)},
          {"last_change", Time(j.last_change)},
          {"last_result", j.last_result},
          {"last_error", j.last_error.empty() ? json(nullptr) : json(j.last_error)},
          {"consecutive_failures", j.consecutive_failures},
          {"runs", j.runs},
          {"next_run", Time(j.next_run)}};
}

Status RegisterDdnsRoutes(http::Router& router, ddns::Updater* updater, const auth::AuthPolicy* auth) {
  auto admin_only = [auth, updater](auto body) {
    return RequireAuth(auth, [updater, body](const http::Request& req, const auth::Principal& who) {
      if (!who.is_admin()) return Forbidden("/api/v1/ddns is for the admin");
      if (updater == nullptr) return http::JsonError(404, "DDNS is not configured (no ddns: section)");
      return body(req);
    });
  };
  RETURN_IF_ERROR(router.Add("GET", "/api/v1/ddns", admin_only([updater](const http::Request&) {
    json jobs = json::array();
    for (const auto& j : updater->Jobs()) jobs.push_back(DdnsJobJson(j));
    return http::Response::Json(200, {{"jobs", jobs}});
  })));
  RETURN_IF_ERROR(router.Add("POST", "/api/v1/ddns/{job}/run", admin_only([updater](const http::Request& req) {
    auto r = updater->RunNow(req.params.at("job"), std::chrono::seconds(30));
    if (!r.ok()) return http::ErrorResponse(r.status());
    return http::Response::Json(200, DdnsJobJson(*r));
  })));
  return Status::Ok();
}

}  // namespace berth::api
