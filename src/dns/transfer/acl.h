// TransferAcl: who may transfer a zone (AXFR/IXFR), from config strings: "key:NAME." (requests
// signed with that TSIG key, verified by the caller) or an address / CIDR prefix. Entries are
// alternatives; an empty ACL denies everyone. Immutable after Parse: safe to share.
#pragma once

#include <string>
#include <vector>

#include "core/net_address.h"
#include "core/status.h"
#include "dns/wire/name.h"

namespace berth::dns::transfer {

class TransferAcl {
 public:
  TransferAcl() = default;  // denies everyone
  // Parses the entries. kInvalidArgument naming the first bad entry (empty key name, bad
  // address or prefix).
  static Result<TransferAcl> Parse(const std::vector<std::string>& entries);

  // True when `client` lies in one of the prefixes, or `verified_key` (the TSIG key the request
  // verified with, null when unsigned) is one of the keys. IPv4-mapped IPv6 clients match IPv4
  // prefixes.
  bool Allows(const IpAddress& client, const Name* verified_key) const;
  bool empty() const { return keys_.empty() && prefixes_.empty(); }
  const std::vector<Name>& keys() const { return keys_; }
  const std::vector<Cidr>& prefixes() const { return prefixes_; }

 private:
  std::vector<Name> keys_;
  std::vector<Cidr> prefixes_;
};

}  // namespace berth::dns::transfer
