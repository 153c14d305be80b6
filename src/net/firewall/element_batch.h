// Set/map element changes sent straight to nf_tables as one netlink batch (libmnl): the
// per-port and per-network hot path. libnftables would parse text and refetch its cache on
// every command (~0.3-0.7 ms); this costs tens of microseconds whatever the table holds, and
// reports the kernel's errno exactly. Also the binary layout of berth's element keys.
// An ElementSocket is bound to the network namespace of the thread that opened it;
// not thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "net/firewall/ruleset.h"

struct mnl_socket;

namespace berth::net {

struct ElementOp {
  enum class Kind : uint8_t { kCreate, kAdd, kDelete };  // create fails with EEXIST
  Kind kind = Kind::kAdd;
  std::string_view set;        // a set or map of TableSkeleton()
  std::vector<uint8_t> key;    // register layout: each field padded to 4 bytes
  std::vector<uint8_t> value;  // maps only, empty for delete
};

// The ops for one network / the ports, in the same shapes as the text commands of ruleset.h
// (Add/RemoveNetworkCommands, Add/RemovePortCommands). Preconditions: validated inputs.
std::vector<ElementOp> AddNetworkOps(const NetworkRules& n);
std::vector<ElementOp> RemoveNetworkOps(const NetworkRules& n);
std::vector<ElementOp> AddPortOps(std::span<const PortRule> ports);
std::vector<ElementOp> RemovePortOps(std::span<const PortRule> ports);

// Asks the kernel (NFT_MSG_GETTABLE on `nl`, a bound NETLINK_NETFILTER socket with a receive
// timeout) whether table `family` `table` exists: a few microseconds, no dump.
// kIo when the answer is neither the table nor ENOENT.
Result<bool> QueryTableExists(mnl_socket* nl, uint8_t family, std::string_view table, uint32_t seq);

class ElementSocket {
 public:
  // A NETLINK_NETFILTER socket in the calling thread's namespace. kIo.
  static Result<ElementSocket> Open();
  ElementSocket(ElementSocket&& o) noexcept : nl_(o.nl_), seq_(o.seq_) { o.nl_ = nullptr; }
  ElementSocket& operator=(ElementSocket&&) = delete;
  ElementSocket(const ElementSocket&) = delete;
  ~ElementSocket();

  // Applies all ops to table inet `table` in one transaction, or none. The first failing
  // op's errno maps to: kAlreadyExists (EEXIST), kNotFound (ENOENT: element, set or table),
  // kFailedPrecondition (EBUSY), kPermissionDenied (EPERM), kIo (others).
  Status Commit(std::string_view table, std::span<const ElementOp> ops);
  // QueryTableExists for table inet `table`. kIo.
  Result<bool> TableExists(std::string_view table);

 private:
  explicit ElementSocket(mnl_socket* nl) : nl_(nl) {}
  mnl_socket* nl_;
  uint32_t seq_ = 1;
};

}  // namespace berth::net
