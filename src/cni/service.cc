#include "cni/service.h"

#include <algorithm>
#include <set>

#include <spdlog/spdlog.h>

#include "cni/result.h"

namespace berth::cni {
namespace {

using nlohmann::json;

// The CNI code for an engine error of `s`; `fallback` for codes with no better match.
Error FromStatus(const berth::Status& s, std::string msg, int fallback = kDaemonError) {
  int code = fallback;
  switch (s.code()) {
    case Code::kInvalidArgument: code = kInvalidConfig; break;
    case Code::kNotFound: code = kUnknownContainer; break;
    case Code::kAlreadyExists: code = kConflict; break;
    case Code::kResourceExhausted: code = kExhausted; break;
    case Code::kUnavailable: code = kTryAgainLater; break;
    case Code::kIo: code = kIoFailure; break;
    default: break;
  }
  return Error{code, std::move(msg), s.message()};
}

const net::AttachmentView* AttachmentOn(const net::EndpointView& ep, const std::string& network) {
  for (const auto& a : ep.attachments) {
    if (a.network == network) return &a;
  }
  return nullptr;
}

// Ports as the engine stores them, compared by what a runtime asks for.
bool SamePorts(const std::vector<store::StoredPort>& have, const std::vector<net::PortSpec>& want) {
  std::set<std::tuple<std::string, uint16_t, uint16_t>> a, b;
  for (const auto& p : have) a.insert({p.protocol, p.host_port, p.container_port});
  for (const auto& p : want) {
    for (uint16_t i = 0; i < p.count(); ++i) {
      b.insert({std::string(net::ProtocolName(p.protocol)), static_cast<uint16_t>(p.host_first + i),
                static_cast<uint16_t>(p.container_first + i)});
    }
  }
  return a == b;
}

AddOutcome OutcomeOf(const net::AttachmentView& a, const std::string& netns) {
  AddOutcome o;
  if (!a.bridge.empty()) o.interfaces.push_back({a.bridge, "", ""});
  if (!a.host_ifname.empty()) o.interfaces.push_back({a.host_ifname, "", ""});
  o.interfaces.push_back({a.ifname, a.mac, netns});
  size_t inside = o.interfaces.size() - 1;
  if (a.ipv4) o.addresses.push_back({*a.ipv4, a.prefix4, a.gateway4, inside});
  if (a.ipv6) o.addresses.push_back({*a.ipv6, a.prefix6, a.gateway6, inside});
  if (a.default_route) {
    if (a.ipv4 && a.gateway4) o.default_gateways.push_back(*a.gateway4);
    if (a.ipv6 && a.gateway6) o.default_gateways.push_back(*a.gateway6);
  }
  if (a.network_dns) {
    if (a.gateway4) o.nameservers.push_back(*a.gateway4);
    if (a.gateway6) o.nameservers.push_back(*a.gateway6);
  }
  return o;
}

// "cni-" + the first 12 characters of the container id: the endpoint's name when the runtime
// gave no usable name, or when another endpoint has it (the name then stays a DNS alias).
std::string IdName(const Request& r) { return "cni-" + r.container_id.substr(0, 12); }

// The endpoint name for a new container: the name the runtime gave (K8S_POD_NAME), if valid.
std::string EndpointNameFor(const Request& r) {
  if (!r.pod_name.empty() && net::ValidateName("endpoint", r.pod_name).ok()) return r.pod_name;
  return IdName(r);
}

}  // namespace

Reply Service::Handle(const Request& r) {
  if (r.command == Command::kVersion) return Reply{{}, VersionJson(r.conf.cni_version)};
  if (engine_ == nullptr) {
    return Reply{Error{kNotAvailable, "container networks are not enabled on berthd",
                       "start berthd with --networks (or networks.enabled: true)"}, nullptr};
  }
  switch (r.command) {
    case Command::kAdd: return Add(r);
    case Command::kDel: return Del(r);
    case Command::kCheck: return Check(r);
    case Command::kGc: return Gc(r);
    case Command::kStatus: return Status(r);
    case Command::kVersion: break;
  }
  return Reply{Error{kDaemonError, "unknown command", ""}, nullptr};
}

Error Service::EnsureNetwork(const NetConf& conf, bool* created) {
  *created = false;
  auto existing = engine_->GetNetwork(conf.name);
  if (existing.ok()) {
    // The config may repeat the network's subnets; it must not contradict them.
    std::set<std::string> have;
    for (const auto& sub : existing->spec.subnets) have.insert(sub.subnet.ToString());
    for (const auto& s : conf.subnets) {
      if (!have.count(s.subnet.ToString())) {
        std::string list;
        for (const auto& h : have) list += (list.empty() ? "" : ", ") + h;
        return Error{kInvalidConfig, "network '" + conf.name + "' exists with other subnets",
                     "berth has " + (list.empty() ? std::string("none") : list) + "; the configuration asks for " + s.subnet.ToString()};
      }
    }
    return {};
  }
  if (existing.status().code() != Code::kNotFound) return FromStatus(existing.status(), "reading network '" + conf.name + "'");
  if (!conf.has_ipam) {
    return Error{kInvalidConfig, "network '" + conf.name + "' does not exist in berth",
                 "create it with `berth network create " + conf.name + "`, or give the configuration an ipam block "
                 "({\"subnet\": ...}, or {} for a free subnet) to create it on first use"};
  }
  net::NetworkSpec spec;
  spec.name = conf.name;
  spec.subnets = conf.subnets;
  spec.mtu = conf.mtu;
  spec.ipv6 = std::any_of(spec.subnets.begin(), spec.subnets.end(), [](const net::SubnetSpec& s) { return !s.subnet.network().is_v4(); });
  spec.labels["berth.cni"] = "created on first use by berth-cni";
  auto made = engine_->CreateNetwork(std::move(spec));
  if (made.ok()) {
    *created = true;
    return {};
  }
  // Another ADD may have made it meanwhile.
  if (made.status().code() == Code::kAlreadyExists && engine_->GetNetwork(conf.name).ok()) return {};
  return FromStatus(made.status(), "creating network '" + conf.name + "'");
}

Reply Service::Add(const Request& r) {
  bool created = false;
  if (Error e = EnsureNetwork(r.conf, &created); !e.ok()) return Reply{e, nullptr};
  auto undo_network = [&] {
    if (created) (void)engine_->RemoveNetwork(r.conf.name);
  };
  net::AttachRequest attach;
  attach.network = r.conf.name;
  attach.ipv4 = r.conf.ipv4;
  attach.ipv6 = r.conf.ipv6;
  attach.aliases = r.conf.aliases;
  attach.ifname = r.ifname;
  attach.mac = r.conf.mac;

  Result<net::EndpointView> view = NotFound("");
  auto existing = engine_->EndpointOfContainer(r.container_id);
  if (existing && existing->netns != r.netns) {
    // The id was used with another namespace before (a runtime that lost its state): that
    // endpoint is stale.
    spdlog::info("cni: container {} comes with a new namespace; removing its old endpoint {}", r.container_id, existing->name);
    (void)engine_->RemoveEndpoint(existing->name);
    existing.reset();
  }
  if (existing) {
    if (const auto* a = AttachmentOn(*existing, r.conf.name)) {
      undo_network();
      return Reply{Error{kConflict, "container " + r.container_id + " is already attached to network '" + r.conf.name + "'",
                         "as " + a->ifname + " of endpoint '" + existing->name + "'; DEL it first"}, nullptr};
    }
    if (!r.conf.ports.empty() && !SamePorts(existing->ports, r.conf.ports)) {
      undo_network();
      return Reply{Error{kUnsupportedField, "published ports of container " + r.container_id + " were set by its first network",
                         "berth publishes a container's ports once; later networks must pass the same portMappings"}, nullptr};
    }
    view = engine_->Connect(existing->name, attach);
  } else {
    net::EndpointRequest req;
    req.name = EndpointNameFor(r);
    req.netns = r.netns;
    req.container_id = r.container_id;
    req.ports = r.conf.ports;
    if (req.name != r.pod_name && !r.pod_name.empty() && net::ValidateAlias(r.pod_name).ok()) attach.aliases.push_back(r.pod_name);
    req.networks.push_back(attach);
    view = engine_->CreateEndpoint(req);
    if (!view.ok() && view.status().code() == Code::kAlreadyExists && req.name == r.pod_name &&
        engine_->GetEndpoint(req.name).ok()) {
      // The name belongs to another endpoint: serve it as an alias of this one as well.
      req.name = IdName(r);
      req.networks[0].aliases.push_back(r.pod_name);
      view = engine_->CreateEndpoint(req);
    }
  }
  if (!view.ok()) {
    undo_network();
    return Reply{FromStatus(view.status(), "attaching container " + r.container_id + " to network '" + r.conf.name + "'"), nullptr};
  }
  const net::AttachmentView* a = AttachmentOn(*view, r.conf.name);
  if (a == nullptr) return Reply{Error{kDaemonError, "the attachment vanished while it was made", ""}, nullptr};
  spdlog::info("cni: ADD {} {} -> endpoint {} on {}", r.container_id, r.ifname, view->name, r.conf.name);
  return Reply{{}, BuildResult(r.conf.cni_version, OutcomeOf(*a, r.netns), r.conf.prev_result, r.conf.dns)};
}

Reply Service::Del(const Request& r) {
  auto existing = engine_->EndpointOfContainer(r.container_id);
  if (!existing) return Reply{};  // never attached, or already gone: DEL succeeds
  const net::AttachmentView* a = AttachmentOn(*existing, r.conf.name);
  if (a == nullptr || a->ifname != r.ifname) return Reply{};
  // The runtime deletes the namespace next: the veth pair need not be waited for.
  berth::Status s = engine_->Disconnect(existing->name, r.conf.name, net::LinkTeardown::kInBackground);
  if (!s.ok() && s.code() != Code::kNotFound) {
    return Reply{FromStatus(s, "detaching container " + r.container_id + " from network '" + r.conf.name + "'", kIoFailure), nullptr};
  }
  spdlog::info("cni: DEL {} {} from {}", r.container_id, r.ifname, r.conf.name);
  return Reply{};
}

Reply Service::Check(const Request& r) {
  auto existing = engine_->EndpointOfContainer(r.container_id);
  const net::AttachmentView* a = existing ? AttachmentOn(*existing, r.conf.name) : nullptr;
  if (a == nullptr || a->ifname != r.ifname) {
    return Reply{Error{kUnknownContainer, "container " + r.container_id + " is not attached to network '" + r.conf.name + "' as " + r.ifname, ""}, nullptr};
  }
  if (existing->netns != r.netns) {
    return Reply{Error{kDrift, "container " + r.container_id + " has moved", "berth attached " + existing->netns + ", not " + r.netns}, nullptr};
  }
  if (berth::Status s = engine_->VerifyAttachment(existing->name, r.conf.name); !s.ok()) {
    int code = s.code() == Code::kFailedPrecondition ? kDrift : s.code() == Code::kNotFound ? kUnknownContainer : kDaemonError;
    return Reply{Error{code, "container " + r.container_id + " on network '" + r.conf.name + "' does not match", s.message()}, nullptr};
  }
  // The runtime's view (prevResult) must agree with berth's on the addresses of this interface.
  if (r.conf.prev_result) {
    const json& prev = *r.conf.prev_result;
    std::set<std::string> ours;
    if (a->ipv4) ours.insert(a->ipv4->ToString() + "/" + std::to_string(a->prefix4));
    if (a->ipv6) ours.insert(a->ipv6->ToString() + "/" + std::to_string(a->prefix6));
    std::set<std::string> theirs;
    const json interfaces = prev.value("interfaces", json::array());
    for (const json& ip : prev.value("ips", json::array())) {
      size_t idx = ip.value("interface", size_t{0});
      if (idx < interfaces.size() && interfaces[idx].value("name", "") == r.ifname &&
          interfaces[idx].value("sandbox", "") != "") {
        theirs.insert(ip.value("address", ""));
      }
    }
    if (!theirs.empty() && theirs != ours) {
      std::string have, want;
      for (const auto& s : ours) have += (have.empty() ? "" : ", ") + s;
      for (const auto& s : theirs) want += (want.empty() ? "" : ", ") + s;
      return Reply{Error{kDrift, "addresses of " + r.ifname + " differ from prevResult", "berth has " + have + "; prevResult says " + want}, nullptr};
    }
  }
  return Reply{};
}

Reply Service::Gc(const Request& r) {
  std::set<ValidAttachment> keep(r.conf.valid_attachments->begin(), r.conf.valid_attachments->end());
  std::vector<std::string> failures;
  size_t removed = 0;
  for (const net::EndpointView& ep : engine_->Endpoints()) {
    if (ep.container_id.empty()) continue;  // berth's own endpoints are not the runtime's to collect
    const net::AttachmentView* a = AttachmentOn(ep, r.conf.name);
    if (a == nullptr || keep.count({ep.container_id, a->ifname})) continue;
    berth::Status s = engine_->Disconnect(ep.name, r.conf.name, net::LinkTeardown::kInBackground);
    if (s.ok() || s.code() == Code::kNotFound) {
      ++removed;
    } else {
      failures.push_back(ep.container_id + ": " + s.message());
    }
  }
  spdlog::info("cni: GC on {} removed {} attachment(s)", r.conf.name, removed);
  if (!failures.empty()) {
    std::string details;
    for (const auto& f : failures) details += (details.empty() ? "" : "; ") + f;
    return Reply{Error{kIoFailure, "GC could not remove " + std::to_string(failures.size()) + " attachment(s)", details}, nullptr};
  }
  return Reply{};
}

Reply Service::Status(const Request& r) {
  // A network that does not exist yet is made on the first ADD; one whose bridge is gone cannot
  // carry its containers' traffic until berthd rebuilds it (at its next start).
  berth::Status s = engine_->VerifyNetwork(r.conf.name);
  if (s.code() == Code::kFailedPrecondition) {
    return Reply{Error{kNotAvailableLimited, "network '" + r.conf.name + "' is broken", s.message() + "; restart berthd to rebuild it"}, nullptr};
  }
  if (!s.ok() && s.code() != Code::kNotFound) return Reply{Error{kNotAvailable, "berthd cannot check network '" + r.conf.name + "'", s.message()}, nullptr};
  return Reply{};
}

}  // namespace berth::cni
