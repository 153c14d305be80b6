#include "api/network_routes.h"

#include <signal.h>
#include <sys/syscall.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

#include "api/access.h"
#include "http/json.h"
#include "net/engine/network_engine.h"

namespace berth::api {
namespace {

using nlohmann::json;

// How long `stop` waits after SIGTERM before SIGKILL (Docker's default is 10 s).
constexpr int kStopGraceMs = 10'000;

http::Response Error(const Status& s) { return http::ErrorResponse(s); }

// Sends SIGTERM, waits for the exit up to the grace period, then SIGKILL. The engine's
// process watcher removes the endpoint when the process is gone.
Status StopProcess(int64_t pid, int grace_ms) {
  int fd = static_cast<int>(syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0));
  if (fd < 0) return errno == ESRCH ? Status::Ok() : IoError("opening process " + std::to_string(pid), errno);
  if (syscall(SYS_pidfd_send_signal, fd, SIGTERM, nullptr, 0) != 0 && errno != ESRCH) {
    int err = errno;
    close(fd);
    return IoError("signalling process " + std::to_string(pid), err);
  }
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, grace_ms) == 0) (void)syscall(SYS_pidfd_send_signal, fd, SIGKILL, nullptr, 0);
  p.revents = 0;
  (void)poll(&p, 1, 2000);
  close(fd);
  return Status::Ok();
}

}  // namespace

Status RegisterNetworkRoutes(http::Router& router, std::shared_ptr<const ApiContext> ctx) {
  auto admin = [ctx](auto fn) {
    return RequireAuth(ctx->auth, [ctx, fn](const http::Request& req, const auth::Principal& who) {
      if (!who.is_admin()) return Forbidden("networks and endpoints are for the admin");
      if (ctx->networks == nullptr) return http::JsonError(503, "container networks are not enabled on this berthd");
      return fn(*ctx->networks, req);
    });
  };
  using Engine = net::NetworkEngine;

  RETURN_IF_ERROR(router.Add("GET", "/api/v1/networks", admin([](Engine& e, const http::Request&) {
    json out = json::array();
    for (const net::Network& n : e.Networks()) {
      auto j = e.InspectNetwork(n.spec.name);
      if (j.ok()) out.push_back(*j);
    }
    return http::Response::Json(200, out);
  })));
  RETURN_IF_ERROR(router.Add("POST", "/api/v1/networks", admin([](Engine& e, const http::Request& req) {
    auto body = http::ParseJsonBody(req);
    if (!body.ok()) return Error(body.status());
    auto spec = net::NetworkSpecFromJson(*body);
    if (!spec.ok()) return Error(spec.status());
    auto created = e.CreateNetwork(std::move(*spec));
    if (!created.ok()) return Error(created.status());
    auto j = e.InspectNetwork(created->spec.name);
    return j.ok() ? http::Response::Json(201, *j) : Error(j.status());
  })));
  RETURN_IF_ERROR(router.Add("POST", "/api/v1/networks/prune", admin([](Engine& e, const http::Request&) {
    return http::Response::Json(200, json{{"removed", e.PruneNetworks()}});
  })));
  RETURN_IF_ERROR(router.Add("GET", "/api/v1/networks/{name}", admin([](Engine& e, const http::Request& req) {
    auto j = e.InspectNetwork(req.params.at("name"));
    return j.ok() ? http::Response::Json(200, *j) : Error(j.status());
  })));
  RETURN_IF_ERROR(router.Add("DELETE", "/api/v1/networks/{name}", admin([](Engine& e, const http::Request& req) {
    Status s = e.RemoveNetwork(req.params.at("name"));
    return s.ok() ? http::Response{204, "", "", {}} : Error(s);
  })));
  RETURN_IF_ERROR(router.Add("POST", "/api/v1/networks/{name}/connect", admin([](Engine& e, const http::Request& req) {
    auto body = http::ParseJsonBody(req);
    if (!body.ok()) return Error(body.status());
    if (!body->is_object() || !(*body)["target"].is_string()) {
      return http::JsonError(400, "connect needs {\"target\": ENDPOINT | NETNS-NAME | /proc/PID/ns/net}");
    }
    std::string target = (*body)["target"].get<std::string>();
    body->erase("target");
    (*body)["network"] = req.params.at("name");
    auto attach = net::AttachRequestFromJson(*body);
    if (!attach.ok()) return Error(attach.status());
    auto view = e.Connect(target, *attach);
    return view.ok() ? http::Response::Json(200, view->ToJson()) : Error(view.status());
  })));
  RETURN_IF_ERROR(router.Add("POST", "/api/v1/networks/{name}/disconnect", admin([](Engine& e, const http::Request& req) {
    auto body = http::ParseJsonBody(req);
    if (!body.ok()) return Error(body.status());
    if (!body->is_object() || !(*body)["target"].is_string()) return http::JsonError(400, "disconnect needs {\"target\": ENDPOINT}");
    Status s = e.Disconnect((*body)["target"].get<std::string>(), req.params.at("name"));
    return s.ok() ? http::Response{204, "", "", {}} : Error(s);
  })));

  RETURN_IF_ERROR(router.Add("GET", "/api/v1/endpoints", admin([](Engine& e, const http::Request&) {
    json out = json::array();
    for (const auto& v : e.Endpoints()) out.push_back(v.ToJson());
    return http::Response::Json(200, out);
  })));
  RETURN_IF_ERROR(router.Add("POST", "/api/v1/endpoints", admin([](Engine& e, const http::Request& req) {
    auto body = http::ParseJsonBody(req);
    if (!body.ok()) return Error(body.status());
    auto request = net::EndpointRequestFromJson(*body);
    if (!request.ok()) return Error(request.status());
    auto view = e.CreateEndpoint(*request);
    return view.ok() ? http::Response::Json(201, view->ToJson()) : Error(view.status());
  })));
  RETURN_IF_ERROR(router.Add("GET", "/api/v1/endpoints/{name}", admin([](Engine& e, const http::Request& req) {
    auto view = e.GetEndpoint(req.params.at("name"));
    return view.ok() ? http::Response::Json(200, view->ToJson()) : Error(view.status());
  })));
  RETURN_IF_ERROR(router.Add("DELETE", "/api/v1/endpoints/{name}", admin([](Engine& e, const http::Request& req) {
    Status s = e.RemoveEndpoint(req.params.at("name"));
    return s.ok() ? http::Response{204, "", "", {}} : Error(s);
  })));
  RETURN_IF_ERROR(router.Add("PUT", "/api/v1/endpoints/{name}/pid", admin([](Engine& e, const http::Request& req) {
    auto body = http::ParseJsonBody(req);
    if (!body.ok()) return Error(body.status());
    if (!body->is_object() || !(*body)["pid"].is_number_integer()) return http::JsonError(400, "expected {\"pid\": N}");
    Status s = e.SetEndpointPid(req.params.at("name"), (*body)["pid"].get<int64_t>());
    return s.ok() ? http::Response{204, "", "", {}} : Error(s);
  })));
  RETURN_IF_ERROR(router.Add("POST", "/api/v1/endpoints/{name}/stop", admin([](Engine& e, const http::Request& req) {
    auto view = e.GetEndpoint(req.params.at("name"));
    if (!view.ok()) return Error(view.status());
    int grace = kStopGraceMs;
    if (std::string_view t = req.query_param("t"); !t.empty()) {
      int seconds = 0;
      auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), seconds);
      if (ec != std::errc() || end != t.data() + t.size() || seconds < 0 || seconds > 300) {
        return http::JsonError(400, "t must be a number of seconds (0-300)");
      }
      grace = seconds * 1000;
    }
    if (view->pid > 0) {
      if (Status s = StopProcess(view->pid, grace); !s.ok()) return Error(s);
    }
    // No process (or it is gone): remove the endpoint now; kNotFound means the watcher did.
    Status s = e.RemoveEndpoint(view->name);
    if (!s.ok() && s.code() != Code::kNotFound) return Error(s);
    return http::Response{204, "", "", {}};
  })));
  return Status::Ok();
}

}  // namespace berth::api
