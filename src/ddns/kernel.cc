#include "ddns/kernel.h"

#include <linux/if_addr.h>

#include <map>

#include "net/kernel/address_watch.h"
#include "net/kernel/netlink.h"

namespace berth::ddns {

UpdaterEnv KernelEnv() {
  UpdaterEnv env;
  env.interfaces = []() -> Result<std::vector<InterfaceAddress>> {
    ASSIGN_OR_RETURN(net::Netlink nl, net::Netlink::Open());
    ASSIGN_OR_RETURN(auto links, nl.Links());
    std::map<int, std::string> names;
    for (const auto& l : links) names[l.index] = l.name;
    ASSIGN_OR_RETURN(auto addresses, nl.Addresses(0, std::nullopt));
    std::vector<InterfaceAddress> out;
    for (const auto& a : addresses) {
      InterfaceAddress ia;
      ia.interface = names.count(a.index) ? names[a.index] : "if" + std::to_string(a.index);
      ia.address = a.address;
      ia.temporary = a.flags & IFA_F_TEMPORARY;
      // A tentative address (DAD not done) cannot be used yet either.
      ia.deprecated = a.flags & (IFA_F_DEPRECATED | IFA_F_TENTATIVE | IFA_F_DADFAILED);
      ia.universe_scope = a.scope == 0;
      out.push_back(std::move(ia));
    }
    return out;
  };
  env.watch = [](std::function<void()> on_change) -> Result<std::shared_ptr<void>> {
    ASSIGN_OR_RETURN(auto watcher, net::AddressWatcher::Start(std::move(on_change), std::chrono::milliseconds(100)));
    return std::shared_ptr<void>(std::move(watcher));
  };
  return env;
}

}  // namespace berth::ddns
