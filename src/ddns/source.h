// Address detection: the host's current public IPv4 or IPv6 from an interface, from "what is
// my IP" URLs, or from a command's output. The parsing and choosing is pure and unit-tested;
// the kernel is reached through InterfaceAddresses so tests can feed address lists.
// Sources are used from the updater's thread only (not thread-safe); the free functions are pure.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/net_address.h"
#include "core/status.h"
#include "ddns/ddns_config.h"

namespace berth::ddns {

// One address of one interface, as the kernel reports it.
struct InterfaceAddress {
  std::string interface;
  IpAddress address;
  bool temporary = false;   // IPv6 privacy address (IFA_F_TEMPORARY)
  bool deprecated = false;  // preferred lifetime over (IFA_F_DEPRECATED)
  bool universe_scope = true;
};

// Lists the addresses of every interface. kIo / kUnavailable when the kernel cannot be asked.
using InterfaceAddresses = std::function<Result<std::vector<InterfaceAddress>>()>;

// True for an address worth publishing: not unspecified, loopback, link-local, multicast or
// broadcast; with `allow_private` false also not RFC 1918, CGNAT (100.64/10) or ULA (fc00::/7).
bool IsGlobalUnicast(const IpAddress& ip, bool allow_private);

// Picks the address a rule selects: of `family`, on rule.interface (any when empty), global
// unicast, not temporary or deprecated, matching rule.match, the rule.index-th in order.
// kNotFound naming the rule when nothing qualifies.
Result<IpAddress> PickInterfaceAddress(const std::vector<InterfaceAddress>& addresses, const SourceConfig& rule,
                                       IpAddress::Family family);

// The address in a "what is my IP" answer or a command's output: the whole text trimmed, else
// JSON (the first string value holding an address of `family`, depth-limited), else the first
// word of the text that is one. kNotFound when there is none; never reads past `text`.
Result<IpAddress> ParseAddressAnswer(std::string_view text, IpAddress::Family family);

// Runs `cmd` with /bin/sh -c, stdout captured (at most 64 KiB), killed after `timeout`.
// kDeadlineExceeded on timeout; kUnavailable when it exits non-zero (with its stderr's first
// line); kIo when it cannot be started.
Result<std::string> RunCommand(const std::string& cmd, std::chrono::milliseconds timeout);

// Detects the address for one job.
class AddressSource {
 public:
  virtual ~AddressSource() = default;
  // The current address. Errors name the source (interface, URL or command) and why.
  virtual Result<IpAddress> Detect() = 0;
  // True for interface sources, which are re-run on netlink address events.
  virtual bool follows_interfaces() const { return false; }
};

// The source for `rule`; `interfaces` serves interface rules.
std::unique_ptr<AddressSource> MakeSource(const SourceConfig& rule, IpAddress::Family family,
                                          InterfaceAddresses interfaces);

}  // namespace berth::ddns
