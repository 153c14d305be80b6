#include "dns/transfer/acl.h"

#include <algorithm>
#include <string_view>

namespace berth::dns::transfer {

Result<TransferAcl> TransferAcl::Parse(const std::vector<std::string>& entries) {
  TransferAcl acl;
  for (const std::string& entry : entries) {
    std::string_view text = entry;
    if (text.substr(0, 4) == "key:") {
      std::string_view name = text.substr(4);
      if (name.empty()) return InvalidArgument("transfer ACL entry '" + entry + "': empty key name");
      // Key names are absolute: "key:xfr" means "xfr." as in the keyring.
      static const Name kRoot;
      auto key = Name::FromText(name, &kRoot);
      if (!key.ok()) return InvalidArgument("transfer ACL entry '" + entry + "': " + key.status().message());
      acl.keys_.push_back(std::move(*key));
      continue;
    }
    auto prefix = Cidr::Parse(text);
    if (!prefix.ok()) {
      return InvalidArgument("transfer ACL entry '" + entry + "': not \"key:NAME\", an address or a prefix (" +
                             prefix.status().message() + ")");
    }
    acl.prefixes_.push_back(*prefix);
  }
  return acl;
}

bool TransferAcl::Allows(const IpAddress& client, const Name* verified_key) const {
  if (verified_key && std::find(keys_.begin(), keys_.end(), *verified_key) != keys_.end()) return true;
  return std::any_of(prefixes_.begin(), prefixes_.end(), [&](const Cidr& c) { return c.Contains(client); });
}

}  // namespace berth::dns::transfer
