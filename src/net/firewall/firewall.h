// Firewall: berth's one nftables table (family inet, "berth" by default) holding published
// ports (DNAT), masquerade and network isolation as set/map elements. The table is made with
// libnftables; networks and ports change as element batches sent by netlink (one transaction
// per call, cost independent of the table's size). Ruleset: ruleset.h, docs/firewall.md.
// Not thread-safe: the network engine serializes calls. Never spawns a process.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "core/status.h"
#include "net/firewall/element_batch.h"
#include "net/firewall/ruleset.h"

struct nft_ctx;

namespace berth::net {

class Firewall {
 public:
  // A libnftables context and a netlink socket, both in the CALLING thread's network
  // namespace (later calls may come from any thread). Does not change the ruleset.
  // kInvalidArgument (table name), kResourceExhausted (no context), kIo (socket).
  static Result<std::unique_ptr<Firewall>> Open(std::string table = "berth");
  ~Firewall();
  Firewall(const Firewall&) = delete;
  Firewall& operator=(const Firewall&) = delete;

  const std::string& table() const { return table_; }

  // Creates the table with its chains, sets and maps when absent (atomically); a no-op when
  // the table exists (a damaged table is repaired by Replace). kPermissionDenied, kIo.
  Status EnsureTable();
  // Whether the table exists (false on error).
  bool TablePresent();
  // kInvalidArgument, kAlreadyExists (bridge already there), kNotFound (no table), kIo.
  Status AddNetwork(const NetworkRules& n);
  // kInvalidArgument, kNotFound (bridge or table absent: nothing changed), kIo.
  Status RemoveNetwork(const NetworkRules& n);
  // All or nothing. kInvalidArgument (bad rule, same host port twice in `ports`),
  // kAlreadyExists (a host port already published: nothing added), kNotFound (no table), kIo.
  Status AddPorts(std::span<const PortRule> ports);
  // All or nothing; ports not present are skipped. kInvalidArgument, kFailedPrecondition
  // (a host port is published to another container), kNotFound (no table), kIo.
  Status RemovePorts(std::span<const PortRule> ports);
  // The table becomes exactly this, in one atomic transaction (delete + recreate with every
  // element). For daemon start and after someone flushed the ruleset.
  // kInvalidArgument (bad input, duplicate bridge or host port), kIo.
  Status Replace(std::span<const NetworkRules> networks, std::span<const PortRule> ports);
  // Deletes the table; OK when it is already absent. kIo.
  Status DeleteTable();

 private:
  Firewall(std::string table, nft_ctx* ctx, ElementSocket elements)
      : table_(std::move(table)), ctx_(ctx), elements_(std::move(elements)) {}
  // Runs `commands` as one transaction; maps the kernel's errno to a Code.
  Status Run(const std::string& commands);

  std::string table_;
  nft_ctx* ctx_;
  ElementSocket elements_;
};

}  // namespace berth::net
