#include "net/firewall/ruleset.h"

#include <fmt/format.h>

#include <map>

namespace berth::net {
namespace {

bool IsUnspecified(const IpAddress& ip) {
  for (size_t i = 0; i < ip.size(); ++i) {
    if (ip.bytes()[i] != 0) return false;
  }
  return true;
}

// Quoted ifname element; safe because ValidateBridgeName allows no quote or space.
std::string Quoted(std::string_view name) { return fmt::format("\"{}\"", name); }

std::string_view ProtoName(Protocol p) { return p == Protocol::kTcp ? "tcp" : "udp"; }

void AppendElements(std::string& out, std::string_view verb, std::string_view table,
                    std::string_view set, const std::vector<std::string>& elems) {
  if (elems.empty()) return;
  fmt::format_to(std::back_inserter(out), "{} element inet {} {} {{ ", verb, table, set);
  for (size_t i = 0; i < elems.size(); ++i) {
    if (i) out += ", ";
    out += elems[i];
  }
  out += " }\n";
}

}  // namespace

Status ValidateTableName(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return InvalidArgument(fmt::format("table name '{}' must have 1-64 characters", name));
  }
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return InvalidArgument(fmt::format("table name '{}': only [A-Za-z_][A-Za-z0-9_]*", name));
  }
  return Status::Ok();
}

Status ValidateBridgeName(std::string_view name) {
  if (name.empty() || name.size() > 15) {
    return InvalidArgument(fmt::format("bridge name '{}' must have 1-15 characters", name));
  }
  if (name == "." || name == "..") return InvalidArgument("bridge name cannot be '.' or '..'");
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return InvalidArgument(fmt::format("bridge name '{}': only [A-Za-z0-9_.-]", name));
  }
  return Status::Ok();
}

Status ValidateNetwork(const NetworkRules& n) { return ValidateBridgeName(n.bridge); }

Status ValidatePort(const PortRule& p) {
  RETURN_IF_ERROR(ValidateBridgeName(p.bridge));
  if (p.host_port == 0) return InvalidArgument("host port 0");
  if (p.container_port == 0) return InvalidArgument("container port 0");
  if (IsUnspecified(p.container_ip)) {
    return InvalidArgument(fmt::format("container address {} is unspecified", p.container_ip.ToString()));
  }
  if (p.host_ip && !IsUnspecified(*p.host_ip) && p.host_ip->family() != p.container_ip.family()) {
    return InvalidArgument(fmt::format("host address {} and container address {} differ in family",
                                       p.host_ip->ToString(), p.container_ip.ToString()));
  }
  if (p.host_ip && IsUnspecified(*p.host_ip) && p.host_ip->family() != p.container_ip.family()) {
    return InvalidArgument("unspecified host address of the other family than the container's");
  }
  return Status::Ok();
}

std::string TableSkeleton(std::string_view t) {
  // Why each piece is there: docs/firewall.md. No interval sets: libnftables fetches every
  // element of interval sets before each command, which would make adds O(n).
  return fmt::format(R"(table inet {0} {{
  set bridges {{ type ifname; }}
  set same {{ type ifname . ifname; }}
  set internal {{ type ifname; }}
  set icc_off {{ type ifname; }}
  set masq {{ type ifname; }}
  map pub4 {{ type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }}
  map pub4_any {{ type inet_proto . inet_service : ipv4_addr . inet_service; }}
  map pub6 {{ type ipv6_addr . inet_proto . inet_service : ipv6_addr . inet_service; }}
  map pub6_any {{ type inet_proto . inet_service : ipv6_addr . inet_service; }}
  chain guard {{
    type filter hook prerouting priority raw; policy accept;
    iifname != "lo" ip daddr 127.0.0.0/8 drop
  }}
  chain prerouting {{
    type nat hook prerouting priority dstnat; policy accept;
    fib daddr type local meta l4proto {{ tcp, udp }} goto publish
  }}
  chain output {{
    type nat hook output priority -100; policy accept;
    fib daddr type local meta l4proto {{ tcp, udp }} goto publish
  }}
  chain publish {{
    ip6 daddr ::1 return
    meta nfproto ipv4 dnat ip to ip daddr . meta l4proto . th dport map @pub4
    meta nfproto ipv4 dnat ip to meta l4proto . th dport map @pub4_any
    meta nfproto ipv6 dnat ip6 to ip6 daddr . meta l4proto . th dport map @pub6
    meta nfproto ipv6 dnat ip6 to meta l4proto . th dport map @pub6_any
  }}
  chain postrouting {{
    type nat hook postrouting priority srcnat; policy accept;
    meta mark & {1:#010x} != 0 meta mark set meta mark & {2:#010x} masquerade
    ct status dnat oifname @bridges ip saddr 127.0.0.0/8 masquerade
    iifname @masq oifname != @bridges masquerade
  }}
  chain forward {{
    type filter hook forward priority filter; policy accept;
    ct state new ct status dnat iifname . oifname @same meta mark set meta mark | {1:#010x}
    iifname . oifname @same iifname != @icc_off accept
    iifname @internal drop
    oifname @internal drop
    ct state established,related accept
    oifname @bridges ct status dnat accept
    oifname @bridges drop
  }}
}}
)",
                     t, kHairpinMark, ~kHairpinMark);
}

PortElement ElementOf(const PortRule& p) {
  PortElement e;
  bool v4 = p.container_ip.is_v4();
  bool any = !p.host_ip || IsUnspecified(*p.host_ip);
  e.map = v4 ? (any ? "pub4_any" : "pub4") : (any ? "pub6_any" : "pub6");
  e.key = any ? fmt::format("{} . {}", ProtoName(p.protocol), p.host_port)
              : fmt::format("{} . {} . {}", p.host_ip->ToString(), ProtoName(p.protocol), p.host_port);
  e.value = fmt::format("{} . {}", p.container_ip.ToString(), p.container_port);
  return e;
}

std::vector<std::string_view> SetsOf(const NetworkRules& n, bool all_flags) {
  std::vector<std::string_view> sets = {"bridges", "same"};
  if (all_flags || n.internal) sets.push_back("internal");
  if (all_flags || !n.icc) sets.push_back("icc_off");
  if (all_flags || (n.masquerade && !n.internal)) sets.push_back("masq");
  return sets;
}

std::string AllElements(std::string_view table, std::span<const NetworkRules> networks,
                        std::span<const PortRule> ports) {
  std::map<std::string_view, std::vector<std::string>> sets;
  for (const NetworkRules& n : networks) {
    for (std::string_view set : SetsOf(n)) {
      sets[set].push_back(set == "same" ? Quoted(n.bridge) + " . " + Quoted(n.bridge) : Quoted(n.bridge));
    }
  }
  std::string out;
  for (auto& [set, elems] : sets) AppendElements(out, "add", table, set, elems);
  std::map<std::string_view, std::vector<std::string>> maps;
  for (const PortRule& p : ports) {
    PortElement e = ElementOf(p);
    maps[e.map].push_back(e.key + " : " + e.value);
  }
  for (auto& [map, elems] : maps) AppendElements(out, "add", table, map, elems);
  return out;
}

}  // namespace berth::net
