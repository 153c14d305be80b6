#include "net/engine/endpoint.h"

#include "net/model/json_fields.h"
#include "net/model/network.h"

namespace berth::net {
namespace {

using nlohmann::json;

const JsonFields kField("endpoint");

}  // namespace

Status ValidateInterfaceName(std::string_view name) {
  if (name.empty() || name.size() > 15) {
    return InvalidArgument("interface name '" + std::string(name.substr(0, 40)) + "' must have 1-15 characters");
  }
  if (name == "." || name == "..") return InvalidArgument("interface name '" + std::string(name) + "' is not allowed");
  for (char c : name) {
    if (c == '/' || c == ':' || c <= ' ' || c == 0x7f) {
      return InvalidArgument("interface name '" + std::string(name) + "' may not hold '/', ':', white space or control characters");
    }
  }
  return Status::Ok();
}

Status ValidateAlias(std::string_view alias) {
  if (alias.empty() || alias.size() > 253) return InvalidArgument("alias '" + std::string(alias) + "' must have 1-253 characters");
  size_t label = 0;
  for (char c : alias) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) return InvalidArgument("alias '" + std::string(alias) + "' may only hold letters, digits, '-', '_' and '.'");
    label = c == '.' ? 0 : label + 1;
    if (label > 63) return InvalidArgument("alias '" + std::string(alias) + "' has a label longer than 63 characters");
  }
  if (alias.front() == '.' || alias.back() == '.' || alias.find("..") != std::string_view::npos) {
    return InvalidArgument("alias '" + std::string(alias) + "' has an empty label");
  }
  return Status::Ok();
}

Result<AttachRequest> AttachRequestFromJson(const json& j) {
  if (!j.is_object()) return InvalidArgument("a network attachment must be a JSON object");
  AttachRequest a;
  for (const auto& [key, value] : j.items()) {
    if (key == "network") {
      ASSIGN_OR_RETURN(a.network, kField.String(value, key));
    } else if (key == "ip") {
      if (!value.is_null()) { ASSIGN_OR_RETURN(a.ipv4, kField.Ip(value, key, IpAddress::Family::kV4)); }
    } else if (key == "ip6") {
      if (!value.is_null()) { ASSIGN_OR_RETURN(a.ipv6, kField.Ip(value, key, IpAddress::Family::kV6)); }
    } else if (key == "aliases") {
      if (!value.is_array()) return kField.Error(key, "must be an array of names");
      for (const json& alias : value) {
        ASSIGN_OR_RETURN(std::string name, kField.String(alias, "aliases[]"));
        RETURN_IF_ERROR(ValidateAlias(name));
        a.aliases.push_back(name);
      }
    } else if (key == "ifname") {
      ASSIGN_OR_RETURN(a.ifname, kField.String(value, key));
      RETURN_IF_ERROR(ValidateInterfaceName(a.ifname));
    } else if (key == "mac") {
      if (!value.is_null()) {
        ASSIGN_OR_RETURN(std::string text, kField.String(value, key));
        ASSIGN_OR_RETURN(a.mac, ParseMac(text));
      }
    } else {
      return kField.Error(key, "unknown field");
    }
  }
  RETURN_IF_ERROR(ValidateNetworkName(a.network));
  return a;
}

Result<EndpointRequest> EndpointRequestFromJson(const json& j) {
  if (!j.is_object()) return InvalidArgument("an endpoint must be a JSON object");
  EndpointRequest r;
  for (const auto& [key, value] : j.items()) {
    if (key == "name") {
      ASSIGN_OR_RETURN(r.name, kField.String(value, key));
    } else if (key == "netns") {
      ASSIGN_OR_RETURN(r.netns, kField.String(value, key));
      if (!r.netns.empty() && r.netns[0] != '/') return kField.Error(key, "must be an absolute path");
    } else if (key == "networks") {
      if (!value.is_array()) return kField.Error(key, "must be an array");
      for (const json& n : value) {
        ASSIGN_OR_RETURN(AttachRequest a, AttachRequestFromJson(n));
        for (const AttachRequest& other : r.networks) {
          if (other.network == a.network) return kField.Error(key, "network '" + a.network + "' is listed twice");
        }
        r.networks.push_back(std::move(a));
      }
    } else if (key == "ports") {
      if (!value.is_array()) return kField.Error(key, "must be an array of -p strings");
      for (const json& p : value) {
        ASSIGN_OR_RETURN(std::string text, kField.String(p, "ports[]"));
        ASSIGN_OR_RETURN(PortSpec spec, ParsePortSpec(text));
        r.ports.push_back(spec);
      }
    } else if (key == "dns") {
      if (!value.is_array()) return kField.Error(key, "must be an array of addresses");
      for (const json& d : value) {
        ASSIGN_OR_RETURN(IpAddress ip, kField.Ip(d, "dns[]"));
        r.dns.push_back(ip);
      }
    } else if (key == "pid") {
      if (!value.is_number_integer() || value.get<int64_t>() < 0 || value.get<int64_t>() > (1 << 22)) {
        return kField.Error(key, "must be a process id");
      }
      r.pid = value.get<int64_t>();
    } else {
      return kField.Error(key, "unknown field");
    }
  }
  RETURN_IF_ERROR(ValidateName("endpoint", r.name));
  if (!r.ports.empty() && r.networks.empty()) {
    return InvalidArgument("published ports need a network (not --network none)");
  }
  return r;
}

}  // namespace berth::net
