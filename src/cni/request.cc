#include "cni/request.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/text.h"
#include "net/engine/endpoint.h"
#include "net/model/json_fields.h"

namespace berth::cni {
namespace {

using nlohmann::json;

// Stdin bigger than this is not a network configuration.
constexpr size_t kMaxConfigBytes = 1 << 20;

Error Fail(int code, std::string msg, std::string details = "") { return Error{code, std::move(msg), std::move(details)}; }

bool ParseVersion(std::string_view v, int out[3]) {
  int part = 0;
  out[0] = out[1] = out[2] = 0;
  size_t i = 0;
  while (part < 3) {
    size_t start = i;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9') ++i;
    if (i == start || i - start > 4) return false;
    std::from_chars(v.data() + start, v.data() + i, out[part]);
    ++part;
    if (i == v.size()) break;
    if (v[i] != '.') return false;
    ++i;
  }
  return part >= 1 && i == v.size();
}

// CNI_CONTAINERID: "alphanumeric, underscore, dot and hyphen", non-empty.
bool ValidContainerId(std::string_view id) {
  if (id.empty() || id.size() > 256) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
  });
}

Error ConfigError(const Status& s) { return Fail(kInvalidConfig, "invalid network configuration", s.message()); }

// One IPAM range: {subnet, gateway, rangeStart, rangeEnd}. `where` names it in errors.
Error ParseRange(const json& r, const std::string& where, net::SubnetSpec* out) {
  if (!r.is_object()) return Fail(kInvalidConfig, "invalid network configuration", where + " must be an object");
  net::JsonFields field("ipam");
  bool have_subnet = false;
  for (const auto& [k, v] : r.items()) {
    Status st;
    if (k == "subnet") {
      auto c = field.Prefix(v, where + ".subnet");
      if (!c.ok()) return ConfigError(c.status());
      out->subnet = *c;
      have_subnet = true;
    } else if (k == "gateway" || k == "rangeStart" || k == "rangeEnd") {
      auto ip = field.Ip(v, where + "." + k);
      if (!ip.ok()) return ConfigError(ip.status());
      (k == "gateway" ? out->gateway : k == "rangeStart" ? out->range_start : out->range_end) = *ip;
    } else {
      return Fail(kUnsupportedField, "unsupported ipam field '" + k + "'",
                  where + ": berth's ipam takes subnet, gateway, rangeStart and rangeEnd");
    }
  }
  if (!have_subnet) return Fail(kInvalidConfig, "invalid network configuration", where + ".subnet is required");
  // A range given by one end only runs to the subnet's edge.
  if (out->range_start.has_value() != out->range_end.has_value()) {
    auto hosts = net::HostRange(out->subnet);
    if (!hosts.ok()) return ConfigError(hosts.status());
    if (!out->range_start) out->range_start = net::AddressAt(out->subnet, hosts->first);
    if (!out->range_end) out->range_end = net::AddressAt(out->subnet, hosts->second);
  }
  return {};
}

Error ParseIpam(const json& ipam, NetConf* conf) {
  if (!ipam.is_object()) return Fail(kInvalidConfig, "invalid network configuration", "ipam must be an object");
  conf->has_ipam = true;
  bool flat = false;
  net::SubnetSpec flat_range;
  json flat_fields = json::object();
  for (const auto& [k, v] : ipam.items()) {
    if (k == "type") {
      if (!v.is_string()) return Fail(kInvalidConfig, "invalid network configuration", "ipam.type must be a string");
    } else if (k == "subnet" || k == "gateway" || k == "rangeStart" || k == "rangeEnd") {
      flat = true;
      flat_fields[k] = v;
    } else if (k == "ranges") {
      // host-local's shape: a list of range sets; berth takes one range per set.
      if (!v.is_array()) return Fail(kInvalidConfig, "invalid network configuration", "ipam.ranges must be an array");
      for (size_t i = 0; i < v.size(); ++i) {
        std::string where = "ipam.ranges[" + std::to_string(i) + "]";
        if (!v[i].is_array() || v[i].size() != 1) {
          return Fail(kUnsupportedField, "unsupported ipam ranges", where + " must hold exactly one range");
        }
        net::SubnetSpec s;
        if (Error e = ParseRange(v[i][0], where + "[0]", &s); !e.ok()) return e;
        conf->subnets.push_back(s);
      }
    } else {
      return Fail(kUnsupportedField, "unsupported ipam field '" + k + "'",
                  "berth's ipam takes subnet, gateway, rangeStart, rangeEnd or ranges");
    }
  }
  if (flat) {
    if (!conf->subnets.empty()) {
      return Fail(kInvalidConfig, "invalid network configuration", "ipam has both ranges and subnet/gateway/rangeStart/rangeEnd");
    }
    if (Error e = ParseRange(flat_fields, "ipam", &flat_range); !e.ok()) return e;
    conf->subnets.push_back(flat_range);
  }
  return {};
}

Error ParsePortMappings(const json& v, NetConf* conf) {
  if (!v.is_array()) return Fail(kInvalidConfig, "invalid runtimeConfig", "portMappings must be an array");
  for (size_t i = 0; i < v.size(); ++i) {
    const json& m = v[i];
    std::string where = "portMappings[" + std::to_string(i) + "]";
    if (!m.is_object()) return Fail(kInvalidConfig, "invalid runtimeConfig", where + " must be an object");
    net::PortSpec p;
    auto port = [&](const char* key, bool zero_ok, uint16_t* slot) -> Error {
      auto it = m.find(key);
      if (it == m.end()) return Fail(kInvalidConfig, "invalid runtimeConfig", where + "." + key + " is required");
      if (!it->is_number_integer() || it->get<int64_t>() < (zero_ok ? 0 : 1) || it->get<int64_t>() > 65535) {
        return Fail(kInvalidConfig, "invalid runtimeConfig", where + "." + key + " must be a port number (1-65535)");
      }
      *slot = static_cast<uint16_t>(it->get<int64_t>());
      return {};
    };
    uint16_t host = 0, container = 0;
    if (Error e = port("hostPort", true, &host); !e.ok()) return e;
    if (Error e = port("containerPort", false, &container); !e.ok()) return e;
    p.host_first = p.host_last = host;
    p.container_first = p.container_last = container;
    for (const auto& [k, val] : m.items()) {
      if (k == "hostPort" || k == "containerPort") continue;
      if (k == "protocol") {
        if (!val.is_string()) return Fail(kInvalidConfig, "invalid runtimeConfig", where + ".protocol must be a string");
        std::string proto = val.get<std::string>();
        std::transform(proto.begin(), proto.end(), proto.begin(), [](unsigned char c) { return std::tolower(c); });
        if (proto.empty()) proto = "tcp";
        auto parsed = net::ParseProtocol(proto);
        if (!parsed.ok()) return Fail(kUnsupportedField, "unsupported port protocol '" + proto + "'", where + ": berth publishes tcp and udp");
        p.protocol = *parsed;
      } else if (k == "hostIP") {
        if (!val.is_string()) return Fail(kInvalidConfig, "invalid runtimeConfig", where + ".hostIP must be a string");
        std::string text = val.get<std::string>();
        if (!text.empty()) {
          auto ip = IpAddress::Parse(text);
          if (!ip.ok()) return Fail(kInvalidConfig, "invalid runtimeConfig", where + ".hostIP: " + ip.status().message());
          // "0.0.0.0" and "::" mean every address, as for `-p`.
          if (!(ip->is_v4() ? *ip == *IpAddress::Parse("0.0.0.0") : *ip == *IpAddress::Parse("::"))) p.host_ip = *ip;
        }
      }
      // "range" is read below; other keys are the runtime's business.
    }
    if (auto range = m.find("range"); range != m.end() && range->is_number_integer() && range->get<int64_t>() > 1) {
      int64_t n = range->get<int64_t>();
      if (host == 0 || host + n - 1 > 65535 || container + n - 1 > 65535) {
        return Fail(kInvalidConfig, "invalid runtimeConfig", where + ".range runs past port 65535");
      }
      p.host_last = static_cast<uint16_t>(host + n - 1);
      p.container_last = static_cast<uint16_t>(container + n - 1);
    }
    conf->ports.push_back(p);
  }
  return {};
}

Error ParseRuntimeConfig(const json& rc, NetConf* conf) {
  if (!rc.is_object()) return Fail(kInvalidConfig, "invalid network configuration", "runtimeConfig must be an object");
  for (const auto& [k, v] : rc.items()) {
    if (k == "portMappings") {
      if (Error e = ParsePortMappings(v, conf); !e.ok()) return e;
    } else if (k == "ips") {
      if (!v.is_array()) return Fail(kInvalidConfig, "invalid runtimeConfig", "ips must be an array");
      for (const json& ip : v) {
        if (!ip.is_string()) return Fail(kInvalidConfig, "invalid runtimeConfig", "ips must hold strings");
        std::string text = ip.get<std::string>();
        auto parsed = IpAddress::Parse(text.substr(0, text.find('/')));
        if (!parsed.ok()) return Fail(kInvalidConfig, "invalid runtimeConfig", "ips: " + parsed.status().message());
        if (text.find('/') != std::string::npos && !Cidr::Parse(text).ok()) {
          return Fail(kInvalidConfig, "invalid runtimeConfig", "ips: '" + text.substr(0, 64) + "' is not ADDRESS[/PREFIX]");
        }
        auto& slot = parsed->is_v4() ? conf->ipv4 : conf->ipv6;
        if (slot) return Fail(kInvalidConfig, "invalid runtimeConfig", "ips holds two addresses of one family");
        slot = *parsed;
      }
    } else if (k == "mac") {
      if (!v.is_string()) return Fail(kInvalidConfig, "invalid runtimeConfig", "mac must be a string");
      auto mac = net::ParseMac(v.get<std::string>());
      if (!mac.ok()) return Fail(kInvalidConfig, "invalid runtimeConfig", mac.status().message());
      conf->mac = *mac;
    } else if (k == "aliases") {
      // Podman: {"network": ["a", "b"]}; a plain list is taken as this network's.
      const json* list = &v;
      if (v.is_object()) {
        auto it = v.find(conf->name);
        if (it == v.end()) continue;
        list = &*it;
      }
      if (!list->is_array()) return Fail(kInvalidConfig, "invalid runtimeConfig", "aliases must be a list of names");
      for (const json& a : *list) {
        if (!a.is_string()) return Fail(kInvalidConfig, "invalid runtimeConfig", "aliases must be a list of names");
        std::string alias = a.get<std::string>();
        if (Status s = net::ValidateAlias(alias); !s.ok()) return Fail(kInvalidConfig, "invalid runtimeConfig", s.message());
        if (std::find(conf->aliases.begin(), conf->aliases.end(), alias) == conf->aliases.end()) conf->aliases.push_back(alias);
      }
    }
    // Capabilities berth does not declare (bandwidth, ...) are not sent; others are ignored.
  }
  return {};
}

Error ParsePrevResult(const json& prev) {
  auto bad = [](std::string why) { return Fail(kDecodeFailure, "invalid prevResult", std::move(why)); };
  if (!prev.is_object()) return bad("prevResult must be an object");
  size_t interfaces = 0;
  if (auto it = prev.find("interfaces"); it != prev.end()) {
    if (!it->is_array()) return bad("interfaces must be an array");
    for (const json& i : *it) {
      if (!i.is_object() || !i.contains("name") || !i["name"].is_string()) return bad("each interface needs a name");
    }
    interfaces = it->size();
  }
  if (auto it = prev.find("ips"); it != prev.end()) {
    if (!it->is_array()) return bad("ips must be an array");
    for (const json& ip : *it) {
      if (!ip.is_object() || !ip.contains("address") || !ip["address"].is_string()) return bad("each ip needs an address");
      if (!Cidr::Parse(ip["address"].get<std::string>()).ok()) return bad("ip address " + ip["address"].get<std::string>() + " is not ADDRESS/PREFIX");
      if (auto idx = ip.find("interface"); idx != ip.end()) {
        if (!idx->is_number_integer() || idx->get<int64_t>() < 0 || static_cast<size_t>(idx->get<int64_t>()) >= interfaces) {
          return bad("an ip names an interface index that does not exist");
        }
      }
    }
  }
  for (const char* key : {"routes"}) {
    if (auto it = prev.find(key); it != prev.end() && !it->is_array()) return bad(std::string(key) + " must be an array");
  }
  if (auto it = prev.find("dns"); it != prev.end() && !it->is_object()) return bad("dns must be an object");
  return {};
}

Error ParseValidAttachments(const json& v, NetConf* conf) {
  if (!v.is_array()) return Fail(kInvalidConfig, "invalid network configuration", "cni.dev/valid-attachments must be an array");
  std::vector<ValidAttachment> list;
  for (const json& a : v) {
    if (!a.is_object() || !a.contains("containerID") || !a["containerID"].is_string() || !a.contains("ifname") ||
        !a["ifname"].is_string()) {
      return Fail(kInvalidConfig, "invalid network configuration", "each valid attachment needs containerID and ifname strings");
    }
    list.push_back({a["containerID"].get<std::string>(), a["ifname"].get<std::string>()});
  }
  conf->valid_attachments = std::move(list);
  return {};
}

Error ParseArgs(std::string_view text, Request* out) {
  bool ignore_unknown = false;
  std::optional<IpAddress> args_ipv4, args_ipv6;
  std::optional<net::MacAddress> args_mac;
  std::vector<std::string> unknown;
  while (!text.empty()) {
    std::string_view pair = NextField(text, ';');
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return Fail(kInvalidEnvironment, "invalid CNI_ARGS", "'" + std::string(pair) + "' is not KEY=VALUE");
    }
    std::string key(pair.substr(0, eq)), value(pair.substr(eq + 1));
    out->args[key] = value;
    if (key == "IgnoreUnknown") {
      ignore_unknown = value == "1" || value == "true" || value == "True";
    } else if (key == "K8S_POD_NAME") {
      out->pod_name = value;
    } else if (key == "IP") {
      // The CNI_ARGS convention for static addresses (Podman's --ip): "A[/P][,B[/P]]".
      std::string_view list = value;
      while (!list.empty()) {
        std::string item(NextField(list, ','));
        auto ip = IpAddress::Parse(item.substr(0, item.find('/')));
        if (!ip.ok()) return Fail(kInvalidEnvironment, "invalid CNI_ARGS IP", ip.status().message());
        auto& slot = ip->is_v4() ? args_ipv4 : args_ipv6;
        if (slot) return Fail(kInvalidEnvironment, "invalid CNI_ARGS IP", "two addresses of one family");
        slot = *ip;
      }
    } else if (key == "MAC") {
      auto mac = net::ParseMac(value);
      if (!mac.ok()) return Fail(kInvalidEnvironment, "invalid CNI_ARGS MAC", mac.status().message());
      args_mac = *mac;
    } else if (key != "K8S_POD_NAMESPACE" && key != "K8S_POD_INFRA_CONTAINER_ID" && key != "K8S_POD_UID") {
      unknown.push_back(key);
    }
  }
  if (!unknown.empty() && !ignore_unknown) {
    return Fail(kInvalidEnvironment, "unknown CNI_ARGS key '" + unknown.front() + "'",
                "berth-cni knows IP, MAC, K8S_POD_NAME, K8S_POD_NAMESPACE, K8S_POD_INFRA_CONTAINER_ID, K8S_POD_UID; set IgnoreUnknown=1 to pass others");
  }
  // The capability arguments (runtimeConfig ips/mac) win over CNI_ARGS when both are given.
  NetConf& c = out->conf;
  if (!c.ipv4 && !c.ipv6) {
    c.ipv4 = args_ipv4;
    c.ipv6 = args_ipv6;
  }
  if (!c.mac) c.mac = args_mac;
  return {};
}

std::string Get(const std::map<std::string, std::string>& env, const char* key) {
  auto it = env.find(key);
  return it == env.end() ? std::string() : it->second;
}

}  // namespace

const std::vector<std::string>& SupportedVersions() {
  static const std::vector<std::string> v = {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"};
  return v;
}

std::string_view CommandName(Command c) {
  switch (c) {
    case Command::kAdd: return "ADD";
    case Command::kDel: return "DEL";
    case Command::kCheck: return "CHECK";
    case Command::kVersion: return "VERSION";
    case Command::kStatus: return "STATUS";
    case Command::kGc: return "GC";
  }
  return "?";
}

bool VersionAtLeast(std::string_view version, std::string_view minimum) {
  int a[3], b[3];
  if (!ParseVersion(version, a) || !ParseVersion(minimum, b)) return false;
  return std::lexicographical_compare(b, b + 3, a, a + 3) || std::equal(a, a + 3, b);
}

std::string ReplyVersion(std::string_view stdin_config) {
  if (stdin_config.size() > kMaxConfigBytes) return kLatestVersion;
  json j = json::parse(stdin_config, nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) {
    if (auto it = j.find("cniVersion"); it != j.end() && it->is_string()) {
      const auto& v = SupportedVersions();
      if (std::find(v.begin(), v.end(), it->get<std::string>()) != v.end()) return it->get<std::string>();
    }
  }
  return kLatestVersion;
}

Error ParseRequest(const std::map<std::string, std::string>& env, std::string_view stdin_config, Request* out) {
  *out = Request{};
  std::string command = Get(env, "CNI_COMMAND");
  if (command == "ADD") out->command = Command::kAdd;
  else if (command == "DEL") out->command = Command::kDel;
  else if (command == "CHECK") out->command = Command::kCheck;
  else if (command == "VERSION") out->command = Command::kVersion;
  else if (command == "STATUS") out->command = Command::kStatus;
  else if (command == "GC") out->command = Command::kGc;
  else if (command.empty()) return Fail(kInvalidEnvironment, "CNI_COMMAND is not set", "berth-cni is a CNI plugin: a container runtime runs it");
  else return Fail(kInvalidEnvironment, "unknown CNI_COMMAND '" + command.substr(0, 32) + "'", "expected ADD, DEL, CHECK, VERSION, STATUS or GC");

  if (stdin_config.size() > kMaxConfigBytes) return Fail(kDecodeFailure, "network configuration too large", "more than 1 MiB on stdin");
  json conf = json::parse(stdin_config, nullptr, /*allow_exceptions=*/false);
  if (conf.is_discarded()) return Fail(kDecodeFailure, "network configuration is not valid JSON", "stdin must hold the JSON network configuration");
  if (!conf.is_object()) return Fail(kDecodeFailure, "network configuration must be a JSON object");
  NetConf& nc = out->conf;
  auto version = conf.find("cniVersion");
  if (version == conf.end() || !version->is_string()) return Fail(kInvalidConfig, "invalid network configuration", "cniVersion is required");
  nc.cni_version = version->get<std::string>();
  const auto& supported = SupportedVersions();
  if (std::find(supported.begin(), supported.end(), nc.cni_version) == supported.end()) {
    std::string list;
    for (const auto& v : supported) list += (list.empty() ? "" : ", ") + v;
    return Fail(kIncompatibleVersion, "incompatible CNI version " + nc.cni_version.substr(0, 32), "berth-cni supports " + list);
  }
  if (out->command == Command::kVersion) return {};
  if (out->command == Command::kCheck && !VersionAtLeast(nc.cni_version, "0.4.0")) {
    return Fail(kIncompatibleVersion, "CHECK needs cniVersion 0.4.0 or newer", "the configuration says " + nc.cni_version);
  }
  if ((out->command == Command::kStatus || out->command == Command::kGc) && !VersionAtLeast(nc.cni_version, "1.1.0")) {
    return Fail(kIncompatibleVersion, std::string(CommandName(out->command)) + " needs cniVersion 1.1.0",
                "the configuration says " + nc.cni_version);
  }

  for (const auto& [k, v] : conf.items()) {
    if (k == "name") {
      if (!v.is_string()) return Fail(kInvalidConfig, "invalid network configuration", "name must be a string");
      nc.name = v.get<std::string>();
    } else if (k == "type") {
      if (!v.is_string()) return Fail(kInvalidConfig, "invalid network configuration", "type must be a string");
      nc.type = v.get<std::string>();
    } else if (k == "socket") {
      if (!v.is_string() || v.get<std::string>().empty() || v.get<std::string>()[0] != '/') {
        return Fail(kInvalidConfig, "invalid network configuration", "socket must be the absolute path of berthd's API socket");
      }
      nc.socket = v.get<std::string>();
    } else if (k == "ipam") {
      if (Error e = ParseIpam(v, &nc); !e.ok()) return e;
    } else if (k == "mtu") {
      if (!v.is_number_integer() || v.get<int64_t>() < 68 || v.get<int64_t>() > 65535) {
        return Fail(kInvalidConfig, "invalid network configuration", "mtu must be between 68 and 65535");
      }
      nc.mtu = static_cast<int>(v.get<int64_t>());
    } else if (k == "dns") {
      if (!v.is_object()) return Fail(kInvalidConfig, "invalid network configuration", "dns must be an object");
      nc.dns = v;
    } else if (k == "prevResult") {
      if (Error e = ParsePrevResult(v); !e.ok()) return e;
      nc.prev_result = v;
    } else if (k == "cni.dev/valid-attachments") {
      if (Error e = ParseValidAttachments(v, &nc); !e.ok()) return e;
    }
    // runtimeConfig needs the name (aliases are keyed by network): read below. Other keys
    // (capabilities, args, ...) belong to the runtime or other plugins.
  }
  if (Status s = net::ValidateNetworkName(nc.name); !s.ok()) return Fail(kInvalidConfig, "invalid network configuration", s.message());
  if (nc.type.empty()) return Fail(kInvalidConfig, "invalid network configuration", "type is required");
  if (auto rc = conf.find("runtimeConfig"); rc != conf.end()) {
    if (Error e = ParseRuntimeConfig(*rc, &nc); !e.ok()) return e;
  }
  if (nc.has_ipam) {
    // The spec the network would be made from must stand on its own.
    net::NetworkSpec spec;
    spec.name = nc.name;
    spec.subnets = nc.subnets;
    spec.mtu = nc.mtu;
    spec.ipv6 = std::any_of(nc.subnets.begin(), nc.subnets.end(), [](const net::SubnetSpec& s) { return !s.subnet.network().is_v4(); });
    if (Status s = net::NormalizeSpec(spec); !s.ok()) return ConfigError(s);
    nc.subnets = spec.subnets;
  }
  if (out->command == Command::kGc && !nc.valid_attachments) {
    return Fail(kInvalidConfig, "invalid network configuration", "GC needs cni.dev/valid-attachments");
  }
  if (out->command == Command::kStatus || out->command == Command::kGc) return {};

  out->container_id = Get(env, "CNI_CONTAINERID");
  if (!ValidContainerId(out->container_id)) {
    return Fail(kInvalidEnvironment, out->container_id.empty() ? "CNI_CONTAINERID is not set" : "invalid CNI_CONTAINERID",
                "a container id holds letters, digits, '_', '.' and '-'");
  }
  out->ifname = Get(env, "CNI_IFNAME");
  if (out->ifname.empty()) return Fail(kInvalidEnvironment, "CNI_IFNAME is not set");
  if (Status s = net::ValidateInterfaceName(out->ifname); !s.ok()) return Fail(kInvalidEnvironment, "invalid CNI_IFNAME", s.message());
  out->netns = Get(env, "CNI_NETNS");
  if (out->netns.empty() && out->command != Command::kDel) return Fail(kInvalidEnvironment, "CNI_NETNS is not set");
  if (!out->netns.empty() && out->netns[0] != '/') return Fail(kInvalidEnvironment, "invalid CNI_NETNS", "it must be an absolute path");
  out->path = Get(env, "CNI_PATH");
  if (Error e = ParseArgs(Get(env, "CNI_ARGS"), out); !e.ok()) return e;
  return {};
}

}  // namespace berth::cni
