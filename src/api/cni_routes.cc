#include "api/cni_routes.h"

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "api/access.h"
#include "cni/request.h"
#include "cni/result.h"
#include "cni/service.h"
#include "http/json.h"

namespace berth::api {
namespace {

using nlohmann::json;

int HttpStatusForCni(int code) {
  switch (code) {
    case cni::kUnknownContainer: return 404;
    case cni::kConflict: return 409;
    case cni::kExhausted: return 429;
    case cni::kTryAgainLater:
    case cni::kNotAvailable:
    case cni::kNotAvailableLimited: return 503;
    case cni::kIncompatibleVersion:
    case cni::kUnsupportedField:
    case cni::kInvalidEnvironment:
    case cni::kDecodeFailure:
    case cni::kInvalidConfig: return 400;
    default: return 500;
  }
}

}  // namespace

Status RegisterCniRoutes(http::Router& router, std::shared_ptr<const ApiContext> ctx) {
  auto service = std::make_shared<cni::Service>(ctx->networks);
  return router.Add("POST", "/api/v1/cni", RequireAuth(ctx->auth, [service](const http::Request& req, const auth::Principal& who) {
    if (!who.is_admin()) return Forbidden("the CNI door is for the admin (berthd's unix socket)");
    auto body = http::ParseJsonBody(req);
    if (!body.ok()) return http::ErrorResponse(body.status());
    if (!body->is_object() || !(*body)["env"].is_object() || !(*body)["config"].is_string()) {
      return http::JsonError(400, "expected {\"env\": {\"CNI_COMMAND\": ...}, \"config\": \"<network configuration>\"}");
    }
    std::map<std::string, std::string> env;
    for (const auto& [k, v] : (*body)["env"].items()) {
      if (!v.is_string()) return http::JsonError(400, "env." + k + " must be a string");
      env[k] = v.get<std::string>();
    }
    const std::string config = (*body)["config"].get<std::string>();
    cni::Request request;
    cni::Error error = cni::ParseRequest(env, config, &request);
    cni::Reply reply;
    if (error.ok()) reply = service->Handle(request);
    else reply.error = error;
    if (!reply.error.ok()) {
      return http::Response::Json(HttpStatusForCni(reply.error.code), cni::ErrorJson(cni::ReplyVersion(config), reply.error));
    }
    if (reply.result.is_null()) return http::Response{204, "", "", {}};
    return http::Response::Json(200, reply.result);
  }));
}

}  // namespace berth::api
