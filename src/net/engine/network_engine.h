// NetworkEngine: berthd's container networks. It owns the networks and endpoints in memory,
// keeps them in the state store (the store is written before a request is answered), builds
// them in the kernel over netlink (bridges, veths, addresses, routes) and in berth's nftables
// table (NAT, published ports, isolation), and reconciles the kernel with the store at start.
// Thread-safe: every public method takes the engine's lock; requests are serialized, which is
// what makes IPAM and host-port checks race-free.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "net/engine/endpoint.h"
#include "net/firewall/firewall.h"
#include "net/firewall/table_watcher.h"
#include "net/ipam/ipam.h"
#include "net/kernel/address_watch.h"
#include "net/kernel/netlink.h"
#include "net/model/network.h"
#include "store/store.h"

namespace berth::net {

// One DNS name of a network: an endpoint's name or alias and its addresses on that network.
struct NetworkName {
  std::string name;                  // lower-case, no trailing dot
  std::vector<IpAddress> addresses;
};

// Told about networks and the names on them, to serve those names on the network's gateway
// (the daemon's NetworkDns). Called with the engine's lock held: implementations must be quick
// and must not call back into the engine.
class NetworkObserver {
 public:
  virtual ~NetworkObserver() = default;
  // A bridge network exists (created, or loaded at start); its gateways are configured.
  virtual void NetworkUp(const Network& network) = 0;
  virtual void NetworkDown(const Network& network) = 0;
  // An endpoint joined (or left) the network: its name and aliases with its addresses there.
  // Several endpoints may share a name (an alias): the addresses add up.
  virtual void NamesAdded(const Network& network, const std::vector<NetworkName>& names) = 0;
  virtual void NamesRemoved(const Network& network, const std::vector<NetworkName>& names) = 0;
};

// How a detach gets rid of the host's veth end. Deleting a veth waits for the kernel's RCU
// barrier (~20-30 ms); taking it down cuts its traffic at once (~1 ms) and the deletion can
// follow on a background thread.
enum class LinkTeardown {
  kNow,           // the interface is gone from the namespace when the call returns
  kInBackground,  // traffic stops when the call returns; the pair is deleted right after
};

struct EngineOptions {
  // The default network ("bridge", on berth0) is created at first start with this subnet, or
  // one picked from the pools when unset.
  std::string default_network = "bridge";
  std::optional<Cidr> default_subnet;
  // Where endpoint files (resolv.conf, hosts) are written: <state_dir>/endpoints/NAME/.
  std::string state_dir = "./var";
  // The nftables table berth owns (family inet).
  std::string table = "berth";
  // resolv.conf nameservers of endpoints without network DNS (macvlan, --network none):
  // the host's, from /etc/resolv.conf; loopback ones cannot be reached from a namespace.
  std::vector<IpAddress> host_nameservers;
  // Serves endpoint names; when set, endpoints' resolv.conf points at their network's gateway.
  NetworkObserver* observer = nullptr;
};

// One attachment as reported (API, CLI).
struct AttachmentView {
  std::string network, network_id, ifname, host_ifname, mac;
  std::optional<IpAddress> ipv4, ipv6;
  std::optional<IpAddress> gateway4, gateway6;
  int prefix4 = 0, prefix6 = 0;
  std::vector<std::string> aliases;
  std::string bridge;          // the network's Linux bridge ("" for macvlan)
  bool default_route = false;  // the endpoint's default route goes through this network
  bool network_dns = false;    // names are served on the gateway (the endpoint's resolv.conf)
};

struct EndpointView {
  std::string name;
  std::string container_id;  // set when a CNI plugin made the endpoint
  std::string netns;
  bool owned = false;
  int64_t pid = 0;
  std::vector<AttachmentView> attachments;
  std::vector<store::StoredPort> ports;
  std::string resolv_conf, hosts;  // files for the endpoint's /etc/resolv.conf and /etc/hosts
  nlohmann::json ToJson() const;
};

class NetworkEngine {
 public:
  NetworkEngine(store::Store* store, EngineOptions options);
  ~NetworkEngine();

  // Loads the store, creates the default network if missing, and makes the kernel match:
  // bridges and their addresses, the nftables table (rebuilt whole), endpoints whose namespace
  // is gone are removed, orphan links with berth's prefixes are deleted. kIo/kPermissionDenied
  // when netlink or nftables cannot be used (berthd then runs without networks).
  Status Start();
  // Stops the watcher threads. Kernel state stays (published ports keep working while berthd
  // restarts).
  void Stop();

  // --- networks ---
  // kInvalidArgument (bad spec), kAlreadyExists (name taken, subnet overlapping another
  // network or a host route), kNotFound (macvlan parent), kResourceExhausted (pools full).
  Result<Network> CreateNetwork(NetworkSpec spec);
  // kNotFound; kFailedPrecondition with endpoints attached or for the default network.
  Status RemoveNetwork(const std::string& name);
  // Removes every network without endpoints (except the default); returns their names.
  std::vector<std::string> PruneNetworks();
  std::vector<Network> Networks() const;
  Result<Network> GetNetwork(const std::string& name) const;  // kNotFound
  // Docker-shaped inspect JSON with the attached endpoints. kNotFound.
  Result<nlohmann::json> InspectNetwork(const std::string& name) const;
  // Whether the network's kernel side serves: a bridge present and up (macvlan: its parent).
  // kNotFound (no such network); kFailedPrecondition naming what is missing.
  Status VerifyNetwork(const std::string& name) const;

  // --- endpoints ---
  // Creates the endpoint (and its namespace when request.netns is empty), attaches it to each
  // network, publishes its ports, writes its resolv.conf/hosts; all or nothing.
  // kInvalidArgument, kNotFound (network, namespace), kAlreadyExists (name, address, host port),
  // kResourceExhausted (no address or free port left).
  Result<EndpointView> CreateEndpoint(const EndpointRequest& request);
  // Attaches an endpoint — or a namespace path, which becomes an endpoint named `target`'s
  // basename — to one more network. Errors as CreateEndpoint.
  Result<EndpointView> Connect(const std::string& target, const AttachRequest& request);
  // kNotFound (endpoint, or not attached to the network). kInBackground suits callers whose
  // namespace is going away anyway (CNI DEL).
  Status Disconnect(const std::string& endpoint, const std::string& network,
                    LinkTeardown teardown = LinkTeardown::kNow);
  // Detaches everything, removes the endpoint (and its namespace when berth made it). kNotFound.
  // An endpoint in a namespace berth made has its veths deleted in the background (the
  // namespace goes at once; the pair is down first).
  Status RemoveEndpoint(const std::string& name);
  // Records the process running in the endpoint: when it exits, the endpoint is removed.
  // kNotFound, kInvalidArgument (no such process).
  Status SetEndpointPid(const std::string& name, int64_t pid);
  std::vector<EndpointView> Endpoints() const;
  Result<EndpointView> GetEndpoint(const std::string& name) const;
  // The endpoint a CNI plugin made for this container id, if any.
  std::optional<EndpointView> EndpointOfContainer(const std::string& container_id) const;
  // Compares the kernel with what berth made for the endpoint's attachment to `network`: the
  // namespace, the interface inside it (present, up, MAC, addresses) and the host end (present,
  // on the network's bridge). kNotFound (no such endpoint or attachment); kFailedPrecondition
  // naming the first difference found.
  Status VerifyAttachment(const std::string& endpoint, const std::string& network) const;

 private:
  struct NetworkState;
  struct AttachmentState;
  struct EndpointState;

  // `bridge`: the Linux bridge's name; "" = derived from the new network id.
  Status CreateNetworkLocked(NetworkSpec spec, const std::string& bridge);
  Status BuildBridge(const Network& n);
  // Ok when host veth end `host_ifname` is on `bridge` and up; kNotFound (either link is
  // missing) or kFailedPrecondition (off the bridge, down), naming what.
  Status CheckPortLocked(const std::string& bridge, const std::string& host_ifname) const;
  // Puts an endpoint's host veth end back on its network's bridge (and up) when it is not.
  void RestorePortLocked(const Network& n, const std::string& host_ifname);
  Status AttachLocked(EndpointState& ep, const Netns& ns, const AttachRequest& req, bool first,
                      AttachmentState* out);
  void DetachLocked(EndpointState& ep, const AttachmentState& a, LinkTeardown teardown = LinkTeardown::kNow);
  // The background deleter of veth ends (LinkTeardown::kInBackground), with its own netlink
  // socket; Stop() drains its queue.
  void ReapLinks();
  Result<std::vector<store::StoredPort>> AssignPortsLocked(const EndpointState& ep,
                                                           const std::vector<PortSpec>& specs);
  std::vector<PortRule> PortRules(const std::vector<store::StoredPort>& ports) const;
  NetworkRules RulesFor(const NetworkState& n) const;
  Status RemoveEndpointLocked(const std::string& name);
  Status DisconnectLocked(const std::string& name, const std::string& network, LinkTeardown teardown);
  // A host veth end was deleted by someone else, typically with the namespace of its peer
  // (`ip netns del`, a runtime that never ran DEL): its attachment (and an endpoint left with
  // none) goes, with its addresses, ports and names. `host_ifname` "" = check every attachment.
  void ForgetVanishedLinks(const std::string& host_ifname);
  Status WatchPidLocked(EndpointState& ep, int64_t pid);
  Result<EndpointView> CreateEndpointLocked(const EndpointRequest& request);
  Status WriteEndpointFiles(const EndpointState& ep, const std::vector<IpAddress>& dns);
  EndpointView ViewOf(const EndpointState& ep) const;
  store::StoredEndpoint StoredOf(const EndpointState& ep) const;
  static store::StoredAttachment StoredAttachmentOf(const AttachmentState& a);
  std::vector<Cidr> TakenPrefixesLocked();
  Status RestoreFirewallLocked();
  void WatchProcesses();
  // Tells the observer that endpoint `name`'s attachment `a` came (added) or went.
  void PublishNamesLocked(const std::string& name, const AttachmentState& a, bool added);

  store::Store* store_;
  EngineOptions options_;
  mutable std::mutex mu_;
  std::unique_ptr<Netlink> netlink_;     // in the daemon's (host) namespace
  std::unique_ptr<Firewall> firewall_;
  std::unique_ptr<TableWatcher> table_watcher_;
  std::unique_ptr<LinkDeletionWatcher> link_watcher_;
  std::map<std::string, std::unique_ptr<NetworkState>> networks_;    // by name
  std::map<std::string, std::unique_ptr<EndpointState>> endpoints_;  // by name
  // Indexes that keep a request's checks independent of how many endpoints exist:
  // namespace (dev, inode) -> endpoint; (protocol, host port) -> (host address, endpoint).
  std::map<std::pair<uint64_t, uint64_t>, std::string> endpoint_by_netns_;
  std::map<std::string, std::string> endpoint_by_container_;  // CNI container id -> endpoint
  using PortKey = std::pair<std::string, uint16_t>;
  static PortKey KeyOf(const store::StoredPort& p);
  std::multimap<PortKey, std::pair<std::string, std::string>> published_;
  void ForgetPortLocked(const store::StoredPort& p);
  // Process watcher: pidfds of endpoint processes in an epoll set, woken by an eventfd.
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::thread watcher_;
  bool started_ = false;
  std::thread reaper_;
  std::mutex reap_mu_;
  std::condition_variable reap_cv_;
  std::vector<std::string> reap_queue_;  // host veth ends to delete
  bool reap_stop_ = false;
};

}  // namespace berth::net
