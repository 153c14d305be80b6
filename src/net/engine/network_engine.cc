#include "net/engine/network_engine.h"

#include <openssl/rand.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <random>

#include <spdlog/spdlog.h>

#include "net/kernel/mac.h"

namespace berth::net {

namespace fs = std::filesystem;
using nlohmann::json;

struct NetworkEngine::NetworkState {
  Network net;
  std::vector<SubnetAllocator> allocators;  // one per subnet, same order
  std::set<std::string> endpoints;          // names of attached endpoints

  SubnetAllocator* AllocatorFor(IpAddress::Family family) {
    for (auto& a : allocators) {
      if (a.subnet().network().family() == family) return &a;
    }
    return nullptr;
  }
  const SubnetSpec* SubnetOf(IpAddress::Family family) const {
    for (const auto& s : net.spec.subnets) {
      if (s.subnet.network().family() == family) return &s;
    }
    return nullptr;
  }
};

struct NetworkEngine::AttachmentState {
  std::string network;     // name
  std::string network_id;
  std::string ifname, host_ifname;
  MacAddress mac{};
  std::optional<IpAddress> v4, v6;
  std::vector<std::string> aliases;
  bool default_route = false;  // the endpoint's default route points at this network's gateway
};

struct NetworkEngine::EndpointState {
  std::string name;
  std::string container_id;  // CNI
  std::string netns;
  std::pair<uint64_t, uint64_t> netns_id{0, 0};  // (dev, inode) of the namespace
  bool owned = false;
  int64_t pid = 0;
  int pidfd = -1;
  std::vector<IpAddress> dns;
  std::vector<AttachmentState> attachments;
  std::vector<store::StoredPort> ports;

  // The attachment to `network`, or attachments.end().
  std::vector<AttachmentState>::iterator AttachmentOn(const std::string& network) {
    return std::find_if(attachments.begin(), attachments.end(), [&](const AttachmentState& a) { return a.network == network; });
  }
  std::vector<AttachmentState>::const_iterator AttachmentOn(const std::string& network) const {
    return const_cast<EndpointState*>(this)->AttachmentOn(network);
  }
};

namespace {

std::string RandomHex(size_t digits) {
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof(raw)) != 1) {
    std::random_device rd;
    for (auto& b : raw) b = static_cast<unsigned char>(rd());
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < digits; ++i) out += kHex[(raw[i / 2] >> (i % 2 ? 0 : 4)) & 15];
  return out;
}

// Ethernet's MTU: bridges and veths get it unless the network sets another.
constexpr int kDefaultMtu = 1500;

bool HasPrefix(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Runs `undo` unless dismissed: the rollback of a half-built request.
class Undo {
 public:
  void Add(std::function<void()> f) { steps_.push_back(std::move(f)); }
  void Dismiss() { steps_.clear(); }
  ~Undo() {
    for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) (*it)();
  }

 private:
  std::vector<std::function<void()>> steps_;
};

bool PortsConflict(const store::StoredPort& a, const store::StoredPort& b) {
  return a.protocol == b.protocol && a.host_port == b.host_port &&
         (a.host_ip.empty() || b.host_ip.empty() || a.host_ip == b.host_ip);
}

}  // namespace

NetworkEngine::PortKey NetworkEngine::KeyOf(const store::StoredPort& p) { return {p.protocol, p.host_port}; }

namespace {

// Whether a program on this host has the port bound (listening, for TCP): publishing over it
// would silently take its traffic. SO_REUSEADDR keeps TIME_WAIT leftovers from counting.
bool HostPortBusy(const store::StoredPort& p) {
  IpAddress ip = p.host_ip.empty() ? IpAddress() : IpAddress::Parse(p.host_ip).value();
  int fd = socket(ip.is_v4() ? AF_INET : AF_INET6, (p.protocol == "udp" ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_storage ss{};
  socklen_t len = SocketAddress(ip, p.host_port).ToSockaddr(&ss);
  bool busy = bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno == EADDRINUSE;
  close(fd);
  return busy;
}

int PidfdOpen(int64_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0)); }

Status IgnoreExists(Status s) { return s.code() == Code::kAlreadyExists ? Status::Ok() : s; }

}  // namespace

json EndpointView::ToJson() const {
  json atts = json::array();
  for (const AttachmentView& a : attachments) {
    json o = {{"network", a.network}, {"network_id", a.network_id}, {"ifname", a.ifname},
              {"mac", a.mac}, {"aliases", a.aliases}};
    if (!a.host_ifname.empty()) o["host_ifname"] = a.host_ifname;
    if (a.ipv4) o["ip"] = a.ipv4->ToString() + "/" + std::to_string(a.prefix4);
    if (a.ipv6) o["ip6"] = a.ipv6->ToString() + "/" + std::to_string(a.prefix6);
    if (a.gateway4) o["gateway"] = a.gateway4->ToString();
    if (a.gateway6) o["gateway6"] = a.gateway6->ToString();
    atts.push_back(o);
  }
  json ports_json = json::array();
  for (const auto& p : ports) {
    ports_json.push_back({{"protocol", p.protocol}, {"host_ip", p.host_ip.empty() ? "0.0.0.0" : p.host_ip},
                          {"host_port", p.host_port}, {"container_ip", p.container_ip},
                          {"container_port", p.container_port}});
  }
  json j = {{"name", name}, {"netns", netns}, {"owned", owned}, {"pid", pid}, {"networks", atts},
            {"ports", ports_json}, {"resolv_conf", resolv_conf}, {"hosts", hosts}};
  if (!container_id.empty()) j["container_id"] = container_id;
  return j;
}

NetworkEngine::NetworkEngine(store::Store* store, EngineOptions options)
    : store_(store), options_(std::move(options)) {}

NetworkEngine::~NetworkEngine() { Stop(); }

// ---- start and reconcile -------------------------------------------------------------------

Status NetworkEngine::Start() {
  std::unique_lock lock(mu_);
  ASSIGN_OR_RETURN(Netlink nl, Netlink::Open());
  netlink_ = std::make_unique<Netlink>(std::move(nl));
  ASSIGN_OR_RETURN(firewall_, Firewall::Open(options_.table));
  RETURN_IF_ERROR(firewall_->EnsureTable());

  // Networks from the store.
  ASSIGN_OR_RETURN(auto stored_networks, store_->ListNetworks());
  for (const store::StoredNetwork& row : stored_networks) {
    auto parsed = json::parse(row.spec, nullptr, /*allow_exceptions=*/false);
    auto spec = NetworkSpecFromJson(parsed);
    if (!spec.ok()) return Status(Code::kIo, "network '" + row.name + "' in the state database: " + spec.status().message());
    auto st = std::make_unique<NetworkState>();
    st->net = Network{row.id, std::move(*spec), row.bridge, row.created_at};
    std::vector<IpAddress> reserved;
    for (const auto& [aux_name, ip] : st->net.spec.aux_addresses) reserved.push_back(ip);
    for (const SubnetSpec& s : st->net.spec.subnets) {
      std::vector<IpAddress> r = reserved;
      if (s.gateway) r.push_back(*s.gateway);
      std::vector<IpAddress> in_subnet;
      for (const IpAddress& ip : r) {
        if (s.subnet.Contains(ip) && ip.family() == s.subnet.network().family()) in_subnet.push_back(ip);
      }
      ASSIGN_OR_RETURN(SubnetAllocator a, AllocatorFor(s, in_subnet));
      st->allocators.push_back(std::move(a));
    }
    networks_[row.name] = std::move(st);
  }
  for (auto& [name, n] : networks_) {
    if (Status s = BuildBridge(n->net); !s.ok()) spdlog::error("network {}: {}", name, s.message());
  }

  // Endpoints: keep those whose namespace (and process) still lives.
  ASSIGN_OR_RETURN(auto stored_endpoints, store_->ListEndpoints());
  std::set<std::string> live_host_links;
  for (store::StoredEndpoint& row : stored_endpoints) {
    auto row_ns = Netns::Open(row.netns);
    bool alive = row_ns.ok();
    if (alive && row.pid > 0 && ::kill(static_cast<pid_t>(row.pid), 0) != 0 && errno == ESRCH) alive = false;
    if (!alive) {
      spdlog::info("endpoint {}: namespace or process gone while berthd was down; removing it", row.name);
      for (const auto& a : row.attachments) {
        if (auto idx = netlink_->LinkIndex(a.host_ifname); idx.ok()) (void)netlink_->DeleteLink(*idx);
      }
      if (row.owned && HasPrefix(row.netns, "/run/netns/")) (void)Netns::DeleteNamed(row.netns.substr(11));
      (void)store_->DeleteEndpoint(row.name);
      std::error_code ec;
      fs::remove_all(fs::path(options_.state_dir) / "endpoints" / row.name, ec);
      continue;
    }
    auto ep = std::make_unique<EndpointState>();
    ep->name = row.name;
    ep->netns = row.netns;
    ep->owned = row.owned;
    ep->pid = row.pid;
    auto spec = json::parse(row.spec, nullptr, false);
    if (spec.is_object() && spec.contains("dns") && spec["dns"].is_array()) {
      for (const auto& d : spec["dns"]) {
        if (auto ip = IpAddress::Parse(d.is_string() ? d.get<std::string>() : ""); ip.ok()) ep->dns.push_back(*ip);
      }
    }
    if (spec.is_object() && spec.contains("container_id") && spec["container_id"].is_string()) {
      ep->container_id = spec["container_id"].get<std::string>();
      endpoint_by_container_[ep->container_id] = row.name;
    }
    for (const store::StoredAttachment& sa : row.attachments) {
      NetworkState* net = nullptr;
      for (auto& [name, n] : networks_) {
        if (n->net.id == sa.network_id) net = n.get();
      }
      if (net == nullptr) continue;
      AttachmentState a;
      a.network = net->net.spec.name;
      a.network_id = sa.network_id;
      a.ifname = sa.ifname;
      a.host_ifname = sa.host_ifname;
      a.aliases = sa.aliases;
      if (!sa.ipv4.empty()) a.v4 = IpAddress::Parse(sa.ipv4).value();
      if (!sa.ipv6.empty()) a.v6 = IpAddress::Parse(sa.ipv6).value();
      if (auto mac = ParseMac(sa.mac); mac.ok()) a.mac = *mac;
      else a.mac = MacForIp(a.v4 ? *a.v4 : a.v6 ? *a.v6 : IpAddress());
      for (const auto& ip : {a.v4, a.v6}) {
        if (!ip) continue;
        if (auto* alloc = net->AllocatorFor(ip->family()); alloc != nullptr) {
          if (Status s = alloc->Claim(*ip); !s.ok()) spdlog::error("endpoint {}: {}", row.name, s.message());
        }
      }
      net->endpoints.insert(row.name);
      if (!a.host_ifname.empty()) {
        live_host_links.insert(a.host_ifname);
        RestorePortLocked(net->net, a.host_ifname);
      }
      a.default_route = ep->attachments.empty() && !net->net.spec.internal;
      ep->attachments.push_back(std::move(a));
    }
    ep->ports = row.ports;
    ep->netns_id = {row_ns->dev(), row_ns->inode()};
    endpoint_by_netns_[ep->netns_id] = row.name;
    for (const store::StoredPort& p : ep->ports) published_.emplace(KeyOf(p), std::make_pair(p.host_ip, row.name));
    if (ep->pid > 0) {
      ep->pidfd = PidfdOpen(ep->pid);
    }
    endpoints_[row.name] = std::move(ep);
  }

  // Orphans: links with berth's prefixes that no network or endpoint owns.
  std::set<std::string> bridges;
  for (auto& [name, n] : networks_) bridges.insert(n->net.bridge);
  if (auto links = netlink_->Links(); links.ok()) {
    for (const LinkInfo& l : *links) {
      bool orphan_veth = HasPrefix(l.name, kVethPrefix) && !live_host_links.count(l.name);
      bool orphan_bridge = (HasPrefix(l.name, kBridgePrefix) || l.name == kDefaultBridge) &&
                           l.kind == "bridge" && !bridges.count(l.name);
      if (orphan_veth || orphan_bridge) {
        spdlog::info("removing orphan link {}", l.name);
        (void)netlink_->DeleteLink(l.index);
      }
    }
  }

  RETURN_IF_ERROR(RestoreFirewallLocked());
  if (options_.observer != nullptr) {
    for (auto& [name, n] : networks_) {
      if (n->net.spec.driver != Driver::kBridge) continue;
      options_.observer->NetworkUp(n->net);
    }
    for (auto& [name, ep] : endpoints_) {
      for (const AttachmentState& a : ep->attachments) PublishNamesLocked(name, a, /*added=*/true);
    }
  }
  // After the reconcile, so that leftovers of an earlier state directory cannot collide.
  if (!networks_.count(options_.default_network)) {
    NetworkSpec spec;
    spec.name = options_.default_network;
    if (options_.default_subnet) spec.subnets.push_back(SubnetSpec{*options_.default_subnet, {}, {}, {}, {}});
    RETURN_IF_ERROR(CreateNetworkLocked(std::move(spec), std::string(kDefaultBridge))
                        .WithContext("creating the default network"));
  }
  auto watcher = TableWatcher::Start("inet " + options_.table, [this] {
    // Fires when someone else deleted or flushed the table (or parts of it), never for our
    // own changes; Replace() is atomic, so restoring whole is always safe.
    std::lock_guard relock(mu_);
    if (!firewall_) return;
    spdlog::warn("nftables table inet {} was changed by someone else: restoring it", options_.table);
    if (Status s = RestoreFirewallLocked(); !s.ok()) spdlog::error("restoring nftables: {}", s.message());
  });
  if (watcher.ok()) table_watcher_ = std::move(watcher).value();
  else spdlog::warn("not watching the nftables table: {}", watcher.status().message());
  auto links = LinkDeletionWatcher::Start(
      [this](const std::string& name) {
        if (HasPrefix(name, kVethPrefix)) ForgetVanishedLinks(name);
      },
      [this] { ForgetVanishedLinks(""); });
  if (links.ok()) link_watcher_ = std::move(links).value();
  else spdlog::warn("not watching for deleted links: {}", links.status().message());

  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epoll_fd_ < 0 || wake_fd_ < 0) return IoError("creating the process watcher", errno);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_fd_;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  for (auto& [name, ep] : endpoints_) {
    if (ep->pidfd >= 0) {
      ev.data.fd = ep->pidfd;
      epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, ep->pidfd, &ev);
    }
  }
  watcher_ = std::thread([this] { WatchProcesses(); });
  reap_stop_ = false;
  reaper_ = std::thread([this] { ReapLinks(); });
  started_ = true;
  spdlog::info("networks: {} network(s), {} endpoint(s)", networks_.size(), endpoints_.size());
  return Status::Ok();
}

void NetworkEngine::Stop() {
  table_watcher_.reset();
  link_watcher_.reset();  // its callback takes mu_: stop it before taking the lock
  if (watcher_.joinable()) {
    uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof(one));
    watcher_.join();
  }
  std::lock_guard lock(mu_);
  for (auto& [name, ep] : endpoints_) {
    if (ep->pidfd >= 0) close(ep->pidfd);
    ep->pidfd = -1;
  }
  if (epoll_fd_ >= 0) close(epoll_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
  epoll_fd_ = wake_fd_ = -1;
  started_ = false;
  if (reaper_.joinable()) {
    {
      std::lock_guard reap_lock(reap_mu_);
      reap_stop_ = true;
    }
    reap_cv_.notify_one();
    reaper_.join();  // deletes what is still queued first
  }
}

void NetworkEngine::PublishNamesLocked(const std::string& endpoint, const AttachmentState& a, bool added) {
  if (options_.observer == nullptr) return;
  auto it = networks_.find(a.network);
  if (it == networks_.end() || it->second->net.spec.driver != Driver::kBridge) return;
  std::vector<IpAddress> addresses;
  if (a.v4) addresses.push_back(*a.v4);
  if (a.v6) addresses.push_back(*a.v6);
  std::vector<NetworkName> names;
  auto lower = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  names.push_back({lower(endpoint), addresses});
  for (const std::string& alias : a.aliases) names.push_back({lower(alias), addresses});
  if (added) options_.observer->NamesAdded(it->second->net, names);
  else options_.observer->NamesRemoved(it->second->net, names);
}

void NetworkEngine::WatchProcesses() {
  epoll_event events[16];
  for (;;) {
    int n = epoll_wait(epoll_fd_, events, 16, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < n; ++i) {
      if (events[i].data.fd == wake_fd_) return;
      std::lock_guard lock(mu_);
      for (auto& [name, ep] : endpoints_) {
        if (ep->pidfd == events[i].data.fd) {
          spdlog::info("endpoint {}: process {} exited; removing the endpoint", name, ep->pid);
          std::string doomed = name;
          if (Status s = RemoveEndpointLocked(doomed); !s.ok()) spdlog::error("removing endpoint {}: {}", doomed, s.message());
          break;
        }
      }
    }
  }
}

NetworkRules NetworkEngine::RulesFor(const NetworkState& n) const {
  NetworkRules r;
  r.bridge = n.net.bridge;
  for (const SubnetSpec& s : n.net.spec.subnets) r.subnets.push_back(s.subnet);
  r.internal = n.net.spec.internal;
  r.masquerade = !n.net.spec.internal;
  r.icc = n.net.spec.icc;
  return r;
}

std::vector<PortRule> NetworkEngine::PortRules(const std::vector<store::StoredPort>& ports) const {
  std::vector<PortRule> out;
  for (const store::StoredPort& p : ports) {
    PortRule r;
    if (!p.host_ip.empty()) r.host_ip = IpAddress::Parse(p.host_ip).value();
    r.protocol = p.protocol == "udp" ? Protocol::kUdp : Protocol::kTcp;
    r.host_port = p.host_port;
    r.container_ip = IpAddress::Parse(p.container_ip).value();
    r.container_port = p.container_port;
    for (const auto& [name, n] : networks_) {
      for (const SubnetSpec& s : n->net.spec.subnets) {
        if (s.subnet.Contains(r.container_ip)) r.bridge = n->net.bridge;
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

Status NetworkEngine::RestoreFirewallLocked() {
  std::vector<NetworkRules> nets;
  for (const auto& [name, n] : networks_) {
    if (n->net.spec.driver == Driver::kBridge) nets.push_back(RulesFor(*n));
  }
  std::vector<store::StoredPort> ports;
  for (const auto& [name, ep] : endpoints_) ports.insert(ports.end(), ep->ports.begin(), ep->ports.end());
  std::vector<PortRule> rules = PortRules(ports);
  return firewall_->Replace(nets, rules);
}

// ---- networks --------------------------------------------------------------------------------

std::vector<Cidr> NetworkEngine::TakenPrefixesLocked() {
  std::vector<Cidr> taken;
  for (const auto& [name, n] : networks_) {
    for (const SubnetSpec& s : n->net.spec.subnets) taken.push_back(s.subnet);
  }
  for (auto family : {IpAddress::Family::kV4, IpAddress::Family::kV6}) {
    if (auto routes = netlink_->Routes(family); routes.ok()) {
      for (const RouteInfo& r : *routes) {
        if (r.destination.prefix_length() > 0) taken.push_back(r.destination);
      }
    }
  }
  if (auto addrs = netlink_->Addresses(); addrs.ok()) {
    for (const AddressInfo& a : *addrs) {
      if (a.address.IsLoopback()) continue;
      if (auto c = Cidr::Parse(a.address.ToString() + "/" + std::to_string(a.prefix_len)); c.ok()) taken.push_back(*c);
    }
  }
  return taken;
}

Status NetworkEngine::CheckPortLocked(const std::string& bridge, const std::string& host_ifname) const {
  auto host = netlink_->LinkIndex(host_ifname);
  if (!host.ok()) return NotFound("host interface " + host_ifname + " is missing");
  auto br = netlink_->LinkIndex(bridge);
  if (!br.ok()) return NotFound("bridge " + bridge + " is missing");
  ASSIGN_OR_RETURN(LinkInfo info, netlink_->GetLink(*host));
  if (info.master != *br) return FailedPrecondition("host interface " + host_ifname + " is not on bridge " + bridge);
  if (!info.up) return FailedPrecondition("host interface " + host_ifname + " is down");
  return Status::Ok();
}

void NetworkEngine::RestorePortLocked(const Network& n, const std::string& host_ifname) {
  // Only a port that exists, with its bridge, but is off it or down can be put back: the
  // bridge was deleted (and re-made by BuildBridge) or someone took the port off it.
  if (CheckPortLocked(n.bridge, host_ifname).code() != Code::kFailedPrecondition) return;
  auto host = netlink_->LinkIndex(host_ifname);
  auto bridge = netlink_->LinkIndex(n.bridge);
  if (!host.ok() || !bridge.ok()) return;
  spdlog::warn("{} was not on bridge {}: putting it back", host_ifname, n.bridge);
  if (Status s = netlink_->SetMasterAndUp(*host, *bridge, true); !s.ok()) {
    spdlog::error("{}: {}", host_ifname, s.message());
    return;
  }
  (void)netlink_->SetBridgePortHairpin(*host, true);
  if (!n.spec.icc) (void)netlink_->SetBridgePortIsolated(*host, true);
}

Status NetworkEngine::BuildBridge(const Network& n) {
  const NetworkSpec& spec = n.spec;
  if (spec.driver != Driver::kBridge) {
    // macvlan: the parent must exist; an "eth0.50" parent is made as a VLAN of eth0.
    if (netlink_->LinkIndex(spec.parent).ok()) return Status::Ok();
    size_t dot = spec.parent.rfind('.');
    if (dot == std::string::npos) return NotFound("parent link '" + spec.parent + "' does not exist");
    ASSIGN_OR_RETURN(int base, netlink_->LinkIndex(spec.parent.substr(0, dot)));
    int vid = 0;
    for (char c : spec.parent.substr(dot + 1)) {
      if (c < '0' || c > '9' || vid > 4094) return InvalidArgument("parent '" + spec.parent + "': bad VLAN id");
      vid = vid * 10 + (c - '0');
    }
    RETURN_IF_ERROR(netlink_->CreateVlan(spec.parent, base, static_cast<uint16_t>(vid)));
    ASSIGN_OR_RETURN(int idx, netlink_->LinkIndex(spec.parent));
    return netlink_->SetUp(idx, true);
  }
  // An MTU given at creation also stops the kernel from re-deriving the bridge MTU from every
  // port on each attach (br_mtu_auto_adjust walks all ports).
  RETURN_IF_ERROR(IgnoreExists(netlink_->CreateBridge(n.bridge, spec.mtu ? spec.mtu : kDefaultMtu)));
  ASSIGN_OR_RETURN(int idx, netlink_->LinkIndex(n.bridge));
  // A bridge without a MAC of its own takes the lowest of its ports', so a new endpoint could
  // change it and leave every container's ARP entry for the gateway pointing nowhere for
  // seconds. A fixed MAC (from the gateway address, stable across restarts) never moves.
  if (!spec.subnets.empty() && spec.subnets[0].gateway) {
    RETURN_IF_ERROR(netlink_->SetMac(idx, MacForIp(*spec.subnets[0].gateway)));
  }
  for (const SubnetSpec& s : spec.subnets) {
    RETURN_IF_ERROR(IgnoreExists(netlink_->AddAddress(idx, *s.gateway, s.subnet.prefix_length(), /*nodad=*/true)));
  }
  RETURN_IF_ERROR(netlink_->SetUp(idx, true));
  bool v6 = std::any_of(spec.subnets.begin(), spec.subnets.end(), [](const SubnetSpec& s) { return !s.subnet.network().is_v4(); });
  if (!spec.internal) {
    RETURN_IF_ERROR(WriteSysctl("net/ipv4/ip_forward", "1"));
    if (v6) RETURN_IF_ERROR(WriteSysctl("net/ipv6/conf/all/forwarding", "1"));
  }
  // Connections to 127.0.0.1:PORT are DNATed into the bridge: the kernel must route them.
  return WriteSysctl("net/ipv4/conf/" + n.bridge + "/route_localnet", "1");
}

Status NetworkEngine::CreateNetworkLocked(NetworkSpec spec, const std::string& bridge_name) {
  RETURN_IF_ERROR(ValidateNetworkName(spec.name));
  if (networks_.count(spec.name)) return AlreadyExists("network '" + spec.name + "' already exists");
  std::vector<Cidr> taken = TakenPrefixesLocked();
  std::vector<Cidr> networks_taken;
  for (const auto& [name, n] : networks_) {
    for (const SubnetSpec& s : n->net.spec.subnets) networks_taken.push_back(s.subnet);
  }
  for (const SubnetSpec& s : spec.subnets) {
    for (const Cidr& t : networks_taken) {
      if (t.Overlaps(s.subnet)) {
        return AlreadyExists("subnet " + s.subnet.ToString() + " overlaps " + t.ToString() + " of another network");
      }
    }
  }
  auto has = [&](IpAddress::Family f) {
    return std::any_of(spec.subnets.begin(), spec.subnets.end(), [&](const SubnetSpec& s) { return s.subnet.network().family() == f; });
  };
  if (!has(IpAddress::Family::kV4)) {
    ASSIGN_OR_RETURN(Cidr c, PickFreeSubnet(IpAddress::Family::kV4, taken));
    spec.subnets.insert(spec.subnets.begin(), SubnetSpec{c, std::nullopt, std::nullopt, std::nullopt, std::nullopt});
  }
  if (spec.ipv6 && !has(IpAddress::Family::kV6)) {
    ASSIGN_OR_RETURN(Cidr c, PickFreeSubnet(IpAddress::Family::kV6, taken));
    spec.subnets.push_back(SubnetSpec{c, std::nullopt, std::nullopt, std::nullopt, std::nullopt});
  }
  RETURN_IF_ERROR(NormalizeSpec(spec));

  auto st = std::make_unique<NetworkState>();
  st->net.id = NewNetworkId();
  st->net.spec = spec;
  st->net.created_at = static_cast<int64_t>(time(nullptr));
  st->net.bridge = spec.driver == Driver::kMacvlan ? spec.parent : bridge_name.empty() ? BridgeNameFor(st->net.id) : bridge_name;
  for (const SubnetSpec& s : spec.subnets) {
    std::vector<IpAddress> reserved = {*s.gateway};
    for (const auto& [aux_name, ip] : spec.aux_addresses) {
      if (s.subnet.Contains(ip) && ip.family() == s.subnet.network().family()) reserved.push_back(ip);
    }
    ASSIGN_OR_RETURN(SubnetAllocator a, AllocatorFor(s, reserved));
    st->allocators.push_back(std::move(a));
  }
  Undo undo;
  bool made_bridge = spec.driver == Driver::kBridge && !netlink_->LinkIndex(st->net.bridge).ok();
  RETURN_IF_ERROR(BuildBridge(st->net));
  if (made_bridge) {
    undo.Add([this, name = st->net.bridge] {
      if (auto idx = netlink_->LinkIndex(name); idx.ok()) (void)netlink_->DeleteLink(*idx);
    });
  }
  if (spec.driver == Driver::kBridge) {
    NetworkRules rules = RulesFor(*st);
    RETURN_IF_ERROR(firewall_->AddNetwork(rules));
    undo.Add([this, rules] { (void)firewall_->RemoveNetwork(rules); });
  }
  RETURN_IF_ERROR(store_->CreateNetwork({st->net.id, spec.name, st->net.bridge,
                                         NetworkSpecToJson(spec).dump(), st->net.created_at}));
  undo.Dismiss();
  spdlog::info("network {} created ({} {}, {})", spec.name, DriverName(spec.driver), st->net.bridge,
               spec.subnets[0].subnet.ToString());
  if (options_.observer != nullptr && spec.driver == Driver::kBridge) options_.observer->NetworkUp(st->net);
  networks_[spec.name] = std::move(st);
  return Status::Ok();
}

Result<Network> NetworkEngine::CreateNetwork(NetworkSpec spec) {
  std::lock_guard lock(mu_);
  if (!started_) return Unavailable("the network engine is not running");
  std::string name = spec.name;
  RETURN_IF_ERROR(CreateNetworkLocked(std::move(spec), ""));
  return networks_[name]->net;
}

Status NetworkEngine::RemoveNetwork(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = networks_.find(name);
  if (it == networks_.end()) return NotFound("network '" + name + "' does not exist");
  if (name == options_.default_network) return FailedPrecondition("the default network '" + name + "' cannot be removed");
  NetworkState& n = *it->second;
  if (!n.endpoints.empty()) {
    std::string list;
    for (const auto& e : n.endpoints) list += (list.empty() ? "" : ", ") + e;
    return FailedPrecondition("network '" + name + "' has endpoints attached: " + list);
  }
  RETURN_IF_ERROR(store_->DeleteNetwork(name));
  if (n.net.spec.driver == Driver::kBridge) {
    if (Status s = firewall_->RemoveNetwork(RulesFor(n)); !s.ok() && s.code() != Code::kNotFound) {
      spdlog::warn("network {}: removing nftables elements: {}", name, s.message());
    }
    if (auto idx = netlink_->LinkIndex(n.net.bridge); idx.ok()) (void)netlink_->DeleteLink(*idx);
    if (options_.observer != nullptr) options_.observer->NetworkDown(n.net);
  }
  networks_.erase(it);
  spdlog::info("network {} removed", name);
  return Status::Ok();
}

std::vector<std::string> NetworkEngine::PruneNetworks() {
  std::vector<std::string> names;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, n] : networks_) {
      if (n->endpoints.empty() && name != options_.default_network) names.push_back(name);
    }
  }
  std::vector<std::string> removed;
  for (const std::string& name : names) {
    if (RemoveNetwork(name).ok()) removed.push_back(name);
  }
  return removed;
}

std::vector<Network> NetworkEngine::Networks() const {
  std::lock_guard lock(mu_);
  std::vector<Network> out;
  for (const auto& [name, n] : networks_) out.push_back(n->net);
  return out;
}

Result<Network> NetworkEngine::GetNetwork(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = networks_.find(name);
  if (it == networks_.end()) return NotFound("network '" + name + "' does not exist");
  return it->second->net;
}

Result<json> NetworkEngine::InspectNetwork(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = networks_.find(name);
  if (it == networks_.end()) return NotFound("network '" + name + "' does not exist");
  json j = NetworkToInspectJson(it->second->net);
  for (const std::string& ep_name : it->second->endpoints) {
    auto ep = endpoints_.find(ep_name);
    if (ep == endpoints_.end()) continue;
    for (const AttachmentState& a : ep->second->attachments) {
      if (a.network != name) continue;
      json c = {{"Name", ep_name}, {"MacAddress", MacToString(a.mac)}, {"Interface", a.ifname}};
      if (a.v4) c["IPv4Address"] = a.v4->ToString() + "/" + std::to_string(it->second->SubnetOf(IpAddress::Family::kV4)->subnet.prefix_length());
      if (a.v6) c["IPv6Address"] = a.v6->ToString() + "/" + std::to_string(it->second->SubnetOf(IpAddress::Family::kV6)->subnet.prefix_length());
      c["Aliases"] = a.aliases;
      j["Containers"][ep_name] = c;
    }
  }
  return j;
}

// ---- endpoints -----------------------------------------------------------------------------

Status NetworkEngine::AttachLocked(EndpointState& ep, const Netns& ns, const AttachRequest& req, bool first,
                                   AttachmentState* out) {
  auto it = networks_.find(req.network);
  if (it == networks_.end()) return NotFound("network '" + req.network + "' does not exist");
  NetworkState& net = *it->second;
  if (ep.AttachmentOn(req.network) != ep.attachments.end()) {
    return AlreadyExists("endpoint '" + ep.name + "' is already on network '" + req.network + "'");
  }
  AttachmentState a;
  a.network = req.network;
  a.network_id = net.net.id;
  a.aliases = req.aliases;
  auto ifname_taken = [&](const std::string& name) {
    return std::any_of(ep.attachments.begin(), ep.attachments.end(), [&](const AttachmentState& x) { return x.ifname == name; });
  };
  if (!req.ifname.empty()) {
    RETURN_IF_ERROR(ValidateInterfaceName(req.ifname));
    if (ifname_taken(req.ifname)) return AlreadyExists("endpoint '" + ep.name + "' already has an interface " + req.ifname);
    a.ifname = req.ifname;
  }
  for (int i = 0; a.ifname.empty(); ++i) {
    std::string name = "eth" + std::to_string(i);
    if (!ifname_taken(name)) a.ifname = name;
  }
  Undo undo;
  auto take = [&](IpAddress::Family family, const std::optional<IpAddress>& wanted, std::optional<IpAddress>* slot) -> Status {
    SubnetAllocator* alloc = net.AllocatorFor(family);
    const char* fam = family == IpAddress::Family::kV4 ? "IPv4" : "IPv6";
    if (alloc == nullptr) {
      if (wanted) return InvalidArgument("network '" + req.network + "' has no " + fam + " subnet for " + wanted->ToString());
      return Status::Ok();
    }
    if (wanted) {
      RETURN_IF_ERROR(alloc->Claim(*wanted).WithContext("network '" + req.network + "'"));
      *slot = *wanted;
    } else {
      ASSIGN_OR_RETURN(IpAddress ip, alloc->Allocate());
      *slot = ip;
    }
    undo.Add([alloc, ip = **slot] { alloc->Release(ip); });
    return Status::Ok();
  };
  RETURN_IF_ERROR(take(IpAddress::Family::kV4, req.ipv4, &a.v4));
  RETURN_IF_ERROR(take(IpAddress::Family::kV6, req.ipv6, &a.v6));
  if (!a.v4 && !a.v6) return FailedPrecondition("network '" + req.network + "' has no subnet to take an address from");
  a.mac = req.mac ? *req.mac : MacForIp(a.v4 ? *a.v4 : *a.v6);
  const NetworkSpec& spec = net.net.spec;

  if (spec.driver == Driver::kBridge) {
    ASSIGN_OR_RETURN(int bridge, netlink_->LinkIndex(net.net.bridge));
    a.host_ifname = std::string(kVethPrefix) + RandomHex(12);
    RETURN_IF_ERROR(netlink_->CreateVeth(a.host_ifname, a.ifname, &ns, spec.mtu));
    undo.Add([this, host = a.host_ifname] {
      if (auto idx = netlink_->LinkIndex(host); idx.ok()) (void)netlink_->DeleteLink(*idx);
    });
    ASSIGN_OR_RETURN(int host_idx, netlink_->LinkIndex(a.host_ifname));
    // A bridge port needs no address; its IPv6 link-local chatter would be flooded to every
    // other port of the bridge on each attach.
    RETURN_IF_ERROR(netlink_->DisableIpv6LinkLocal(host_idx));
    RETURN_IF_ERROR(netlink_->SetMasterAndUp(host_idx, bridge, true));
    // Hairpin: a container reaching its own published port comes back through its own port.
    if (Status s = netlink_->SetBridgePortHairpin(host_idx, true); !s.ok()) {
      spdlog::warn("endpoint {}: hairpin mode on {}: {}", ep.name, a.host_ifname, s.message());
    }
    // icc=false: containers of the network must not reach each other. nftables sees bridged
    // traffic only when br_netfilter is loaded; port isolation holds without it.
    if (!spec.icc) RETURN_IF_ERROR(netlink_->SetBridgePortIsolated(host_idx, true));
  } else {
    ASSIGN_OR_RETURN(int parent, netlink_->LinkIndex(spec.parent));
    RETURN_IF_ERROR(netlink_->CreateMacvlan(a.ifname, parent, &ns, spec.mtu));
  }

  // Inside the namespace: MAC, addresses, up, default route.
  ASSIGN_OR_RETURN(Netlink inner, Netlink::OpenIn(ns));
  if (spec.driver == Driver::kMacvlan) {
    undo.Add([&ns, ifname = a.ifname] {
      if (auto nl = Netlink::OpenIn(ns); nl.ok()) {
        if (auto idx = nl->LinkIndex(ifname); idx.ok()) (void)nl->DeleteLink(*idx);
      }
    });
  }
  ASSIGN_OR_RETURN(int idx, inner.LinkIndex(a.ifname));
  RETURN_IF_ERROR(inner.SetMac(idx, a.mac));
  // IPv4-only network: no IPv6 link-local on the container side either (Docker turns IPv6 off
  // there too); it would only add DAD/RS/MLD floods to the bridge.
  if (!a.v6) RETURN_IF_ERROR(inner.DisableIpv6LinkLocal(idx));
  if (a.v4) RETURN_IF_ERROR(inner.AddAddress(idx, *a.v4, net.SubnetOf(IpAddress::Family::kV4)->subnet.prefix_length(), true));
  if (a.v6) RETURN_IF_ERROR(inner.AddAddress(idx, *a.v6, net.SubnetOf(IpAddress::Family::kV6)->subnet.prefix_length(), true));
  RETURN_IF_ERROR(inner.SetUp(idx, true));
  if (auto lo = inner.LinkIndex("lo"); lo.ok()) RETURN_IF_ERROR(inner.SetUp(*lo, true));
  if (first && !spec.internal) {
    a.default_route = true;
    for (auto family : {IpAddress::Family::kV4, IpAddress::Family::kV6}) {
      const SubnetSpec* s = net.SubnetOf(family);
      if (s == nullptr || !s->gateway) continue;
      RouteInfo r;
      r.destination = *Cidr::Parse(family == IpAddress::Family::kV4 ? "0.0.0.0/0" : "::/0");
      r.gateway = *s->gateway;
      r.oif = idx;
      RETURN_IF_ERROR(IgnoreExists(inner.AddRoute(r)));
    }
  }
  undo.Dismiss();
  net.endpoints.insert(ep.name);
  *out = std::move(a);
  return Status::Ok();
}

void NetworkEngine::DetachLocked(EndpointState& ep, const AttachmentState& a, LinkTeardown teardown) {
  auto it = networks_.find(a.network);
  if (it != networks_.end()) {
    NetworkState& net = *it->second;
    for (const auto& ip : {a.v4, a.v6}) {
      if (!ip) continue;
      if (auto* alloc = net.AllocatorFor(ip->family())) alloc->Release(*ip);
    }
    net.endpoints.erase(ep.name);
  }
  if (!a.host_ifname.empty()) {
    auto idx = netlink_->LinkIndex(a.host_ifname);
    if (!idx.ok()) return;
    if (teardown == LinkTeardown::kInBackground && reaper_.joinable() && netlink_->SetUp(*idx, false).ok()) {
      std::lock_guard lock(reap_mu_);
      reap_queue_.push_back(a.host_ifname);
      reap_cv_.notify_one();
      return;
    }
    (void)netlink_->DeleteLink(*idx);
  } else if (auto ns = Netns::Open(ep.netns); ns.ok()) {
    if (auto inner = Netlink::OpenIn(*ns); inner.ok()) {
      if (auto idx = inner->LinkIndex(a.ifname); idx.ok()) (void)inner->DeleteLink(*idx);
    }
  }
}

void NetworkEngine::ReapLinks() {
  auto nl = Netlink::Open();
  if (!nl.ok()) spdlog::error("link reaper: {}", nl.status().message());
  std::unique_lock lock(reap_mu_);
  for (;;) {
    reap_cv_.wait(lock, [&] { return reap_stop_ || !reap_queue_.empty(); });
    if (reap_queue_.empty()) return;  // stopping, and nothing left to delete
    std::vector<std::string> batch;
    batch.swap(reap_queue_);
    lock.unlock();
    for (const std::string& name : batch) {
      if (!nl.ok()) break;
      // Gone already is fine (its namespace died first).
      if (auto idx = nl->LinkIndex(name); idx.ok()) (void)nl->DeleteLink(*idx);
    }
    lock.lock();
  }
}

Result<std::vector<store::StoredPort>> NetworkEngine::AssignPortsLocked(const EndpointState& ep,
                                                                        const std::vector<PortSpec>& specs) {
  // The owner of a host port `p` would clash with, among published ports and those this
  // request already took; "" when it is free. An any-address port clashes with every address.
  std::vector<store::StoredPort> out;
  auto clash = [&](const store::StoredPort& p) -> std::optional<std::string> {
    auto [first, last] = published_.equal_range(KeyOf(p));
    for (auto it = first; it != last; ++it) {
      const std::string& host_ip = it->second.first;
      if (host_ip.empty() || p.host_ip.empty() || host_ip == p.host_ip) return it->second.second;
    }
    for (const store::StoredPort& q : out) {
      if (PortsConflict(p, q)) return std::string();
    }
    return std::nullopt;
  };
  std::mt19937 rng(std::random_device{}());
  for (const PortSpec& spec : specs) {
    bool want_v6 = spec.host_ip && !spec.host_ip->is_v4();
    std::optional<IpAddress> target;
    for (const AttachmentState& a : ep.attachments) {
      const auto& ip = want_v6 ? a.v6 : a.v4;
      if (ip) {
        target = ip;
        break;
      }
    }
    if (!target) return InvalidArgument("cannot publish " + spec.ToString() + ": the endpoint has no " + (want_v6 ? "IPv6" : "IPv4") + " address");
    for (size_t i = 0; i < spec.count(); ++i) {
      store::StoredPort p;
      p.protocol = std::string(ProtocolName(spec.protocol));
      p.host_ip = spec.host_ip ? spec.host_ip->ToString() : "";
      p.container_ip = target->ToString();
      p.container_port = static_cast<uint16_t>(spec.container_first + i);
      if (spec.random_host_port()) {
        constexpr int kSpan = kRandomPortLast - kRandomPortFirst + 1;
        int start = static_cast<int>(rng() % kSpan);
        bool found = false;
        for (int k = 0; k < kSpan && !found; ++k) {
          p.host_port = static_cast<uint16_t>(kRandomPortFirst + (start + k) % kSpan);
          found = !clash(p).has_value() && !HostPortBusy(p);
        }
        if (!found) return ResourceExhausted("no free host port left in " + std::to_string(kRandomPortFirst) + "-" + std::to_string(kRandomPortLast));
      } else {
        p.host_port = static_cast<uint16_t>(spec.host_first + i);
        if (auto owner = clash(p)) {
          return AlreadyExists("host port " + (p.host_ip.empty() ? std::string("0.0.0.0") : p.host_ip) + ":" +
                               std::to_string(p.host_port) + "/" + p.protocol + " is already published" +
                               (owner->empty() ? std::string(" by this request") : " by endpoint '" + *owner + "'"));
        }
        if (HostPortBusy(p)) {
          return AlreadyExists("host port " + (p.host_ip.empty() ? std::string("0.0.0.0") : p.host_ip) + ":" +
                               std::to_string(p.host_port) + "/" + p.protocol + " is in use by a program on this host");
        }
      }
      out.push_back(p);
    }
  }
  return out;
}

void NetworkEngine::ForgetPortLocked(const store::StoredPort& p) {
  auto [first, last] = published_.equal_range(KeyOf(p));
  for (auto it = first; it != last; ++it) {
    if (it->second.first == p.host_ip) {
      published_.erase(it);
      return;
    }
  }
}

Status NetworkEngine::WriteEndpointFiles(const EndpointState& ep, const std::vector<IpAddress>& dns) {
  fs::path dir = fs::path(options_.state_dir) / "endpoints" / ep.name;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError("creating " + dir.string(), ec.value());
  std::string resolv = "# written by berthd for endpoint " + ep.name + "\n";
  std::vector<IpAddress> servers = dns;
  if (servers.empty() && options_.observer != nullptr) {
    // berthd answers on the gateway: endpoint names of the network, everything else forwarded.
    for (const AttachmentState& a : ep.attachments) {
      auto n = networks_.find(a.network);
      if (n == networks_.end() || n->second->net.spec.driver != Driver::kBridge) continue;
      if (const SubnetSpec* s = n->second->SubnetOf(IpAddress::Family::kV4); s && s->gateway) {
        servers.push_back(*s->gateway);
        break;
      }
    }
  }
  if (servers.empty()) {
    // No network DNS (macvlan, --network none, names off): the host's upstream resolvers.
    servers = options_.host_nameservers;
  }
  for (const IpAddress& ip : servers) resolv += "nameserver " + ip.ToString() + "\n";
  std::string hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";
  for (const AttachmentState& a : ep.attachments) {
    std::string names = ep.name;
    for (const auto& alias : a.aliases) names += " " + alias;
    if (a.v4) hosts += a.v4->ToString() + "\t" + names + "\n";
    if (a.v6) hosts += a.v6->ToString() + "\t" + names + "\n";
  }
  for (auto [file, text] : {std::pair{"resolv.conf", &resolv}, std::pair{"hosts", &hosts}}) {
    fs::path tmp = dir / (std::string(file) + ".tmp");
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << *text;
      if (!out.flush()) return IoError("writing " + tmp.string(), errno);
    }
    fs::rename(tmp, dir / file, ec);
    if (ec) return IoError("writing " + (dir / file).string(), ec.value());
  }
  return Status::Ok();
}

store::StoredAttachment NetworkEngine::StoredAttachmentOf(const AttachmentState& a) {
  return {a.network_id, a.ifname, a.host_ifname, MacToString(a.mac),
          a.v4 ? a.v4->ToString() : "", a.v6 ? a.v6->ToString() : "", a.aliases};
}

store::StoredEndpoint NetworkEngine::StoredOf(const EndpointState& ep) const {
  store::StoredEndpoint s;
  s.name = ep.name;
  s.netns = ep.netns;
  s.owned = ep.owned;
  s.pid = ep.pid;
  json dns = json::array();
  for (const auto& ip : ep.dns) dns.push_back(ip.ToString());
  json spec = {{"dns", dns}};
  if (!ep.container_id.empty()) spec["container_id"] = ep.container_id;
  s.spec = spec.dump();
  for (const AttachmentState& a : ep.attachments) {
    s.attachments.push_back(StoredAttachmentOf(a));
  }
  s.ports = ep.ports;
  return s;
}

EndpointView NetworkEngine::ViewOf(const EndpointState& ep) const {
  EndpointView v;
  v.name = ep.name;
  v.container_id = ep.container_id;
  v.netns = ep.netns;
  v.owned = ep.owned;
  v.pid = ep.pid;
  v.ports = ep.ports;
  fs::path dir = fs::path(options_.state_dir) / "endpoints" / ep.name;
  v.resolv_conf = fs::absolute(dir / "resolv.conf").string();
  v.hosts = fs::absolute(dir / "hosts").string();
  for (const AttachmentState& a : ep.attachments) {
    AttachmentView av;
    av.network = a.network;
    av.network_id = a.network_id;
    av.ifname = a.ifname;
    av.host_ifname = a.host_ifname;
    av.mac = MacToString(a.mac);
    av.ipv4 = a.v4;
    av.ipv6 = a.v6;
    av.aliases = a.aliases;
    if (auto it = networks_.find(a.network); it != networks_.end()) {
      const NetworkSpec& spec = it->second->net.spec;
      bool bridged = spec.driver == Driver::kBridge;
      if (bridged) av.bridge = it->second->net.bridge;
      av.default_route = a.default_route;
      av.network_dns = bridged && options_.observer != nullptr;
      if (const SubnetSpec* s = it->second->SubnetOf(IpAddress::Family::kV4)) {
        av.gateway4 = s->gateway;
        av.prefix4 = s->subnet.prefix_length();
      }
      if (const SubnetSpec* s = it->second->SubnetOf(IpAddress::Family::kV6)) {
        av.gateway6 = s->gateway;
        av.prefix6 = s->subnet.prefix_length();
      }
    }
    v.attachments.push_back(std::move(av));
  }
  return v;
}

Result<EndpointView> NetworkEngine::CreateEndpoint(const EndpointRequest& req) {
  std::lock_guard lock(mu_);
  if (!started_) return Unavailable("the network engine is not running");
  return CreateEndpointLocked(req);
}

Result<EndpointView> NetworkEngine::CreateEndpointLocked(const EndpointRequest& req) {
  RETURN_IF_ERROR(ValidateName("endpoint", req.name));
  if (endpoints_.count(req.name)) return AlreadyExists("endpoint '" + req.name + "' already exists");
  if (!req.container_id.empty() && endpoint_by_container_.count(req.container_id)) {
    return AlreadyExists("container " + req.container_id + " is already endpoint '" + endpoint_by_container_[req.container_id] + "'");
  }
  for (const AttachRequest& a : req.networks) {
    if (!networks_.count(a.network)) return NotFound("network '" + a.network + "' does not exist");
  }
  auto ep = std::make_unique<EndpointState>();
  ep->name = req.name;
  ep->container_id = req.container_id;
  ep->dns = req.dns;
  Undo undo;
  std::optional<Netns> ns;
  if (req.netns.empty()) {
    std::string ns_name = "berth-" + req.name;
    auto made = Netns::CreateNamed(ns_name);
    if (!made.ok()) return made.status().WithContext("creating the namespace of endpoint '" + req.name + "'");
    ns.emplace(std::move(made).value());
    ep->netns = std::string(Netns::kNamedDir) + "/" + ns_name;
    ep->owned = true;
    undo.Add([ns_name] { (void)Netns::DeleteNamed(ns_name); });
  } else {
    auto opened = Netns::Open(req.netns);
    if (!opened.ok()) return opened.status().WithContext("endpoint '" + req.name + "'");
    ns.emplace(std::move(opened).value());
    ep->netns = req.netns;
    if (auto it = endpoint_by_netns_.find({ns->dev(), ns->inode()}); it != endpoint_by_netns_.end()) {
      return AlreadyExists("namespace " + req.netns + " is already endpoint '" + it->second + "'");
    }
  }
  ep->netns_id = {ns->dev(), ns->inode()};
  if (req.networks.empty()) {
    // --network none: loopback only.
    ASSIGN_OR_RETURN(Netlink inner, Netlink::OpenIn(*ns));
    if (auto lo = inner.LinkIndex("lo"); lo.ok()) RETURN_IF_ERROR(inner.SetUp(*lo, true));
  }
  for (size_t i = 0; i < req.networks.size(); ++i) {
    AttachmentState a;
    RETURN_IF_ERROR(AttachLocked(*ep, *ns, req.networks[i], i == 0, &a));
    ep->attachments.push_back(std::move(a));
    undo.Add([this, raw = ep.get(), at = ep->attachments.back()] { DetachLocked(*raw, at); });
  }
  ASSIGN_OR_RETURN(ep->ports, AssignPortsLocked(*ep, req.ports));
  std::vector<PortRule> rules = PortRules(ep->ports);
  if (!rules.empty()) {
    RETURN_IF_ERROR(firewall_->AddPorts(rules));
    undo.Add([this, rules] { (void)firewall_->RemovePorts(rules); });
  }
  RETURN_IF_ERROR(WriteEndpointFiles(*ep, req.dns));
  if (req.pid > 0) RETURN_IF_ERROR(WatchPidLocked(*ep, req.pid));
  RETURN_IF_ERROR(store_->CreateEndpoint(StoredOf(*ep)));
  undo.Dismiss();
  std::string name = ep->name;
  endpoint_by_netns_[ep->netns_id] = name;
  if (!ep->container_id.empty()) endpoint_by_container_[ep->container_id] = name;
  for (const store::StoredPort& p : ep->ports) published_.emplace(KeyOf(p), std::make_pair(p.host_ip, name));
  endpoints_[name] = std::move(ep);
  for (const AttachmentState& a : endpoints_[name]->attachments) PublishNamesLocked(name, a, /*added=*/true);
  EndpointView view = ViewOf(*endpoints_[name]);
  spdlog::info("endpoint {} created in {}", name, view.netns);
  return view;
}

Status NetworkEngine::WatchPidLocked(EndpointState& ep, int64_t pid) {
  int fd = PidfdOpen(pid);
  if (fd < 0) {
    return errno == ESRCH ? InvalidArgument("process " + std::to_string(pid) + " does not exist")
                          : IoError("watching process " + std::to_string(pid), errno);
  }
  if (ep.pidfd >= 0) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, ep.pidfd, nullptr);
    close(ep.pidfd);
  }
  ep.pidfd = fd;
  ep.pid = pid;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) return IoError("watching process " + std::to_string(pid), errno);
  return Status::Ok();
}

Status NetworkEngine::SetEndpointPid(const std::string& name, int64_t pid) {
  std::lock_guard lock(mu_);
  auto it = endpoints_.find(name);
  if (it == endpoints_.end()) return NotFound("endpoint '" + name + "' does not exist");
  if (pid <= 0) return InvalidArgument("pid must be a positive process id");
  EndpointState& ep = *it->second;
  int64_t old = ep.pid;
  RETURN_IF_ERROR(WatchPidLocked(ep, pid));
  Status st = store_->SetEndpointPid(name, pid);
  if (!st.ok()) ep.pid = old;
  return st;
}

Result<EndpointView> NetworkEngine::Connect(const std::string& target, const AttachRequest& req) {
  std::lock_guard lock(mu_);
  if (!started_) return Unavailable("the network engine is not running");
  auto it = endpoints_.find(target);
  if (it != endpoints_.end()) {
    EndpointState& ep = *it->second;
    ASSIGN_OR_RETURN(Netns ns, Netns::Open(ep.netns));
    AttachmentState a;
    RETURN_IF_ERROR(AttachLocked(ep, ns, req, ep.attachments.empty(), &a));
    ep.attachments.push_back(a);
    Status st = store_->AddAttachment(ep.name, StoredAttachmentOf(a));
    if (!st.ok()) {
      ep.attachments.pop_back();
      DetachLocked(ep, a);
      return st;
    }
    (void)WriteEndpointFiles(ep, ep.dns);
    PublishNamesLocked(ep.name, ep.attachments.back(), /*added=*/true);
    return ViewOf(ep);
  }
  // A namespace that is not an endpoint yet: a named netns, or a path.
  EndpointRequest create;
  if (!target.empty() && target[0] == '/') {
    create.netns = target;
    // "/proc/123/ns/net" → "pid-123"; "/run/netns/foo" → "foo".
    if (target.rfind("/proc/", 0) == 0) {
      create.name = "pid-" + target.substr(6, target.find('/', 6) - 6);
    } else {
      create.name = fs::path(target).filename().string();
    }
  } else {
    RETURN_IF_ERROR(ValidateName("endpoint", target));
    create.netns = std::string(Netns::kNamedDir) + "/" + target;
    create.name = target;
    if (!fs::exists(create.netns)) return NotFound("'" + target + "' is neither an endpoint nor a named network namespace");
  }
  create.networks.push_back(req);
  return CreateEndpointLocked(create);
}

Status NetworkEngine::Disconnect(const std::string& name, const std::string& network, LinkTeardown teardown) {
  std::lock_guard lock(mu_);
  return DisconnectLocked(name, network, teardown);
}

void NetworkEngine::ForgetVanishedLinks(const std::string& host_ifname) {
  std::lock_guard lock(mu_);
  if (!started_) return;
  std::set<std::string> present;
  if (host_ifname.empty()) {
    auto all = netlink_->Links();
    if (!all.ok()) return;
    for (const LinkInfo& l : *all) present.insert(l.name);
  }
  // Our own deletions arrive here too, after the attachment is gone: they match nothing.
  std::vector<std::pair<std::string, std::string>> gone;  // (endpoint, network)
  for (const auto& [name, ep] : endpoints_) {
    for (const AttachmentState& a : ep->attachments) {
      if (a.host_ifname.empty()) continue;
      bool vanished = host_ifname.empty() ? !present.count(a.host_ifname) : a.host_ifname == host_ifname;
      if (!vanished) continue;
      // Only a dead namespace ends the attachment; an interface deleted inside a live one is
      // drift for the owner to see (CNI CHECK), not berth's to paper over.
      auto ns = Netns::Open(ep->netns);
      bool dead = !ns.ok() || std::make_pair(ns->dev(), ns->inode()) != ep->netns_id;
      if (dead) gone.emplace_back(name, a.network);
    }
  }
  for (const auto& [name, network] : gone) {
    spdlog::info("endpoint {}: its interface on {} was deleted outside berth (namespace gone?); detaching", name, network);
    if (Status s = DisconnectLocked(name, network, LinkTeardown::kNow); !s.ok()) spdlog::warn("endpoint {}: {}", name, s.message());
  }
}

Status NetworkEngine::DisconnectLocked(const std::string& name, const std::string& network, LinkTeardown teardown) {
  auto it = endpoints_.find(name);
  if (it == endpoints_.end()) return NotFound("endpoint '" + name + "' does not exist");
  EndpointState& ep = *it->second;
  auto at = ep.AttachmentOn(network);
  if (at == ep.attachments.end()) return NotFound("endpoint '" + name + "' is not attached to network '" + network + "'");
  RETURN_IF_ERROR(store_->RemoveAttachment(name, at->network_id));
  std::vector<store::StoredPort> gone, kept;
  for (const auto& p : ep.ports) {
    bool to_it = (at->v4 && p.container_ip == at->v4->ToString()) || (at->v6 && p.container_ip == at->v6->ToString());
    (to_it ? gone : kept).push_back(p);
  }
  if (!gone.empty()) {
    if (Status s = firewall_->RemovePorts(PortRules(gone)); !s.ok()) spdlog::warn("endpoint {}: {}", name, s.message());
  }
  ep.ports = kept;
  for (const store::StoredPort& p : gone) ForgetPortLocked(p);
  AttachmentState removed = *at;
  ep.attachments.erase(at);
  DetachLocked(ep, removed, teardown);
  PublishNamesLocked(name, removed, /*added=*/false);
  (void)WriteEndpointFiles(ep, ep.dns);
  if (ep.attachments.empty() && !ep.owned) {
    // A foreign namespace with no network left is no longer berth's business.
    return RemoveEndpointLocked(name);
  }
  return Status::Ok();
}

Status NetworkEngine::RemoveEndpoint(const std::string& name) {
  std::lock_guard lock(mu_);
  return RemoveEndpointLocked(name);
}

Status NetworkEngine::RemoveEndpointLocked(const std::string& name) {
  auto it = endpoints_.find(name);
  if (it == endpoints_.end()) return NotFound("endpoint '" + name + "' does not exist");
  EndpointState& ep = *it->second;
  RETURN_IF_ERROR(store_->DeleteEndpoint(name));
  if (!ep.ports.empty()) {
    if (Status s = firewall_->RemovePorts(PortRules(ep.ports)); !s.ok()) spdlog::warn("endpoint {}: {}", name, s.message());
  }
  // berth's own namespace goes right below: its veths need not be waited for.
  for (const AttachmentState& a : ep.attachments) {
    DetachLocked(ep, a, ep.owned ? LinkTeardown::kInBackground : LinkTeardown::kNow);
  }
  if (ep.owned && ep.netns.rfind(std::string(Netns::kNamedDir) + "/", 0) == 0) {
    (void)Netns::DeleteNamed(ep.netns.substr(std::string(Netns::kNamedDir).size() + 1));
  }
  if (ep.pidfd >= 0) {
    if (epoll_fd_ >= 0) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, ep.pidfd, nullptr);
    close(ep.pidfd);
  }
  std::error_code ec;
  fs::remove_all(fs::path(options_.state_dir) / "endpoints" / name, ec);
  for (const AttachmentState& a : ep.attachments) PublishNamesLocked(name, a, /*added=*/false);
  for (const store::StoredPort& p : ep.ports) ForgetPortLocked(p);
  endpoint_by_netns_.erase(ep.netns_id);
  if (!ep.container_id.empty()) endpoint_by_container_.erase(ep.container_id);
  endpoints_.erase(it);
  spdlog::info("endpoint {} removed", name);
  return Status::Ok();
}

std::vector<EndpointView> NetworkEngine::Endpoints() const {
  std::lock_guard lock(mu_);
  std::vector<EndpointView> out;
  for (const auto& [name, ep] : endpoints_) out.push_back(ViewOf(*ep));
  return out;
}

Result<EndpointView> NetworkEngine::GetEndpoint(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = endpoints_.find(name);
  if (it == endpoints_.end()) return NotFound("endpoint '" + name + "' does not exist");
  return ViewOf(*it->second);
}

Status NetworkEngine::VerifyNetwork(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = networks_.find(name);
  if (it == networks_.end()) return NotFound("network '" + name + "' does not exist");
  const Network& n = it->second->net;
  const std::string& link = n.spec.driver == Driver::kBridge ? n.bridge : n.spec.parent;
  auto idx = netlink_->LinkIndex(link);
  if (!idx.ok()) return FailedPrecondition("network '" + name + "': link " + link + " is missing");
  ASSIGN_OR_RETURN(LinkInfo info, netlink_->GetLink(*idx));
  if (!info.up) return FailedPrecondition("network '" + name + "': link " + link + " is down");
  return Status::Ok();
}

std::optional<EndpointView> NetworkEngine::EndpointOfContainer(const std::string& container_id) const {
  std::lock_guard lock(mu_);
  auto it = endpoint_by_container_.find(container_id);
  if (it == endpoint_by_container_.end()) return std::nullopt;
  return ViewOf(*endpoints_.at(it->second));
}

Status NetworkEngine::VerifyAttachment(const std::string& name, const std::string& network) const {
  std::lock_guard lock(mu_);
  auto it = endpoints_.find(name);
  if (it == endpoints_.end()) return NotFound("endpoint '" + name + "' does not exist");
  const EndpointState& ep = *it->second;
  auto at = ep.AttachmentOn(network);
  if (at == ep.attachments.end()) return NotFound("endpoint '" + name + "' is not attached to network '" + network + "'");
  const AttachmentState& a = *at;
  auto drift = [&](const std::string& what) { return FailedPrecondition("endpoint '" + name + "': " + what); };
  auto ns = Netns::Open(ep.netns);
  if (!ns.ok()) return drift("its namespace " + ep.netns + " is gone");
  auto inner = Netlink::OpenIn(*ns);
  if (!inner.ok()) return inner.status();
  auto idx = inner->LinkIndex(a.ifname);
  if (!idx.ok()) return drift("interface " + a.ifname + " is missing in " + ep.netns);
  ASSIGN_OR_RETURN(LinkInfo link, inner->GetLink(*idx));
  if (!link.up) return drift("interface " + a.ifname + " is down");
  if (link.mac != a.mac) return drift("interface " + a.ifname + " has MAC " + MacToString(link.mac) + ", not " + MacToString(a.mac));
  ASSIGN_OR_RETURN(std::vector<AddressInfo> addresses, inner->Addresses(*idx));
  for (const auto& want : {a.v4, a.v6}) {
    if (!want) continue;
    bool found = std::any_of(addresses.begin(), addresses.end(), [&](const AddressInfo& x) { return x.address == *want; });
    if (!found) return drift("interface " + a.ifname + " lost its address " + want->ToString());
  }
  if (auto nit = networks_.find(a.network); !a.host_ifname.empty() && nit != networks_.end()) {
    Status port = CheckPortLocked(nit->second->net.bridge, a.host_ifname);
    if (port.code() == Code::kNotFound || port.code() == Code::kFailedPrecondition) return drift(port.message());
    return port;
  }
  return Status::Ok();
}

}  // namespace berth::net
