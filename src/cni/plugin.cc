#include "cni/plugin.h"

#include <nlohmann/json.hpp>

#include "cni/request.h"
#include "cni/result.h"
#include "http/client.h"

namespace berth::cni {
namespace {

using nlohmann::json;

int PrintError(std::ostream& out, const std::string& version, const Error& e) {
  out << ErrorJson(version, e).dump() << "\n";
  return 1;
}

}  // namespace

int RunPlugin(const std::map<std::string, std::string>& env, std::string_view config, std::ostream& out) {
  const std::string version = ReplyVersion(config);
  // VERSION answers what berth supports whatever the config says (or without one): the
  // runtime decides from that list.
  if (auto cmd = env.find("CNI_COMMAND"); cmd != env.end() && cmd->second == "VERSION") {
    out << VersionJson(version).dump() << "\n";
    return 0;
  }
  Request request;
  if (Error e = ParseRequest(env, config, &request); !e.ok()) return PrintError(out, version, e);

  json forwarded_env = json::object();
  for (const auto& [k, v] : env) {
    if (k.rfind("CNI_", 0) == 0) forwarded_env[k] = v;
  }
  json body = {{"env", forwarded_env}, {"config", std::string(config)}};
  http::ClientOptions options;
  options.connect_timeout = std::chrono::milliseconds(3'000);
  options.read_timeout = std::chrono::milliseconds(60'000);
  http::Client client(request.conf.socket, options);
  auto reply = client.Do("POST", "/api/v1/cni", body.dump(), {{"Content-Type", "application/json"}});
  bool status_command = request.command == Command::kStatus;
  if (!reply.ok()) {
    // STATUS reports "cannot serve ADD"; the others ask the runtime to try again.
    return PrintError(out, version, Error{status_command ? kNotAvailable : kTryAgainLater,
                                          "berthd is not reachable on its socket", reply.status().message()});
  }
  if (reply->status == 200) {
    json result = json::parse(reply->body, nullptr, false);
    if (result.is_discarded()) return PrintError(out, version, Error{kDaemonError, "berthd answered something that is not JSON"});
    out << result.dump() << "\n";
    return 0;
  }
  if (reply->status == 204) return 0;
  json err = json::parse(reply->body, nullptr, false);
  if (err.is_object() && err.contains("code") && err["code"].is_number_integer() && err.contains("msg")) {
    out << err.dump() << "\n";
    return 1;
  }
  std::string message = err.is_object() && err.contains("error") && err["error"].is_string() ? err["error"].get<std::string>() : reply->body.substr(0, 200);
  return PrintError(out, version, Error{kDaemonError, "berthd refused the request (HTTP " + std::to_string(reply->status) + ")", message});
}

}  // namespace berth::cni
