#include "net/model/network.h"

#include <openssl/rand.h>

#include <ctime>

#include "net/ipam/ipam.h"
#include "net/model/json_fields.h"

namespace berth::net {
namespace {

using nlohmann::json;

const JsonFields kField("network");

bool ValidInterfaceName(std::string_view name) {
  if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
  for (char ch : name) {
    if (ch == '/' || ch == ':' || ch <= ' ' || ch == 0x7f) return false;
  }
  return true;
}

}  // namespace

std::string_view DriverName(Driver d) { return d == Driver::kBridge ? "bridge" : "macvlan"; }

Status ValidateName(std::string_view kind, std::string_view name) {
  const std::string what = std::string(kind) + " name '" + std::string(name) + "'";
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  if (name.empty()) return InvalidArgument(std::string(kind) + " name is empty");
  if (name.size() > 64) return InvalidArgument(what + " is longer than 64 characters");
  if (!alnum(name[0])) return InvalidArgument(what + " must start with a letter or digit");
  for (char c : name) {
    if (!alnum(c) && c != '_' && c != '.' && c != '-') {
      return InvalidArgument(what + " may only hold letters, digits, '_', '.' and '-'");
    }
  }
  return Status::Ok();
}

Result<NetworkSpec> NetworkSpecFromJson(const json& j) {
  if (!j.is_object()) return InvalidArgument("a network must be a JSON object");
  NetworkSpec spec;
  for (const auto& [key, value] : j.items()) {
    if (key == "name") {
      ASSIGN_OR_RETURN(spec.name, kField.String(value, key));
    } else if (key == "driver") {
      ASSIGN_OR_RETURN(std::string d, kField.String(value, key));
      if (d == "bridge") spec.driver = Driver::kBridge;
      else if (d == "macvlan") spec.driver = Driver::kMacvlan;
      else return kField.Error(key, "unknown driver '" + d + "' (bridge or macvlan)");
    } else if (key == "subnets") {
      if (!value.is_array()) return kField.Error(key, "must be an array");
      for (size_t i = 0; i < value.size(); ++i) {
        const json& s = value[i];
        std::string field = "subnets[" + std::to_string(i) + "]";
        if (!s.is_object()) return kField.Error(field, "must be an object");
        SubnetSpec sub;
        bool have_subnet = false;
        for (const auto& [k, v] : s.items()) {
          if (k == "subnet") {
            ASSIGN_OR_RETURN(sub.subnet, kField.Prefix(v, field + ".subnet"));
            have_subnet = true;
          } else if (k == "gateway") {
            if (!v.is_null()) { ASSIGN_OR_RETURN(sub.gateway, kField.Ip(v, field + ".gateway")); }
          } else if (k == "ip_range") {
            if (!v.is_null()) { ASSIGN_OR_RETURN(sub.ip_range, kField.Prefix(v, field + ".ip_range")); }
          } else if (k == "range_start") {
            if (!v.is_null()) { ASSIGN_OR_RETURN(sub.range_start, kField.Ip(v, field + ".range_start")); }
          } else if (k == "range_end") {
            if (!v.is_null()) { ASSIGN_OR_RETURN(sub.range_end, kField.Ip(v, field + ".range_end")); }
          } else {
            return kField.Error(field + "." + k, "unknown field");
          }
        }
        if (!have_subnet) return kField.Error(field + ".subnet", "is required");
        spec.subnets.push_back(sub);
      }
    } else if (key == "aux_addresses") {
      if (!value.is_object()) return kField.Error(key, "must be an object of name: address");
      for (const auto& [name, ip] : value.items()) {
        ASSIGN_OR_RETURN(IpAddress addr, kField.Ip(ip, key + "." + name));
        spec.aux_addresses[name] = addr;
      }
    } else if (key == "internal") {
      ASSIGN_OR_RETURN(spec.internal, kField.Bool(value, key));
    } else if (key == "attachable") {
      ASSIGN_OR_RETURN(spec.attachable, kField.Bool(value, key));
    } else if (key == "ipv6") {
      ASSIGN_OR_RETURN(spec.ipv6, kField.Bool(value, key));
    } else if (key == "icc") {
      ASSIGN_OR_RETURN(spec.icc, kField.Bool(value, key));
    } else if (key == "mtu") {
      if (!value.is_number_integer()) return kField.Error(key, "must be an integer");
      int64_t mtu = value.get<int64_t>();
      if (mtu != 0 && (mtu < 68 || mtu > 65535)) return kField.Error(key, "must be between 68 and 65535");
      spec.mtu = static_cast<int>(mtu);
    } else if (key == "parent") {
      ASSIGN_OR_RETURN(spec.parent, kField.String(value, key));
    } else if (key == "labels") {
      if (!value.is_object()) return kField.Error(key, "must be an object of strings");
      for (const auto& [k, v] : value.items()) {
        ASSIGN_OR_RETURN(spec.labels[k], kField.String(v, "labels." + k));
      }
    } else {
      return kField.Error(key, "unknown field");
    }
  }
  return spec;
}

json NetworkSpecToJson(const NetworkSpec& spec) {
  json subnets = json::array();
  for (const SubnetSpec& s : spec.subnets) {
    json o = {{"subnet", s.subnet.ToString()}};
    if (s.gateway) o["gateway"] = s.gateway->ToString();
    if (s.ip_range) o["ip_range"] = s.ip_range->ToString();
    if (s.range_start) o["range_start"] = s.range_start->ToString();
    if (s.range_end) o["range_end"] = s.range_end->ToString();
    subnets.push_back(o);
  }
  json aux = json::object();
  for (const auto& [name, ip] : spec.aux_addresses) aux[name] = ip.ToString();
  json j = {{"name", spec.name},       {"driver", DriverName(spec.driver)},
            {"subnets", subnets},      {"aux_addresses", aux},
            {"internal", spec.internal}, {"attachable", spec.attachable},
            {"ipv6", spec.ipv6},       {"icc", spec.icc},
            {"mtu", spec.mtu},         {"labels", spec.labels}};
  if (!spec.parent.empty()) j["parent"] = spec.parent;
  return j;
}

Status NormalizeSpec(NetworkSpec& spec) {
  RETURN_IF_ERROR(ValidateNetworkName(spec.name));
  if (spec.mtu != 0 && (spec.mtu < 68 || spec.mtu > 65535)) {
    return InvalidArgument("mtu " + std::to_string(spec.mtu) + " is not between 68 and 65535");
  }
  if (spec.driver == Driver::kMacvlan) {
    if (spec.parent.empty()) return InvalidArgument("the macvlan driver needs a parent link (-o parent=IFACE)");
    if (!ValidInterfaceName(spec.parent)) return InvalidArgument("parent '" + spec.parent + "' is not a valid interface name");
    if (spec.internal) return InvalidArgument("--internal is only supported by the bridge driver");
  } else if (!spec.parent.empty()) {
    return InvalidArgument("-o parent is only for the macvlan driver");
  }
  for (size_t i = 0; i < spec.subnets.size(); ++i) {
    SubnetSpec& s = spec.subnets[i];
    const std::string what = "subnet " + s.subnet.ToString();
    if (!s.subnet.network().is_v4() && !spec.ipv6) {
      return InvalidArgument(what + " is IPv6: create the network with --ipv6");
    }
    ASSIGN_OR_RETURN(auto hosts, HostRange(s.subnet));
    for (size_t k = 0; k < i; ++k) {
      if (spec.subnets[k].subnet.Overlaps(s.subnet)) {
        return InvalidArgument(what + " overlaps subnet " + spec.subnets[k].subnet.ToString());
      }
    }
    if (s.gateway) {
      if (s.gateway->family() != s.subnet.network().family() || !s.subnet.Contains(*s.gateway)) {
        return InvalidArgument("gateway " + s.gateway->ToString() + " is not inside " + what);
      }
      AddressOffset at = OffsetOf(s.subnet, *s.gateway);
      if (at < hosts.first || at > hosts.second) {
        return InvalidArgument("gateway " + s.gateway->ToString() + " is not a host address of " + what);
      }
    } else {
      s.gateway = AddressAt(s.subnet, hosts.first);
    }
    if (s.ip_range && (s.ip_range->network().family() != s.subnet.network().family() ||
                       s.ip_range->prefix_length() < s.subnet.prefix_length() ||
                       !s.subnet.Contains(s.ip_range->network()))) {
      return InvalidArgument("ip range " + s.ip_range->ToString() + " is not inside " + what);
    }
    if (s.range_start.has_value() != s.range_end.has_value()) {
      return InvalidArgument(what + ": a range start needs a range end, and the other way round");
    }
    if (s.range_start) {
      std::vector<IpAddress> none;
      RETURN_IF_ERROR(AllocatorFor(s, none).status().WithContext(what));
    }
  }
  for (const auto& [name, ip] : spec.aux_addresses) {
    if (name.empty()) return InvalidArgument("aux address names must not be empty");
    const SubnetSpec* s = SubnetFor(spec, ip);
    if (s == nullptr) return InvalidArgument("aux address " + name + "=" + ip.ToString() + " is not inside any subnet of the network");
    if (s->gateway && *s->gateway == ip) {
      return InvalidArgument("aux address " + name + "=" + ip.ToString() + " is the gateway");
    }
  }
  for (const auto& [key, value] : spec.labels) {
    if (key.empty()) return InvalidArgument("label keys must not be empty");
  }
  return Status::Ok();
}

const SubnetSpec* SubnetFor(const NetworkSpec& spec, const IpAddress& ip) {
  for (const SubnetSpec& s : spec.subnets) {
    if (s.subnet.network().family() == ip.family() && s.subnet.Contains(ip)) return &s;
  }
  return nullptr;
}

std::string NewNetworkId() {
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof(raw)) != 1) {
    // RAND_bytes only fails without an entropy source; time + address still give a unique id.
    uint64_t seed = static_cast<uint64_t>(std::time(nullptr)) ^ reinterpret_cast<uintptr_t>(raw);
    for (unsigned char& b : raw) b = static_cast<unsigned char>(seed = seed * 6364136223846793005ULL + 1442695040888963407ULL);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (unsigned char b : raw) {
    id += kHex[b >> 4];
    id += kHex[b & 15];
  }
  return id;
}

Result<SubnetAllocator> AllocatorFor(const SubnetSpec& s, std::span<const IpAddress> reserved) {
  std::optional<std::pair<IpAddress, IpAddress>> bounds;
  if (s.range_start && s.range_end) bounds.emplace(*s.range_start, *s.range_end);
  return SubnetAllocator::Make(s.subnet, s.ip_range, reserved, bounds);
}

std::string BridgeNameFor(const std::string& id) { return std::string(kBridgePrefix) + id.substr(0, 9); }

json NetworkToInspectJson(const Network& n) {
  const NetworkSpec& s = n.spec;
  json config = json::array();
  for (const SubnetSpec& sub : s.subnets) {
    json c = {{"Subnet", sub.subnet.ToString()}};
    if (sub.gateway) c["Gateway"] = sub.gateway->ToString();
    if (sub.ip_range) c["IPRange"] = sub.ip_range->ToString();
    if (sub.range_start) c["RangeStart"] = sub.range_start->ToString();
    if (sub.range_end) c["RangeEnd"] = sub.range_end->ToString();
    json aux = json::object();
    for (const auto& [name, ip] : s.aux_addresses) {
      if (sub.subnet.Contains(ip)) aux[name] = ip.ToString();
    }
    if (!aux.empty()) c["AuxiliaryAddresses"] = aux;
    config.push_back(c);
  }
  char created[32] = "";
  time_t t = static_cast<time_t>(n.created_at);
  struct tm tm_utc;
  gmtime_r(&t, &tm_utc);
  strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm_utc);
  json options = json::object();
  if (s.mtu) options["mtu"] = std::to_string(s.mtu);
  if (!s.parent.empty()) options["parent"] = s.parent;
  if (s.driver == Driver::kBridge) {
    options["bridge_name"] = n.bridge;
    options["icc"] = s.icc ? "true" : "false";
  }
  return {{"Name", s.name},
          {"Id", n.id},
          {"Created", created},
          {"Scope", "local"},
          {"Driver", DriverName(s.driver)},
          {"EnableIPv6", s.ipv6},
          {"IPAM", {{"Driver", "default"}, {"Config", config}}},
          {"Internal", s.internal},
          {"Attachable", s.attachable},
          {"Options", options},
          {"Labels", s.labels},
          {"Containers", json::object()}};
}

}  // namespace berth::net
