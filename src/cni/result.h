// What a CNI plugin prints: the ADD/CHECK result in the format of the config's cniVersion
// (0.3.x/0.4.0 ips carry "version"), chained onto a prevResult; the error object; the VERSION
// answer. Pure functions over values: thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cni/request.h"
#include "core/net_address.h"

namespace berth::cni {

// One interface of the result; `sandbox` set for the one inside the container.
struct ResultInterface {
  std::string name, mac, sandbox;
};

struct ResultAddress {
  IpAddress address;
  int prefix = 0;
  std::optional<IpAddress> gateway;
  size_t interface = 0;  // index into our interfaces
};

// What berth made for one ADD.
struct AddOutcome {
  std::vector<ResultInterface> interfaces;
  std::vector<ResultAddress> addresses;
  std::vector<IpAddress> default_gateways;  // a default route via each
  std::vector<IpAddress> nameservers;       // berth's DNS for the network
};

// The result JSON for `version`: our interfaces/ips/routes appended to `prev` (a chained
// plugin's prevResult, whose own entries are kept), dns merged with the config's "dns".
nlohmann::json BuildResult(const std::string& version, const AddOutcome& ours,
                           const std::optional<nlohmann::json>& prev, const nlohmann::json& conf_dns);

// {"cniVersion", "code", "msg", "details"}.
nlohmann::json ErrorJson(const std::string& version, const Error& error);

// {"cniVersion", "supportedVersions"}.
nlohmann::json VersionJson(const std::string& version);

}  // namespace berth::cni
