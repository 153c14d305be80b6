// IPAM: address arithmetic inside a subnet, the allocator of one network subnet, and the
// choice of a free subnet from the default pools. Pure logic over values; the network engine
// owns the instances and persists every allocation in the state store. SubnetAllocator is
// thread-compatible (the engine calls it under its lock); the free functions are thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <vector>

#include "core/net_address.h"
#include "core/status.h"

namespace berth::net {

// An address's position inside a subnet; 128 bits so that IPv6 /64s fit.
using AddressOffset = unsigned __int128;

// How many addresses the prefix holds (2^(bits - prefix)); 2^127 stands in for ::/0.
AddressOffset PrefixSize(const Cidr& prefix);
// The address `offset` places into `subnet`. Precondition: offset < PrefixSize(subnet).
IpAddress AddressAt(const Cidr& subnet, AddressOffset offset);
// Where `ip` sits in `subnet`. Precondition: subnet.Contains(ip).
AddressOffset OffsetOf(const Cidr& subnet, const IpAddress& ip);
// The first and last address that may go to a host: IPv4 skips the network and broadcast
// addresses (except /31 and /32, RFC 3021), IPv6 skips the subnet-router anycast address.
// kInvalidArgument for a subnet too small to hold a gateway and one endpoint.
Result<std::pair<AddressOffset, AddressOffset>> HostRange(const Cidr& subnet);

// Hands out the addresses of one subnet of one network: the gateway and auxiliary addresses
// are reserved, dynamic allocation stays inside `range`, static requests may use the whole
// subnet. Allocation continues after the last address handed out (wrapping), so a freed
// address is not reused at once, and each call costs O(log n) while free addresses remain
// near the cursor.
class SubnetAllocator {
 public:
  // `bounds` (first, last) narrows the dynamic range further, for IPAM configs that give a
  // start and end address (CNI's rangeStart/rangeEnd) rather than a prefix.
  // kInvalidArgument: range, bounds or a reserved address outside the subnet, subnet too small.
  static Result<SubnetAllocator> Make(const Cidr& subnet, const std::optional<Cidr>& range,
                                      std::span<const IpAddress> reserved,
                                      const std::optional<std::pair<IpAddress, IpAddress>>& bounds = {});

  const Cidr& subnet() const { return subnet_; }
  // The next free address of the dynamic range. kResourceExhausted when none is left.
  Result<IpAddress> Allocate();
  // Takes a specific address (a requested --ip, or state reloaded at start).
  // kInvalidArgument: outside the subnet, or its network/broadcast address; kAlreadyExists:
  // reserved (gateway, aux) or already in use.
  Status Claim(const IpAddress& ip);
  // Gives an address back; unknown addresses are ignored.
  void Release(const IpAddress& ip);
  bool InUse(const IpAddress& ip) const;
  size_t in_use() const { return used_.size(); }

 private:
  SubnetAllocator() = default;
  bool Taken(AddressOffset offset) const { return used_.count(offset) || reserved_.count(offset); }

  Cidr subnet_;
  AddressOffset first_ = 0, last_ = 0;              // usable host offsets of the subnet
  AddressOffset range_first_ = 0, range_last_ = 0;  // dynamic range (offsets in the subnet)
  AddressOffset cursor_ = 0;                        // where the next search starts
  std::set<AddressOffset> used_;
  std::set<AddressOffset> reserved_;
};

// The default address pools, in order: 172.17.0.0/16 ... 172.31.0.0/16, then 192.168.0.0/20
// ... 192.168.240.0/20 for IPv4; fd42:6265:7274:N::/64 (N = 0 ... 65535) for IPv6.
// Returns the first pool subnet of `family` that overlaps none of `taken` (the host's routes and
// addresses, and the other networks' subnets). kResourceExhausted when every one is taken.
Result<Cidr> PickFreeSubnet(IpAddress::Family family, std::span<const Cidr> taken);

}  // namespace berth::net
