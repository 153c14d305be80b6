// Endpoint requests and views: what `berth run` / `berth network connect` / the API ask the
// engine for (EndpointRequest, AttachRequest), parsed and validated from the API's JSON, and
// the JSON the engine reports back. Plain values and pure functions: thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/net_address.h"
#include "core/status.h"
#include "net/kernel/mac.h"
#include "net/model/port_spec.h"

namespace berth::net {

// One network an endpoint joins.
struct AttachRequest {
  std::string network;
  std::optional<IpAddress> ipv4, ipv6;   // static addresses (--ip / --ip6)
  std::vector<std::string> aliases;      // extra DNS names on this network
  std::string ifname;                    // inside the namespace; "" = the next free ethN
  std::optional<MacAddress> mac;         // default: derived from the address (MacForIp)
};

struct EndpointRequest {
  std::string name;
  // The namespace to attach: a path (/run/netns/NAME, /proc/PID/ns/net) or "" for a new
  // namespace berth creates (and removes with the endpoint) at /run/netns/berth-NAME.
  std::string netns;
  std::vector<AttachRequest> networks;   // empty: only loopback (--network none)
  std::vector<PortSpec> ports;
  std::vector<IpAddress> dns;            // resolv.conf nameservers; default: the gateway
  int64_t pid = 0;                       // a process whose exit removes the endpoint
  // The container runtime's id when a CNI plugin made the endpoint (DEL/CHECK/GC find it by
  // this id); "" for berth's own endpoints.
  std::string container_id;
};

// Parses {"name", "netns", "networks": [{"network", "ip", "ip6", "aliases", "ifname", "mac"}],
// "ports": ["8080:80"], "dns": [...], "pid"}. kInvalidArgument naming the field.
Result<EndpointRequest> EndpointRequestFromJson(const nlohmann::json& j);
// {"network", "ip", "ip6", "aliases", "ifname", "mac"}. kInvalidArgument.
Result<AttachRequest> AttachRequestFromJson(const nlohmann::json& j);

// A Linux interface name: 1-15 characters, not "." or "..", no '/', ':' or white space.
Status ValidateInterfaceName(std::string_view name);

// A DNS alias (a host name label sequence: letters, digits, '-', '_' and dots). kInvalidArgument.
Status ValidateAlias(std::string_view alias);

}  // namespace berth::net
