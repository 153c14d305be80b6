#include "net/firewall/element_batch.h"

#include <netinet/in.h>  // before the linux/ headers, which it then does not clash with

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace berth::net {
namespace {

using Bytes = std::vector<uint8_t>;

// nf_tables concatenations put each field in its own 32-bit registers: pad to 4 bytes.
void Field(Bytes& out, const uint8_t* data, size_t len) {
  out.insert(out.end(), data, data + len);
  out.resize(out.size() + ((4 - len % 4) % 4), 0);
}
void IfnameField(Bytes& out, std::string_view name) {
  uint8_t buf[16] = {};  // IFNAMSIZ, zero-padded as the ifname type is
  std::memcpy(buf, name.data(), std::min(name.size(), size_t{15}));
  Field(out, buf, sizeof buf);
}
void AddressField(Bytes& out, const IpAddress& ip) { Field(out, ip.bytes().data(), ip.size()); }
void PortField(Bytes& out, uint16_t port) {
  uint8_t be[2] = {static_cast<uint8_t>(port >> 8), static_cast<uint8_t>(port)};
  Field(out, be, 2);
}
void ProtoField(Bytes& out, Protocol p) {
  uint8_t v = p == Protocol::kTcp ? IPPROTO_TCP : IPPROTO_UDP;
  Field(out, &v, 1);
}

Bytes Ifname(std::string_view name) {
  Bytes b;
  IfnameField(b, name);
  return b;
}
Bytes IfnamePair(std::string_view name) {
  Bytes b;
  IfnameField(b, name);
  IfnameField(b, name);
  return b;
}

struct PortBytes {
  std::string_view map;
  Bytes key, value;
};
PortBytes Encode(const PortRule& p) {
  PortBytes e;
  e.map = ElementOf(p).map;  // one place decides the map
  if (e.map == "pub4" || e.map == "pub6") AddressField(e.key, *p.host_ip);
  ProtoField(e.key, p.protocol);
  PortField(e.key, p.host_port);
  AddressField(e.value, p.container_ip);
  PortField(e.value, p.container_port);
  return e;
}

Bytes NetworkKey(std::string_view set, const NetworkRules& n) {
  return set == "same" ? IfnamePair(n.bridge) : Ifname(n.bridge);
}

Status StatusOfErrno(int err, std::string_view table, const ElementOp& op) {
  std::string msg = fmt::format("nftables table inet {}: {} element in {}: {}", table,
                                op.kind == ElementOp::Kind::kDelete ? "deleting" : "adding", op.set,
                                strerror(err));
  switch (err) {
    case EEXIST: return AlreadyExists(std::move(msg));
    case ENOENT: return NotFound(std::move(msg));
    case EBUSY: return FailedPrecondition(std::move(msg));
    case EPERM: return PermissionDenied(std::move(msg));
    default: return Status(Code::kIo, std::move(msg));
  }
}

void BatchMarker(std::vector<char>& buf, size_t& off, uint16_t type, uint32_t seq) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data() + off);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST;
  nlh->nlmsg_seq = seq;
  auto* gen = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  gen->nfgen_family = AF_UNSPEC;
  gen->version = NFNETLINK_V0;
  gen->res_id = htons(NFNL_SUBSYS_NFTABLES);
  off += nlh->nlmsg_len;
}

}  // namespace

std::vector<ElementOp> AddNetworkOps(const NetworkRules& n) {
  std::vector<ElementOp> ops;
  for (std::string_view set : SetsOf(n)) {
    // Only "bridges" is exclusive: it alone says whether the network is there.
    auto kind = set == "bridges" ? ElementOp::Kind::kCreate : ElementOp::Kind::kAdd;
    ops.push_back({kind, set, NetworkKey(set, n), {}});
  }
  return ops;
}

std::vector<ElementOp> RemoveNetworkOps(const NetworkRules& n) {
  std::vector<ElementOp> ops;
  for (std::string_view set : SetsOf(n, /*all_flags=*/true)) {
    // ENOENT from "bridges" means the network is absent; the others get add + delete, which
    // removes the element whether or not it was there (flags may differ from the add's).
    if (set != "bridges") ops.push_back({ElementOp::Kind::kAdd, set, NetworkKey(set, n), {}});
    ops.push_back({ElementOp::Kind::kDelete, set, NetworkKey(set, n), {}});
  }
  return ops;
}

std::vector<ElementOp> AddPortOps(std::span<const PortRule> ports) {
  std::vector<ElementOp> ops;
  for (const PortRule& p : ports) {
    PortBytes e = Encode(p);
    ops.push_back({ElementOp::Kind::kCreate, e.map, std::move(e.key), std::move(e.value)});
  }
  return ops;
}

std::vector<ElementOp> RemovePortOps(std::span<const PortRule> ports) {
  std::vector<ElementOp> ops;
  for (const PortRule& p : ports) {
    PortBytes e = Encode(p);
    // add (same value: no-op; other value: EEXIST/EBUSY) then delete: absent ports pass.
    ops.push_back({ElementOp::Kind::kAdd, e.map, e.key, std::move(e.value)});
    ops.push_back({ElementOp::Kind::kDelete, e.map, std::move(e.key), {}});
  }
  return ops;
}

Result<ElementSocket> ElementSocket::Open() {
  mnl_socket* nl = mnl_socket_open(NETLINK_NETFILTER);
  if (nl == nullptr) return IoError("netlink socket", errno);
  ElementSocket s(nl);
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) return IoError("netlink bind", errno);
  int fd = mnl_socket_get_fd(nl);
  int one = 1;
  // Acks carry only the header of our message, not all of it.
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  // A whole Replace-sized batch must fit in one send (the kernel refuses > sndbuf).
  int size = 32 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) < 0) {
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  }
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  timeval tv{.tv_sec = 2, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return s;
}

Result<bool> QueryTableExists(mnl_socket* nl, uint8_t family, std::string_view table, uint32_t seq) {
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = seq;
  auto* gen = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  gen->nfgen_family = family;
  gen->version = NFNETLINK_V0;
  gen->res_id = 0;
  mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, std::string(table).c_str());
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) return IoError("GETTABLE", errno);
  unsigned portid = mnl_socket_get_portid(nl);
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(nl, buf.data(), buf.size());
    if (n < 0) return IoError("GETTABLE answer", errno);
    errno = 0;
    // The table message then the ACK (MNL_CB_STOP), or an error; older answers
    // (other sequence numbers) fail the seq check (EPROTO) and are skipped.
    int rc = mnl_cb_run(buf.data(), n, seq, portid, nullptr, nullptr);
    if (rc == MNL_CB_STOP) return true;
    if (rc < 0 && errno == ENOENT) return false;
    if (rc < 0 && errno != EPROTO && errno != ESRCH) return IoError("GETTABLE", errno);
  }
}

Result<bool> ElementSocket::TableExists(std::string_view table) {
  return QueryTableExists(nl_, NFPROTO_INET, table, seq_++);
}

ElementSocket::~ElementSocket() {
  if (nl_) mnl_socket_close(nl_);
}

Status ElementSocket::Commit(std::string_view table, std::span<const ElementOp> ops) {
  if (ops.empty()) return Status::Ok();
  std::string table_z(table);
  std::vector<char> buf(64 + ops.size() * 256);
  size_t off = 0;
  uint32_t first = seq_;
  BatchMarker(buf, off, NFNL_MSG_BATCH_BEGIN, seq_++);
  for (const ElementOp& op : ops) {
    bool del = op.kind == ElementOp::Kind::kDelete;
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data() + off);
    nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | (del ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM);
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    if (!del) nlh->nlmsg_flags |= NLM_F_CREATE;
    if (op.kind == ElementOp::Kind::kCreate) nlh->nlmsg_flags |= NLM_F_EXCL;
    nlh->nlmsg_seq = seq_++;
    auto* gen = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    gen->nfgen_family = NFPROTO_INET;
    gen->version = NFNETLINK_V0;
    gen->res_id = 0;
    mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table_z.c_str());
    mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, std::string(op.set).c_str());
    nlattr* list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
    nlattr* elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
    nlattr* key = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
    mnl_attr_put(nlh, NFTA_DATA_VALUE, op.key.size(), op.key.data());
    mnl_attr_nest_end(nlh, key);
    if (!del && !op.value.empty()) {
      nlattr* data = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_DATA);
      mnl_attr_put(nlh, NFTA_DATA_VALUE, op.value.size(), op.value.data());
      mnl_attr_nest_end(nlh, data);
    }
    mnl_attr_nest_end(nlh, elem);
    mnl_attr_nest_end(nlh, list);
    off += nlh->nlmsg_len;
  }
  BatchMarker(buf, off, NFNL_MSG_BATCH_END, seq_++);
  if (mnl_socket_sendto(nl_, buf.data(), off) < 0) return IoError("sending nftables batch", errno);

  // One ack per op (seq first+1 .. first+ops.size()); older acks left by an earlier failed
  // commit carry other sequence numbers and are skipped.
  size_t acked = 0;
  int first_err = 0;
  const ElementOp* failed = nullptr;
  std::vector<char> rbuf(MNL_SOCKET_BUFFER_SIZE * 4);
  while (acked < ops.size()) {
    ssize_t n = recv(mnl_socket_get_fd(nl_), rbuf.data(), rbuf.size(), first_err ? MSG_DONTWAIT : 0);
    if (n < 0) {
      if (first_err) break;  // the kernel sent what it had for the failed batch
      return IoError("reading nftables acks", errno);
    }
    int len = static_cast<int>(n);
    for (auto* nlh = reinterpret_cast<const nlmsghdr*>(rbuf.data()); mnl_nlmsg_ok(nlh, len);
         nlh = mnl_nlmsg_next(nlh, &len)) {
      if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_seq <= first ||
          nlh->nlmsg_seq > first + ops.size()) {
        continue;
      }
      ++acked;
      auto* e = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
      if (e->error != 0 && first_err == 0) {
        first_err = -e->error;
        failed = &ops[nlh->nlmsg_seq - first - 1];
      }
    }
  }
  if (first_err) return StatusOfErrno(first_err, table, *failed);
  return Status::Ok();
}

}  // namespace berth::net
