#include "cni/result.h"

#include <algorithm>

namespace berth::cni {

using nlohmann::json;

json BuildResult(const std::string& version, const AddOutcome& ours, const std::optional<json>& prev,
                 const json& conf_dns) {
  json out = prev && prev->is_object() ? *prev : json::object();
  out["cniVersion"] = version;
  bool legacy = !VersionAtLeast(version, "1.0.0");  // 0.3.x / 0.4.0: ips carry "version"
  json& interfaces = out["interfaces"];
  if (!interfaces.is_array()) interfaces = json::array();
  size_t base = interfaces.size();
  for (const ResultInterface& i : ours.interfaces) {
    json o = {{"name", i.name}};
    if (!i.mac.empty()) o["mac"] = i.mac;
    if (!i.sandbox.empty()) o["sandbox"] = i.sandbox;
    interfaces.push_back(o);
  }
  json& ips = out["ips"];
  if (!ips.is_array()) ips = json::array();
  for (const ResultAddress& a : ours.addresses) {
    json o = {{"address", a.address.ToString() + "/" + std::to_string(a.prefix)}, {"interface", base + a.interface}};
    if (a.gateway) o["gateway"] = a.gateway->ToString();
    if (legacy) o["version"] = a.address.is_v4() ? "4" : "6";
    ips.push_back(o);
  }
  json& routes = out["routes"];
  if (!routes.is_array()) routes = json::array();
  for (const IpAddress& gw : ours.default_gateways) {
    routes.push_back({{"dst", gw.is_v4() ? "0.0.0.0/0" : "::/0"}, {"gw", gw.ToString()}});
  }
  // DNS: what an earlier plugin said stays first; then berth's servers, then the config's.
  json dns = out.contains("dns") && out["dns"].is_object() ? out["dns"] : json::object();
  json servers = dns.contains("nameservers") && dns["nameservers"].is_array() ? dns["nameservers"] : json::array();
  auto add_server = [&](const std::string& s) {
    if (std::find(servers.begin(), servers.end(), json(s)) == servers.end()) servers.push_back(s);
  };
  for (const IpAddress& ns : ours.nameservers) add_server(ns.ToString());
  if (conf_dns.is_object()) {
    if (auto it = conf_dns.find("nameservers"); it != conf_dns.end() && it->is_array()) {
      for (const json& s : *it) {
        if (s.is_string()) add_server(s.get<std::string>());
      }
    }
    for (const char* key : {"domain", "search", "options"}) {
      if (conf_dns.contains(key) && !dns.contains(key)) dns[key] = conf_dns[key];
    }
  }
  if (!servers.empty()) dns["nameservers"] = servers;
  if (!dns.empty()) out["dns"] = dns;
  else out.erase("dns");
  return out;
}

json ErrorJson(const std::string& version, const Error& error) {
  json j = {{"cniVersion", version}, {"code", error.code}, {"msg", error.msg}};
  if (!error.details.empty()) j["details"] = error.details;
  return j;
}

json VersionJson(const std::string& version) {
  return {{"cniVersion", version}, {"supportedVersions", SupportedVersions()}};
}

}  // namespace berth::cni
