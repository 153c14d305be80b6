#include "net/kernel/netlink.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <iterator>

#include <fmt/format.h>

namespace berth::net {
namespace {

// Large enough for the 32 KiB skbs the kernel uses for dumps when the reader allows it.
constexpr size_t kBufSize = 32768;
constexpr int kDumpAttempts = 5;

Status KernelError(int err, const char* ext_ack) {
  std::string msg = std::strerror(err);
  if (ext_ack != nullptr && *ext_ack != '\0')
    fmt::format_to(std::back_inserter(msg), " ({})", ext_ack);
  switch (err) {
    case EEXIST:
      return AlreadyExists(std::move(msg));
    case ENODEV:
    case ESRCH:
    case ENOENT:
    case EADDRNOTAVAIL:  // deleting an address the link does not have
      return NotFound(std::move(msg));
    case EINVAL:
    case ERANGE:
      return InvalidArgument(std::move(msg));
    case EPERM:
    case EACCES:
      return PermissionDenied(std::move(msg));
    case EOPNOTSUPP:  // e.g. a link kind this kernel was built without
      return FailedPrecondition(std::move(msg));
    case EXFULL:  // a Linux bridge holds at most 1023 ports (BR_MAX_PORTS)
      return ResourceExhausted(msg + ": the bridge already has as many ports as the kernel allows (1023)");
    default:
      return Status(Code::kIo, std::move(msg));
  }
}

// Adds context to a failed Status; the context is only built on failure (no formatting on the
// success path).
template <typename F>
Status OnError(Status st, F&& context) {
  if (st.ok()) return st;
  return st.WithContext(context());
}

// The kernel's extended ack text (NLMSGERR_ATTR_MSG) of an NLMSG_ERROR or NLMSG_DONE, or null.
const char* ExtAckMessage(const nlmsghdr* m) {
  if (!(m->nlmsg_flags & NLM_F_ACK_TLVS)) return nullptr;
  size_t hlen = sizeof(int);
  if (m->nlmsg_type == NLMSG_ERROR) {
    hlen = sizeof(nlmsgerr);
    auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(m));
    if (!(m->nlmsg_flags & NLM_F_CAPPED)) hlen += mnl_nlmsg_get_payload_len(&err->msg);
  }
  if (m->nlmsg_len < mnl_nlmsg_size(hlen)) return nullptr;
  const char* text = nullptr;
  mnl_attr_parse(
      m, hlen,
      [](const nlattr* a, void* data) -> int {
        if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
            mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
          *static_cast<const char**>(data) = mnl_attr_get_str(a);
        return MNL_CB_OK;
      },
      &text);
  return text;
}

// Collects the attributes of one message (or nest) by type; types above `max` are ignored.
struct Attrs {
  static constexpr size_t kCapacity = 128;
  static_assert(IFLA_MAX < kCapacity && RTA_MAX < kCapacity && IFA_MAX < kCapacity);

  explicit Attrs(uint16_t max_type) : max(max_type) {}
  static int Cb(const nlattr* a, void* data) {
    auto* self = static_cast<Attrs*>(data);
    uint16_t type = mnl_attr_get_type(a);
    if (type <= self->max) self->tb[type] = a;
    return MNL_CB_OK;
  }
  bool Parse(const nlmsghdr* m, size_t offset) {
    return mnl_attr_parse(m, offset, &Cb, this) >= MNL_CB_STOP;
  }
  bool ParseNested(const nlattr* nest) {
    return mnl_attr_parse_nested(nest, &Cb, this) >= MNL_CB_STOP;
  }
  const nlattr* operator[](size_t i) const { return tb[i]; }
  // The attribute if present with a u32-sized payload.
  const nlattr* U32(size_t i) const {
    return tb[i] && mnl_attr_validate(tb[i], MNL_TYPE_U32) >= 0 ? tb[i] : nullptr;
  }

  uint16_t max;
  std::array<const nlattr*, kCapacity> tb{};
};

std::string_view AttrString(const nlattr* a) {
  auto* p = static_cast<const char*>(mnl_attr_get_payload(a));
  return std::string_view(p, strnlen(p, mnl_attr_get_payload_len(a)));
}

// An address from a 4- or 16-byte attribute.
std::optional<IpAddress> AttrAddress(const nlattr* a, int family) {
  if (a == nullptr) return std::nullopt;
  size_t len = mnl_attr_get_payload_len(a);
  auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(a));
  if (family == AF_INET && len == 4) {
    std::array<uint8_t, 4> b;
    std::memcpy(b.data(), p, 4);
    return IpAddress::V4(b);
  }
  if (family == AF_INET6 && len == 16) {
    std::array<uint8_t, 16> b;
    std::memcpy(b.data(), p, 16);
    return IpAddress::V6(b);
  }
  return std::nullopt;
}

int FamilyOf(const IpAddress& a) { return a.is_v4() ? AF_INET : AF_INET6; }
int MaxPrefix(const IpAddress& a) { return a.is_v4() ? 32 : 128; }

Status ParseLink(const nlmsghdr* m, LinkInfo* out) {
  if (m->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(m) < sizeof(ifinfomsg))
    return Internal("netlink: malformed link message");
  auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(m));
  Attrs tb(IFLA_MAX);
  if (!tb.Parse(m, sizeof(ifinfomsg))) return Internal("netlink: malformed link attributes");
  out->index = ifi->ifi_index;
  out->up = ifi->ifi_flags & IFF_UP;
  out->lower_up = ifi->ifi_flags & IFF_LOWER_UP;
  out->name.clear();
  if (tb[IFLA_IFNAME]) out->name = AttrString(tb[IFLA_IFNAME]);
  out->mtu = tb.U32(IFLA_MTU) ? int(mnl_attr_get_u32(tb[IFLA_MTU])) : 0;
  out->master = tb.U32(IFLA_MASTER) ? int(mnl_attr_get_u32(tb[IFLA_MASTER])) : 0;
  out->link = tb.U32(IFLA_LINK) ? int(mnl_attr_get_u32(tb[IFLA_LINK])) : 0;
  // IFLA_LINK equal to the link itself means "no parent" (e.g. lo, physical NICs).
  if (out->link == out->index) out->link = 0;
  out->link_netnsid =
      tb.U32(IFLA_LINK_NETNSID) ? int32_t(mnl_attr_get_u32(tb[IFLA_LINK_NETNSID])) : -1;
  out->mac = {};
  if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6)
    std::memcpy(out->mac.data(), mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
  out->kind.clear();
  if (tb[IFLA_LINKINFO]) {
    Attrs info(IFLA_INFO_MAX);
    if (info.ParseNested(tb[IFLA_LINKINFO]) && info[IFLA_INFO_KIND])
      out->kind = AttrString(info[IFLA_INFO_KIND]);
  }
  return Status::Ok();
}

void PutIfinfo(nlmsghdr* nlh, int family, int index, unsigned flags, unsigned change) {
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_family = family;
  ifi->ifi_index = index;
  ifi->ifi_flags = flags;
  ifi->ifi_change = change;
}

Status CheckMtu(int mtu) {
  if (mtu < 0 || mtu > 65535) return InvalidArgument(fmt::format("mtu {} out of range", mtu));
  return Status::Ok();
}

Status CheckIndex(int index) {
  if (index <= 0) return InvalidArgument(fmt::format("link index {} is not valid", index));
  return Status::Ok();
}

// A NUL-terminated name attribute; names are validated (< IFNAMSIZ) before this.
void PutName(nlmsghdr* nlh, uint16_t type, std::string_view name) {
  char tmp[IFNAMSIZ] = {};
  std::memcpy(tmp, name.data(), std::min(name.size(), sizeof tmp - 1));
  mnl_attr_put_strz(nlh, type, tmp);
}

}  // namespace

Status ValidateLinkName(std::string_view name) {
  if (name.empty() || name.size() >= IFNAMSIZ)
    return InvalidArgument(
        fmt::format("interface name '{}': must be 1..{} characters", name, IFNAMSIZ - 1));
  if (name == "." || name == "..")
    return InvalidArgument(fmt::format("interface name '{}' is reserved", name));
  for (unsigned char c : name) {
    if (c == '/' || c == ':' || c <= ' ' || c == 0x7f)
      return InvalidArgument(
          fmt::format("interface name '{}': no '/', ':', whitespace or control characters", name));
  }
  return Status::Ok();
}

// --- socket ---

Netlink::Netlink(mnl_socket* sock)
    : sock_(sock),
      portid_(mnl_socket_get_portid(sock)),
      seq_(uint32_t(time(nullptr))),
      buf_(new char[kBufSize]) {}

Netlink::Netlink(Netlink&& o) noexcept
    : sock_(std::exchange(o.sock_, nullptr)),
      portid_(o.portid_),
      seq_(o.seq_),
      buf_(std::move(o.buf_)) {}

Netlink& Netlink::operator=(Netlink&& o) noexcept {
  if (this != &o) {
    if (sock_) mnl_socket_close(sock_);
    sock_ = std::exchange(o.sock_, nullptr);
    portid_ = o.portid_;
    seq_ = o.seq_;
    buf_ = std::move(o.buf_);
  }
  return *this;
}

Netlink::~Netlink() {
  if (sock_) mnl_socket_close(sock_);
}

Result<Netlink> Netlink::Open() {
  mnl_socket* sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (sock == nullptr) return IoError("opening netlink socket", errno);
  if (mnl_socket_bind(sock, 0, MNL_SOCKET_AUTOPID) < 0) {
    int err = errno;
    mnl_socket_close(sock);
    return IoError("binding netlink socket", err);
  }
  // Best effort: kernels without them still work, with plainer errors / echoed requests.
  int one = 1;
  mnl_socket_setsockopt(sock, NETLINK_EXT_ACK, &one, sizeof one);
  mnl_socket_setsockopt(sock, NETLINK_CAP_ACK, &one, sizeof one);
  return Netlink(sock);
}

Result<Netlink> Netlink::OpenIn(const Netns& ns) {
  std::optional<Netlink> nl;
  Status st = ns.Run([&]() -> Status {
    ASSIGN_OR_RETURN(Netlink n, Open());
    nl.emplace(std::move(n));
    return Status::Ok();
  });
  if (!st.ok()) return st.WithContext("opening netlink socket in netns");
  return std::move(*nl);
}

nlmsghdr* Netlink::NewMessage(uint16_t type, uint16_t flags) {
  // Only a moved-from Netlink lacks a buffer; Transact then reports the misuse.
  if (!buf_) buf_.reset(new char[kBufSize]);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf_.get());
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | flags;
  // Dumps end with NLMSG_DONE; everything else is acknowledged.
  if ((flags & NLM_F_DUMP) != NLM_F_DUMP) nlh->nlmsg_flags |= NLM_F_ACK;
  nlh->nlmsg_seq = ++seq_;
  return nlh;
}

Status Netlink::Transact(MessageFn fn, void* ctx) {
  if (sock_ == nullptr) return FailedPrecondition("netlink socket moved from");
  auto* req = reinterpret_cast<nlmsghdr*>(buf_.get());
  const uint32_t seq = req->nlmsg_seq;
  if (mnl_socket_sendto(sock_, req, req->nlmsg_len) < 0) return IoError("netlink send", errno);
  bool interrupted = false;
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(sock_, buf_.get(), kBufSize);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("netlink receive", errno);
    }
    int len = int(n);
    for (auto* m = reinterpret_cast<const nlmsghdr*>(buf_.get()); mnl_nlmsg_ok(m, len);
         m = mnl_nlmsg_next(m, &len)) {
      // Replies to earlier requests abandoned mid-way (an error in a dump callback) are stale.
      if (m->nlmsg_seq != seq || m->nlmsg_pid != portid_) continue;
      if (m->nlmsg_flags & NLM_F_DUMP_INTR) interrupted = true;
      if (m->nlmsg_type == NLMSG_ERROR) {
        if (mnl_nlmsg_get_payload_len(m) < sizeof(nlmsgerr))
          return Internal("netlink: truncated ack");
        int err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(m))->error;
        if (err == 0) return Status::Ok();
        return KernelError(-err, ExtAckMessage(m));
      }
      if (m->nlmsg_type == NLMSG_DONE) {
        int err = 0;
        if (mnl_nlmsg_get_payload_len(m) >= sizeof(int))
          std::memcpy(&err, mnl_nlmsg_get_payload(m), sizeof(int));
        if (err < 0) return KernelError(-err, ExtAckMessage(m));
        if (interrupted) return Unavailable("netlink dump interrupted by a concurrent change");
        return Status::Ok();
      }
      if (m->nlmsg_type < NLMSG_MIN_TYPE) continue;  // NOOP, OVERRUN
      if (fn != nullptr) RETURN_IF_ERROR(fn(m, ctx));
    }
  }
}

// --- links ---

Result<int> Netlink::LinkIndex(std::string_view name) {
  RETURN_IF_ERROR(ValidateLinkName(name));
  nlmsghdr* nlh = NewMessage(RTM_GETLINK, 0);
  PutIfinfo(nlh, AF_UNSPEC, 0, 0, 0);
  mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  PutName(nlh, IFLA_IFNAME, name);
  int index = 0;
  Status st = Transact(
      [](const nlmsghdr* m, void* ctx) -> Status {
        if (m->nlmsg_type == RTM_NEWLINK && mnl_nlmsg_get_payload_len(m) >= sizeof(ifinfomsg))
          *static_cast<int*>(ctx) =
              static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(m))->ifi_index;
        return Status::Ok();
      },
      &index);
  if (!st.ok()) return st.WithContext(fmt::format("looking up link {}", name));
  if (index <= 0) return NotFound(fmt::format("looking up link {}: no reply", name));
  return index;
}

Result<LinkInfo> Netlink::GetLink(int index) {
  RETURN_IF_ERROR(CheckIndex(index));
  nlmsghdr* nlh = NewMessage(RTM_GETLINK, 0);
  PutIfinfo(nlh, AF_UNSPEC, index, 0, 0);
  mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  LinkInfo info;
  Status st = Transact(
      [](const nlmsghdr* m, void* ctx) { return ParseLink(m, static_cast<LinkInfo*>(ctx)); },
      &info);
  if (!st.ok()) return st.WithContext(fmt::format("getting link {}", index));
  if (info.index != index) return NotFound(fmt::format("getting link {}: no reply", index));
  return info;
}

Result<std::vector<LinkInfo>> Netlink::Links() {
  std::vector<LinkInfo> links;
  Status st;
  for (int attempt = 0; attempt < kDumpAttempts; ++attempt) {
    links.clear();
    nlmsghdr* nlh = NewMessage(RTM_GETLINK, NLM_F_DUMP);
    PutIfinfo(nlh, AF_UNSPEC, 0, 0, 0);
    mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    st = Transact(
        [](const nlmsghdr* m, void* ctx) -> Status {
          LinkInfo info;
          RETURN_IF_ERROR(ParseLink(m, &info));
          static_cast<std::vector<LinkInfo>*>(ctx)->push_back(std::move(info));
          return Status::Ok();
        },
        &links);
    if (st.code() != Code::kUnavailable) break;
  }
  if (!st.ok()) return st.WithContext("listing links");
  return links;
}

Status Netlink::CreateBridge(std::string_view name, int mtu) {
  RETURN_IF_ERROR(ValidateLinkName(name));
  RETURN_IF_ERROR(CheckMtu(mtu));
  nlmsghdr* nlh = NewMessage(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  PutIfinfo(nlh, AF_UNSPEC, 0, 0, 0);
  PutName(nlh, IFLA_IFNAME, name);
  if (mtu > 0) mnl_attr_put_u32(nlh, IFLA_MTU, uint32_t(mtu));
  nlattr* info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
  mnl_attr_nest_end(nlh, info);
  return OnError(Transact(nullptr, nullptr),
                 [&] { return fmt::format("creating bridge {}", name); });
}

Status Netlink::CreateVeth(std::string_view name, std::string_view peer_name, const Netns* peer_ns,
                           int mtu) {
  VethOptions opts;
  opts.mtu = mtu;
  return CreateVeth(name, peer_name, peer_ns, opts);
}

Status Netlink::CreateVeth(std::string_view name, std::string_view peer_name, const Netns* peer_ns,
                           const VethOptions& opts) {
  RETURN_IF_ERROR(ValidateLinkName(name));
  RETURN_IF_ERROR(ValidateLinkName(peer_name));
  RETURN_IF_ERROR(CheckMtu(opts.mtu));
  if (opts.master < 0) return InvalidArgument(fmt::format("master index {}", opts.master));
  if (opts.peer_mac && ((*opts.peer_mac)[0] & 1))
    return InvalidArgument(
        fmt::format("mac {} is a multicast address", MacToString(*opts.peer_mac)));
  nlmsghdr* nlh = NewMessage(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  PutIfinfo(nlh, AF_UNSPEC, 0, opts.up ? IFF_UP : 0, opts.up ? IFF_UP : 0);
  PutName(nlh, IFLA_IFNAME, name);
  if (opts.mtu > 0) mnl_attr_put_u32(nlh, IFLA_MTU, uint32_t(opts.mtu));
  if (opts.master > 0) mnl_attr_put_u32(nlh, IFLA_MASTER, uint32_t(opts.master));
  nlattr* info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
  nlattr* data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  nlattr* peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
  // The peer is described by its own ifinfomsg followed by IFLA_* attributes.
  auto* pifi = static_cast<ifinfomsg*>(mnl_nlmsg_get_payload_tail(nlh));
  std::memset(pifi, 0, MNL_ALIGN(sizeof(ifinfomsg)));
  nlh->nlmsg_len += MNL_ALIGN(sizeof(ifinfomsg));
  PutName(nlh, IFLA_IFNAME, peer_name);
  if (opts.mtu > 0) mnl_attr_put_u32(nlh, IFLA_MTU, uint32_t(opts.mtu));
  if (opts.peer_mac) mnl_attr_put(nlh, IFLA_ADDRESS, opts.peer_mac->size(), opts.peer_mac->data());
  if (peer_ns != nullptr) mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, uint32_t(peer_ns->fd()));
  mnl_attr_nest_end(nlh, peer);
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, info);
  return OnError(Transact(nullptr, nullptr),
                 [&] { return fmt::format("creating veth {} (peer {})", name, peer_name); });
}

Status Netlink::CreateMacvlan(std::string_view name, int parent_index, const Netns* target_ns,
                              int mtu) {
  RETURN_IF_ERROR(ValidateLinkName(name));
  RETURN_IF_ERROR(CheckIndex(parent_index));
  RETURN_IF_ERROR(CheckMtu(mtu));
  nlmsghdr* nlh = NewMessage(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  PutIfinfo(nlh, AF_UNSPEC, 0, 0, 0);
  PutName(nlh, IFLA_IFNAME, name);
  mnl_attr_put_u32(nlh, IFLA_LINK, uint32_t(parent_index));
  if (mtu > 0) mnl_attr_put_u32(nlh, IFLA_MTU, uint32_t(mtu));
  if (target_ns != nullptr) mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, uint32_t(target_ns->fd()));
  nlattr* info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "macvlan");
  nlattr* data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  mnl_attr_put_u32(nlh, IFLA_MACVLAN_MODE, MACVLAN_MODE_BRIDGE);
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, info);
  return OnError(Transact(nullptr, nullptr),
                 [&] { return fmt::format("creating macvlan {} on link {}", name, parent_index); });
}

Status Netlink::CreateVlan(std::string_view name, int parent_index, uint16_t vlan_id) {
  RETURN_IF_ERROR(ValidateLinkName(name));
  RETURN_IF_ERROR(CheckIndex(parent_index));
  if (vlan_id < 1 || vlan_id > 4094)
    return InvalidArgument(fmt::format("creating vlan {}: id {} not in 1..4094", name, vlan_id));
  nlmsghdr* nlh = NewMessage(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  PutIfinfo(nlh, AF_UNSPEC, 0, 0, 0);
  PutName(nlh, IFLA_IFNAME, name);
  mnl_attr_put_u32(nlh, IFLA_LINK, uint32_t(parent_index));
  nlattr* info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "vlan");
  nlattr* data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  mnl_attr_put_u16(nlh, IFLA_VLAN_ID, vlan_id);
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, info);
  return OnError(Transact(nullptr, nullptr), [&] {
    return fmt::format("creating vlan {} id {} on link {}", name, vlan_id, parent_index);
  });
}

Status Netlink::SetUp(int index, bool up) {
  RETURN_IF_ERROR(CheckIndex(index));
  nlmsghdr* nlh = NewMessage(RTM_NEWLINK, 0);
  PutIfinfo(nlh, AF_UNSPEC, index, up ? IFF_UP : 0, IFF_UP);
  return OnError(Transact(nullptr, nullptr),
                 [&] { return fmt::format("setting link {} {}", index, up ? "up" : "down"); });
}

Status Netlink::SetMaster(int index, int master_index) {
  RETURN_IF_ERROR(CheckIndex(index));
  if (master_index < 0) return InvalidArgument(fmt::format("master index {}", master_index));
  nlmsghdr* nlh = NewMessage(RTM_NEWLINK, 0);
  PutIfinfo(nlh, AF_UNSPEC, index, 0, 0);
  mnl_attr_put_u32(nlh, IFLA_MASTER, uint32_t(master_index));
  return OnError(Transact(nullptr, nullptr), [&] {
    return fmt::format("setting master of link {} to {}", index, master_index);
  });
}

Status Netlink::SetMasterAndUp(int index, int master_index, bool up) {
  RETURN_IF_ERROR(CheckIndex(index));
  if (master_index < 0) return InvalidArgument(fmt::format("master index {}", master_index));
  nlmsghdr* nlh = NewMessage(RTM_NEWLINK, 0);
  PutIfinfo(nlh, AF_UNSPEC, index, up ? IFF_UP : 0, IFF_UP);
  mnl_attr_put_u32(nlh, IFLA_MASTER, uint32_t(master_index));
  return OnError(Transact(nullptr, nullptr), [&] {
    return fmt::format("setting master of link {} to {} and {}", index, master_index,
                       up ? "up" : "down");
  });
}

Status Netlink::SetMtu(int index, int mtu) {
  RETURN_IF_ERROR(CheckIndex(index));
  RETURN_IF_ERROR(CheckMtu(mtu));
  if (mtu == 0) return InvalidArgument("mtu 0 out of range");
  nlmsghdr* nlh = NewMessage(RTM_NEWLINK, 0);
  PutIfinfo(nlh, AF_UNSPEC, index, 0, 0);
  mnl_attr_put_u32(nlh, IFLA_MTU, uint32_t(mtu));
  return OnError(Transact(nullptr, nullptr),
                 [&] { return fmt::format("setting mtu {} on link {}", mtu, index); });
}

Status Netlink::DisableIpv6LinkLocal(int index) {
  RETURN_IF_ERROR(CheckIndex(index));
  nlmsghdr* nlh = NewMessage(RTM_NEWLINK, 0);
  PutIfinfo(nlh, AF_UNSPEC, index, 0, 0);
  nlattr* spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
  nlattr* inet6 = mnl_attr_nest_start(nlh, AF_INET6);
  mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
  mnl_attr_nest_end(nlh, inet6);
  mnl_attr_nest_end(nlh, spec);
  return OnError(Transact(nullptr, nullptr),
                 [&] { return fmt::format("turning off IPv6 address generation on link {}", index); });
}

Status Netlink::SetMac(int index, const MacAddress& mac) {
  RETURN_IF_ERROR(CheckIndex(index));
  if (mac[0] & 1)
    return InvalidArgument(fmt::format("mac {} is a multicast address", MacToString(mac)));
  nlmsghdr* nlh = NewMessage(RTM_NEWLINK, 0);
  PutIfinfo(nlh, AF_UNSPEC, index, 0, 0);
  mnl_attr_put(nlh, IFLA_ADDRESS, mac.size(), mac.data());
  return OnError(Transact(nullptr, nullptr),
                 [&] { return fmt::format("setting mac {} on link {}", MacToString(mac), index); });
}

Status Netlink::Rename(int index, std::string_view new_name) {
  RETURN_IF_ERROR(CheckIndex(index));
  RETURN_IF_ERROR(ValidateLinkName(new_name));
  nlmsghdr* nlh = NewMessage(RTM_NEWLINK, 0);
  PutIfinfo(nlh, AF_UNSPEC, index, 0, 0);
  PutName(nlh, IFLA_IFNAME, new_name);
  return OnError(Transact(nullptr, nullptr),
                 [&] { return fmt::format("renaming link {} to {}", index, new_name); });
}

Status Netlink::MoveToNetns(int index, const Netns& ns, std::string_view new_name) {
  RETURN_IF_ERROR(CheckIndex(index));
  if (!new_name.empty()) RETURN_IF_ERROR(ValidateLinkName(new_name));
  nlmsghdr* nlh = NewMessage(RTM_NEWLINK, 0);
  PutIfinfo(nlh, AF_UNSPEC, index, 0, 0);
  mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, uint32_t(ns.fd()));
  if (!new_name.empty()) PutName(nlh, IFLA_IFNAME, new_name);
  return OnError(Transact(nullptr, nullptr), [&] {
    return fmt::format("moving link {} to netns {}{}{}", index, ns.inode(),
                       new_name.empty() ? "" : " as ", new_name);
  });
}

Status Netlink::DeleteLink(int index) {
  RETURN_IF_ERROR(CheckIndex(index));
  nlmsghdr* nlh = NewMessage(RTM_DELLINK, 0);
  PutIfinfo(nlh, AF_UNSPEC, index, 0, 0);
  return OnError(Transact(nullptr, nullptr),
                 [&] { return fmt::format("deleting link {}", index); });
}

Status Netlink::SetBridgePortFlag(int index, uint16_t attribute, bool on, std::string_view what) {
  RETURN_IF_ERROR(CheckIndex(index));
  // As `bridge link set dev X hairpin on`: AF_BRIDGE RTM_SETLINK with IFLA_PROTINFO.
  nlmsghdr* nlh = NewMessage(RTM_SETLINK, 0);
  PutIfinfo(nlh, AF_BRIDGE, index, 0, 0);
  nlattr* prot = mnl_attr_nest_start(nlh, IFLA_PROTINFO);  // sets NLA_F_NESTED
  mnl_attr_put_u8(nlh, attribute, on ? 1 : 0);
  mnl_attr_nest_end(nlh, prot);
  return OnError(Transact(nullptr, nullptr), [&] {
    return fmt::format("setting {} {} on bridge port {}", what, on ? "on" : "off", index);
  });
}

Status Netlink::SetBridgePortHairpin(int index, bool on) {
  return SetBridgePortFlag(index, IFLA_BRPORT_MODE, on, "hairpin");
}

Status Netlink::SetBridgePortIsolated(int index, bool on) {
  return SetBridgePortFlag(index, IFLA_BRPORT_ISOLATED, on, "isolated");
}

// --- addresses ---

namespace {

Status CheckPrefix(const IpAddress& a, int prefix_len) {
  if (prefix_len < 0 || prefix_len > MaxPrefix(a))
    return InvalidArgument(
        fmt::format("prefix length {} out of range for {}", prefix_len, a.ToString()));
  return Status::Ok();
}

void PutAddressMessage(nlmsghdr* nlh, int index, const IpAddress& a, int prefix_len,
                       uint8_t flags) {
  auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
  ifa->ifa_family = FamilyOf(a);
  ifa->ifa_prefixlen = prefix_len;
  ifa->ifa_flags = flags;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = index;
  mnl_attr_put(nlh, IFA_LOCAL, a.size(), a.bytes().data());
}

}  // namespace

Status Netlink::AddAddress(int index, const IpAddress& a, int prefix_len, bool nodad) {
  RETURN_IF_ERROR(CheckIndex(index));
  RETURN_IF_ERROR(CheckPrefix(a, prefix_len));
  nlmsghdr* nlh = NewMessage(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  PutAddressMessage(nlh, index, a, prefix_len, nodad ? IFA_F_NODAD : 0);
  mnl_attr_put(nlh, IFA_ADDRESS, a.size(), a.bytes().data());
  if (a.is_v4() && prefix_len <= 30) {
    // Broadcast as `ip addr add ... brd +` and Docker set it.
    uint32_t host;
    std::memcpy(&host, a.bytes().data(), 4);
    uint32_t mask = prefix_len == 0 ? 0 : htonl(~uint32_t(0) << (32 - prefix_len));
    uint32_t brd = host | ~mask;
    mnl_attr_put(nlh, IFA_BROADCAST, 4, &brd);
  }
  if (nodad) mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
  return OnError(Transact(nullptr, nullptr), [&] {
    return fmt::format("adding address {}/{} to link {}", a.ToString(), prefix_len, index);
  });
}

Status Netlink::DeleteAddress(int index, const IpAddress& a, int prefix_len) {
  RETURN_IF_ERROR(CheckIndex(index));
  RETURN_IF_ERROR(CheckPrefix(a, prefix_len));
  nlmsghdr* nlh = NewMessage(RTM_DELADDR, 0);
  PutAddressMessage(nlh, index, a, prefix_len, 0);
  return OnError(Transact(nullptr, nullptr), [&] {
    return fmt::format("deleting address {}/{} from link {}", a.ToString(), prefix_len, index);
  });
}

Result<std::vector<AddressInfo>> Netlink::Addresses(int index,
                                                    std::optional<IpAddress::Family> family) {
  struct Ctx {
    int index;
    std::vector<AddressInfo> out;
  } ctx{index, {}};
  int af = !family ? AF_UNSPEC : *family == IpAddress::Family::kV4 ? AF_INET : AF_INET6;
  Status st;
  for (int attempt = 0; attempt < kDumpAttempts; ++attempt) {
    ctx.out.clear();
    nlmsghdr* nlh = NewMessage(RTM_GETADDR, NLM_F_DUMP);
    auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
    ifa->ifa_family = af;
    st = Transact(
        [](const nlmsghdr* m, void* p) -> Status {
          auto* c = static_cast<Ctx*>(p);
          if (m->nlmsg_type != RTM_NEWADDR || mnl_nlmsg_get_payload_len(m) < sizeof(ifaddrmsg))
            return Status::Ok();
          auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(m));
          if (c->index != 0 && int(ifa->ifa_index) != c->index) return Status::Ok();
          Attrs tb(IFA_MAX);
          if (!tb.Parse(m, sizeof(ifaddrmsg))) return Internal("netlink: malformed address");
          // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer on p2p links.
          auto addr = AttrAddress(tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS], ifa->ifa_family);
          if (!addr) return Status::Ok();
          AddressInfo info;
          info.index = int(ifa->ifa_index);
          info.address = *addr;
          info.prefix_len = ifa->ifa_prefixlen;
          info.flags = tb.U32(IFA_FLAGS) ? mnl_attr_get_u32(tb[IFA_FLAGS]) : ifa->ifa_flags;
          info.scope = ifa->ifa_scope;
          c->out.push_back(info);
          return Status::Ok();
        },
        &ctx);
    if (st.code() != Code::kUnavailable) break;
  }
  if (!st.ok()) return st.WithContext("listing addresses");
  return std::move(ctx.out);
}

// --- routes ---

namespace {

Status CheckRoute(const RouteInfo& r) {
  const IpAddress& dst = r.destination.network();
  if (r.gateway && r.gateway->is_v4() != dst.is_v4())
    return InvalidArgument(fmt::format("route {}: gateway {} of another family",
                                       r.destination.ToString(), r.gateway->ToString()));
  if (r.oif < 0) return InvalidArgument(fmt::format("route oif {}", r.oif));
  if (r.table == 0) return InvalidArgument("route table 0");
  return Status::Ok();
}

void PutRouteMessage(nlmsghdr* nlh, const RouteInfo& r, bool add) {
  const IpAddress& dst = r.destination.network();
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  rtm->rtm_family = FamilyOf(dst);
  rtm->rtm_dst_len = r.destination.prefix_length();
  rtm->rtm_table = r.table < 256 ? r.table : RT_TABLE_UNSPEC;
  if (add) {
    rtm->rtm_protocol = RTPROT_STATIC;
    rtm->rtm_scope = r.gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
    rtm->rtm_type = RTN_UNICAST;
  } else {
    rtm->rtm_scope = RT_SCOPE_NOWHERE;  // match any scope, like `ip route del`
  }
  mnl_attr_put_u32(nlh, RTA_TABLE, r.table);
  if (r.destination.prefix_length() > 0) mnl_attr_put(nlh, RTA_DST, dst.size(), dst.bytes().data());
  if (r.gateway) mnl_attr_put(nlh, RTA_GATEWAY, r.gateway->size(), r.gateway->bytes().data());
  if (r.oif > 0) mnl_attr_put_u32(nlh, RTA_OIF, uint32_t(r.oif));
  if (r.metric > 0) mnl_attr_put_u32(nlh, RTA_PRIORITY, r.metric);
}

std::string RouteText(const RouteInfo& r) {
  std::string s = r.destination.ToString();
  if (r.gateway) s += " via " + r.gateway->ToString();
  if (r.oif > 0) fmt::format_to(std::back_inserter(s), " dev {}", r.oif);
  if (r.table != RT_TABLE_MAIN) fmt::format_to(std::back_inserter(s), " table {}", r.table);
  if (r.metric > 0) fmt::format_to(std::back_inserter(s), " metric {}", r.metric);
  return s;
}

}  // namespace

Status Netlink::AddRoute(const RouteInfo& r) {
  RETURN_IF_ERROR(CheckRoute(r));
  if (!r.gateway && r.oif == 0)
    return InvalidArgument(
        fmt::format("adding route {}: needs a gateway or an interface", r.destination.ToString()));
  nlmsghdr* nlh = NewMessage(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
  PutRouteMessage(nlh, r, true);
  return OnError(Transact(nullptr, nullptr), [&] { return "adding route " + RouteText(r); });
}

Status Netlink::DeleteRoute(const RouteInfo& r) {
  RETURN_IF_ERROR(CheckRoute(r));
  nlmsghdr* nlh = NewMessage(RTM_DELROUTE, 0);
  PutRouteMessage(nlh, r, false);
  return OnError(Transact(nullptr, nullptr), [&] { return "deleting route " + RouteText(r); });
}

Result<std::vector<RouteInfo>> Netlink::Routes(IpAddress::Family family, uint32_t table) {
  struct Ctx {
    uint32_t table;
    std::vector<RouteInfo> out;
  } ctx{table, {}};
  const int af = family == IpAddress::Family::kV4 ? AF_INET : AF_INET6;
  Status st;
  for (int attempt = 0; attempt < kDumpAttempts; ++attempt) {
    ctx.out.clear();
    nlmsghdr* nlh = NewMessage(RTM_GETROUTE, NLM_F_DUMP);
    auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
    rtm->rtm_family = af;
    st = Transact(
        [](const nlmsghdr* m, void* p) -> Status {
          auto* c = static_cast<Ctx*>(p);
          if (m->nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(m) < sizeof(rtmsg))
            return Status::Ok();
          auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(m));
          if (rtm->rtm_type != RTN_UNICAST || (rtm->rtm_flags & RTM_F_CLONED)) return Status::Ok();
          Attrs tb(RTA_MAX);
          if (!tb.Parse(m, sizeof(rtmsg))) return Internal("netlink: malformed route");
          uint32_t table = tb.U32(RTA_TABLE) ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
          if (table != c->table) return Status::Ok();
          IpAddress dst = rtm->rtm_family == AF_INET ? IpAddress::V4({}) : IpAddress::V6({});
          if (auto d = AttrAddress(tb[RTA_DST], rtm->rtm_family)) dst = *d;
          auto cidr = Cidr::Parse(fmt::format("{}/{}", dst.ToString(), rtm->rtm_dst_len));
          if (!cidr.ok()) return Status::Ok();
          RouteInfo r;
          r.destination = *cidr;
          r.gateway = AttrAddress(tb[RTA_GATEWAY], rtm->rtm_family);
          r.oif = tb.U32(RTA_OIF) ? int(mnl_attr_get_u32(tb[RTA_OIF])) : 0;
          r.table = table;
          r.metric = tb.U32(RTA_PRIORITY) ? mnl_attr_get_u32(tb[RTA_PRIORITY]) : 0;
          c->out.push_back(std::move(r));
          return Status::Ok();
        },
        &ctx);
    if (st.code() != Code::kUnavailable) break;
  }
  if (!st.ok()) return st.WithContext("listing routes");
  return std::move(ctx.out);
}

}  // namespace berth::net
