// The network model: what an operator asks for (NetworkSpec: `berth network create` flags, the
// API's JSON) and what berth made of it (Network: id, bridge name, chosen subnets and gateways).
// Validation of everything a spec can tell on its own lives here; what needs the other networks
// and the host (overlaps, free subnets, parent links) is the engine's. Plain values:
// thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/net_address.h"
#include "core/status.h"
#include "net/ipam/ipam.h"

namespace berth::net {

enum class Driver : uint8_t { kBridge, kMacvlan };
std::string_view DriverName(Driver d);

struct SubnetSpec {
  Cidr subnet;
  std::optional<IpAddress> gateway;  // default: the subnet's first host address
  std::optional<Cidr> ip_range;      // dynamic allocation stays inside; default: whole subnet
  // A first and last address for dynamic allocation (CNI's rangeStart/rangeEnd); both or none.
  std::optional<IpAddress> range_start, range_end;
  bool operator==(const SubnetSpec&) const = default;
};

struct NetworkSpec {
  std::string name;
  Driver driver = Driver::kBridge;
  std::vector<SubnetSpec> subnets;            // empty: the engine picks one from the pools
  std::map<std::string, IpAddress> aux_addresses;  // reserved, never handed out
  bool internal = false;    // no route out, no masquerade
  bool attachable = false;  // Docker's flag; recorded and shown (every berth network attaches)
  bool ipv6 = false;        // dual stack: needs (or gets) an IPv6 subnet
  int mtu = 0;              // 0 = the kernel's default
  std::string parent;       // macvlan: the host link ("eth0", or "eth0.50" for a VLAN)
  bool icc = true;          // traffic between endpoints of this network
  std::map<std::string, std::string> labels;
  bool operator==(const NetworkSpec&) const = default;
};

// A created network: the spec with its subnets and gateways filled in.
struct Network {
  std::string id;        // 64 lower-case hex digits
  NetworkSpec spec;
  std::string bridge;    // bridge driver: the Linux bridge's name; macvlan: the parent link
  int64_t created_at = 0;  // Unix seconds
};

// Docker's rule for network and container names: [A-Za-z0-9][A-Za-z0-9_.-]*, at most 64
// characters. `kind` ("network", "endpoint") starts the error message. kInvalidArgument.
Status ValidateName(std::string_view kind, std::string_view name);
inline Status ValidateNetworkName(std::string_view name) { return ValidateName("network", name); }

// Parses the API's network JSON (see docs/api.md) into a spec; every field is checked, unknown
// keys are refused. kInvalidArgument naming the field.
Result<NetworkSpec> NetworkSpecFromJson(const nlohmann::json& j);
nlohmann::json NetworkSpecToJson(const NetworkSpec& spec);

// Checks the spec on its own and fills defaults (gateways): names, subnets without host bits,
// gateway / ip range / aux addresses inside their subnet, no overlap between the spec's own
// subnets, IPv6 subnets only with ipv6, driver options (macvlan needs a parent, bridges take
// none), MTU 68-65535. kInvalidArgument with the reason.
Status NormalizeSpec(NetworkSpec& spec);

// The allocator of one subnet of a network: gateway and `reserved` kept back, dynamic addresses
// from ip_range and range_start..range_end. kInvalidArgument.
Result<SubnetAllocator> AllocatorFor(const SubnetSpec& s, std::span<const IpAddress> reserved);

// The subnet spec holding `ip`, or nullptr.
const SubnetSpec* SubnetFor(const NetworkSpec& spec, const IpAddress& ip);

// A new random network id (64 hex digits).
std::string NewNetworkId();
// Interface names berth owns start with these prefixes (and only those are ever removed as
// orphans): bridges "berth-" + 9 id digits (15 characters, the kernel's limit; Docker's "br-"
// names stay Docker's), the default network's bridge "berth0", host veth ends "vb-" + 12 hex.
inline constexpr std::string_view kBridgePrefix = "berth-";
inline constexpr std::string_view kDefaultBridge = "berth0";
inline constexpr std::string_view kVethPrefix = "vb-";
std::string BridgeNameFor(const std::string& id);

// `docker network inspect`-shaped JSON (Name, Id, Created, Driver, IPAM.Config, ...);
// `containers` is filled in by the caller.
nlohmann::json NetworkToInspectJson(const Network& n);

}  // namespace berth::net
