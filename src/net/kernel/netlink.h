// One NETLINK_ROUTE socket (libmnl) bound to one network namespace: links (bridge, veth,
// macvlan, vlan), addresses and routes, each request acknowledged and turned into a Status
// that names the operation, the object, the errno and the kernel's extended ack message.
// Not thread-safe: use one Netlink per thread, or guard it. The socket and its buffer are
// reused for every request (no per-call allocation on success paths besides the results).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/net_address.h"
#include "core/status.h"
#include "net/kernel/mac.h"
#include "net/kernel/netns.h"

struct mnl_socket;
struct nlmsghdr;

namespace berth::net {

struct LinkInfo {
  int index = 0;
  std::string name;
  std::string kind;  // IFLA_INFO_KIND: "bridge", "veth", "macvlan", "vlan", "" (physical, lo)
  int master = 0;    // bridge (or bond) ifindex; 0 = none
  int mtu = 0;
  bool up = false;        // administratively up (IFF_UP)
  bool lower_up = false;  // carrier (IFF_LOWER_UP)
  MacAddress mac{};
  int link = 0;           // parent (macvlan, vlan) or veth peer ifindex; 0 = none
  int link_netnsid = -1;  // when >= 0, `link` lives in the namespace with that nsid
};

struct AddressInfo {
  int index = 0;
  IpAddress address;
  int prefix_len = 0;
  uint32_t flags = 0;  // IFA_F_* (PERMANENT, TEMPORARY, DEPRECATED, TENTATIVE, NODAD...)
  uint8_t scope = 0;   // RT_SCOPE_UNIVERSE = 0, RT_SCOPE_LINK = 253, RT_SCOPE_HOST = 254
};

struct RouteInfo {
  Cidr destination;  // 0.0.0.0/0 or ::/0 for a default route
  std::optional<IpAddress> gateway;
  int oif = 0;           // output ifindex; 0 = let the kernel pick (needs gateway)
  uint32_t table = 254;  // RT_TABLE_MAIN
  uint32_t metric = 0;   // 0 = kernel default (IPv6 uses 1024)
};

// What a container's veth pair can get in its creating request, so that attaching a
// container costs one round trip instead of four.
struct VethOptions {
  int mtu = 0;                         // both ends; 0 = kernel default
  int master = 0;                      // bridge for the local end; 0 = none
  bool up = false;                     // local end administratively up
  std::optional<MacAddress> peer_mac;  // e.g. MacForIp(container address)
  // No peer "up": veth cannot open an end before its pair exists (ENOTCONN); the container
  // side brings its end up with SetUp once it holds it.
};

// Interface names as the kernel accepts them: 1..15 bytes, no '/', ':' or whitespace.
// kInvalidArgument naming the name.
Status ValidateLinkName(std::string_view name);

class Netlink {
 public:
  // A socket in the calling thread's namespace. kIo.
  static Result<Netlink> Open();
  // A socket living in `ns` (created from a thread inside it; it stays bound there). kIo.
  static Result<Netlink> OpenIn(const Netns& ns);

  Netlink(Netlink&& other) noexcept;
  Netlink& operator=(Netlink&& other) noexcept;
  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;
  ~Netlink();

  // --- links ---
  // kInvalidArgument (bad name), kNotFound.
  Result<int> LinkIndex(std::string_view name);
  // kNotFound.
  Result<LinkInfo> GetLink(int index);
  // Every link of the namespace. kIo.
  Result<std::vector<LinkInfo>> Links();
  // mtu 0 = kernel default. kInvalidArgument, kAlreadyExists.
  Status CreateBridge(std::string_view name, int mtu);
  // A veth pair: `name` here, `peer_name` created directly inside peer_ns (nullptr = here),
  // so no rename/move race. kInvalidArgument, kAlreadyExists, kNotFound (peer_ns gone).
  Status CreateVeth(std::string_view name, std::string_view peer_name, const Netns* peer_ns,
                    int mtu);
  // The same with master, admin state and peer MAC set in the one creating request.
  // kInvalidArgument also when opts.master does not exist (the kernel says EINVAL).
  Status CreateVeth(std::string_view name, std::string_view peer_name, const Netns* peer_ns,
                    const VethOptions& opts);
  // A bridge-mode macvlan over parent_index (a link of this namespace), created directly in
  // target_ns (nullptr = here). kInvalidArgument, kAlreadyExists, kNotFound.
  Status CreateMacvlan(std::string_view name, int parent_index, const Netns* target_ns, int mtu);
  // An 802.1Q sub-interface ("eth0.50"); vlan_id 1..4094. kInvalidArgument, kAlreadyExists,
  // kNotFound, kFailedPrecondition (kernel built without 802.1Q).
  Status CreateVlan(std::string_view name, int parent_index, uint16_t vlan_id);
  // kNotFound for a missing index on all of these.
  Status SetUp(int index, bool up);
  // master_index 0 = nomaster; a missing master is kInvalidArgument (the kernel says EINVAL).
  Status SetMaster(int index, int master_index);
  // Enslaves to master (0 = none) and sets the admin state in one request: attaching a host
  // veth end to its bridge costs one round trip.
  Status SetMasterAndUp(int index, int master_index, bool up);
  Status SetMtu(int index, int mtu);  // kInvalidArgument (out of range)
  Status SetMac(int index, const MacAddress& mac);
  // No IPv6 link-local address (IN6_ADDR_GEN_MODE_NONE), so no DAD, router solicitation or
  // MLD traffic when the link comes up: on a bridge with n ports every such packet is flooded
  // to all n, which makes each attach cost O(n). Call while the link is down. kNotFound.
  Status DisableIpv6LinkLocal(int index);
  Status Rename(int index, std::string_view new_name);  // kAlreadyExists, kInvalidArgument
  // Moves the link into ns, renamed to new_name unless empty. kAlreadyExists (name taken
  // there; kernel 6.x has then already moved the link under its old name). Prefer CreateVeth
  // with peer_ns, which cannot half-succeed.
  Status MoveToNetns(int index, const Netns& ns, std::string_view new_name);
  // kNotFound when already gone. Deleting one veth end deletes both.
  Status DeleteLink(int index);
  // Hairpin mode of a bridge port (IFLA_BRPORT_MODE), needed for published-port hairpin NAT.
  // kNotFound; kInvalidArgument/kFailedPrecondition when the link is not a bridge port.
  Status SetBridgePortHairpin(int index, bool on);
  // Port isolation (IFLA_BRPORT_ISOLATED): isolated ports of a bridge cannot talk to each
  // other, only to non-isolated ports (the bridge itself: the gateway). Errors as hairpin.
  Status SetBridgePortIsolated(int index, bool on);

  // --- addresses ---
  // nodad skips IPv6 duplicate address detection (usable at once). kAlreadyExists,
  // kInvalidArgument (prefix out of range), kNotFound (no such link).
  Status AddAddress(int index, const IpAddress& a, int prefix_len, bool nodad = false);
  // kNotFound when the link has no such address/prefix.
  Status DeleteAddress(int index, const IpAddress& a, int prefix_len);
  // Addresses of link `index` (0 = all links), optionally of one family. kIo.
  Result<std::vector<AddressInfo>> Addresses(int index = 0,
                                             std::optional<IpAddress::Family> family = {});

  // --- routes ---
  // Unicast route; a gateway makes it universe scope, otherwise link scope (needs oif).
  // kAlreadyExists, kInvalidArgument, kNotFound (oif missing), kIo (ENETUNREACH: gateway not
  // on a connected network).
  Status AddRoute(const RouteInfo& r);
  // Matches destination, table and, when set, gateway/oif/metric. kNotFound.
  Status DeleteRoute(const RouteInfo& r);
  // Unicast routes of one table (cloned/cache entries left out). kIo.
  Result<std::vector<RouteInfo>> Routes(IpAddress::Family family, uint32_t table = 254);

 private:
  explicit Netlink(mnl_socket* sock);
  nlmsghdr* NewMessage(uint16_t type, uint16_t flags);
  Status SetBridgePortFlag(int index, uint16_t attribute, bool on, std::string_view what);
  using MessageFn = Status (*)(const nlmsghdr* nlh, void* ctx);
  // Sends the message built in buf_ and reads until its ack (or NLMSG_DONE for a dump),
  // handing every reply of this request to fn. Errors carry no context; callers add it.
  Status Transact(MessageFn fn, void* ctx);

  mnl_socket* sock_ = nullptr;
  uint32_t portid_ = 0;
  uint32_t seq_ = 0;
  std::unique_ptr<char[]> buf_;
};

}  // namespace berth::net
