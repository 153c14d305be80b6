// The shape of berth's one nftables table: its fixed skeleton (sets, maps, chains, rules) as
// text, which sets and maps a network or a published port becomes elements of, and the
// element text Replace writes. Pure functions over values, thread-safe. Inputs are validated here before any text is built, so nothing a caller passes
// can inject nft syntax: names are checked against a strict alphabet, addresses are printed
// from parsed IpAddress values.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/net_address.h"
#include "core/status.h"
#include "net/model/protocol.h"

namespace berth::net {

// One bridge network.
struct NetworkRules {
  std::string bridge;         // e.g. "br-3f2a9c"
  std::vector<Cidr> subnets;  // v4 and/or v6; unused by the rules, which match the bridge
  bool internal = false;      // no forwarding in or out; only the host (gateway) is reachable
  bool masquerade = true;     // egress NAT to the outside for non-internal networks
  bool icc = true;            // routed traffic between containers of the network (L2: see docs)
};

// One published port (ranges are expanded by the caller).
struct PortRule {
  std::optional<IpAddress> host_ip;  // nullopt (or 0.0.0.0 / ::) = every local address
  Protocol protocol = Protocol::kTcp;
  uint16_t host_port = 0;
  IpAddress container_ip;            // same family as host_ip when host_ip is set
  uint16_t container_port = 0;
  std::string bridge;                // the container's network bridge (validated, unused)
};

// Table names: [A-Za-z_][A-Za-z0-9_]{0,63}. kInvalidArgument otherwise.
Status ValidateTableName(std::string_view name);
// Linux interface names as berth creates them: 1-15 of [A-Za-z0-9_.-], not "." or "..".
// kInvalidArgument otherwise.
Status ValidateBridgeName(std::string_view name);
// kInvalidArgument: bad bridge name.
Status ValidateNetwork(const NetworkRules& n);
// kInvalidArgument: port 0, unspecified container address, host and container families
// differ (also for an unspecified host address: "::" cannot DNAT to IPv4), bad bridge name.
Status ValidatePort(const PortRule& p);

// Packet mark bit the forward chain sets on DNATed traffic routed back into the bridge it
// came from (hairpin), for the masquerade in postrouting, which cannot see the input
// interface of bridged packets when br_netfilter is on. Cleared again there.
inline constexpr uint32_t kHairpinMark = 0x00002000;

// The table with all its sets, maps and chains and no elements, as one "table inet T { ... }"
// block (which adds whatever is missing). Precondition: valid table name.
std::string TableSkeleton(std::string_view table);

// What one port puts in which map. Precondition: ValidatePort(p).
struct PortElement {
  std::string_view map;  // "pub4", "pub4_any", "pub6", "pub6_any"
  std::string key;       // e.g. "192.0.2.1 . tcp . 8080"
  std::string value;     // e.g. "172.18.0.2 . 80"
};
PortElement ElementOf(const PortRule& p);

// The sets a network's bridge is an element of: always "bridges" and "same" (whose element
// is the pair bridge . bridge), then "internal", "icc_off", "masq" as its flags say.
// `all_flags` lists every flag set (removal clears them whatever the flags were).
std::vector<std::string_view> SetsOf(const NetworkRules& n, bool all_flags = false);

// "add element" lines filling every set and map (at most one line per set) for Replace.
std::string AllElements(std::string_view table, std::span<const NetworkRules> networks,
                        std::span<const PortRule> ports);

}  // namespace berth::net
