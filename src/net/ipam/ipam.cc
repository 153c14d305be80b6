#include "net/ipam/ipam.h"

#include <algorithm>

namespace berth::net {
namespace {

int Bits(const Cidr& c) { return c.network().is_v4() ? 32 : 128; }

AddressOffset ToInteger(const IpAddress& ip) {
  AddressOffset v = 0;
  for (size_t i = 0; i < ip.size(); ++i) v = (v << 8) | ip.bytes()[i];
  return v;
}

IpAddress FromInteger(IpAddress::Family family, AddressOffset v) {
  if (family == IpAddress::Family::kV4) {
    return IpAddress::V4({uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)});
  }
  std::array<uint8_t, 16> b{};
  for (int i = 15; i >= 0; --i, v >>= 8) b[i] = uint8_t(v);
  return IpAddress::V6(b);
}

}  // namespace

AddressOffset PrefixSize(const Cidr& prefix) {
  int host_bits = Bits(prefix) - prefix.prefix_length();
  return AddressOffset(1) << std::min(host_bits, 127);
}

IpAddress AddressAt(const Cidr& subnet, AddressOffset offset) {
  return FromInteger(subnet.network().family(), ToInteger(subnet.network()) + offset);
}

AddressOffset OffsetOf(const Cidr& subnet, const IpAddress& ip) {
  return ToInteger(ip) - ToInteger(subnet.network());
}

Result<std::pair<AddressOffset, AddressOffset>> HostRange(const Cidr& subnet) {
  AddressOffset size = PrefixSize(subnet);
  AddressOffset first = 0, last = size - 1;
  if (subnet.network().is_v4()) {
    if (size > 2) {
      first = 1;
      last = size - 2;
    }
  } else if (size > 1) {
    first = 1;
  }
  // A gateway and at least one endpoint.
  if (last < first + 1) {
    return InvalidArgument("subnet " + subnet.ToString() + " is too small for a gateway and an endpoint");
  }
  return std::make_pair(first, last);
}

Result<SubnetAllocator> SubnetAllocator::Make(const Cidr& subnet, const std::optional<Cidr>& range,
                                              std::span<const IpAddress> reserved,
                                              const std::optional<std::pair<IpAddress, IpAddress>>& bounds) {
  SubnetAllocator a;
  a.subnet_ = subnet;
  ASSIGN_OR_RETURN(auto hosts, HostRange(subnet));
  a.first_ = hosts.first;
  a.last_ = hosts.second;
  a.range_first_ = a.first_;
  a.range_last_ = a.last_;
  if (range) {
    if (range->network().family() != subnet.network().family() ||
        range->prefix_length() < subnet.prefix_length() || !subnet.Contains(range->network())) {
      return InvalidArgument("ip range " + range->ToString() + " is not inside subnet " + subnet.ToString());
    }
    AddressOffset start = OffsetOf(subnet, range->network());
    AddressOffset end = start + PrefixSize(*range) - 1;
    a.range_first_ = std::max(start, a.first_);
    a.range_last_ = std::min(end, a.last_);
    if (a.range_first_ > a.range_last_) {
      return InvalidArgument("ip range " + range->ToString() + " holds no usable address of " + subnet.ToString());
    }
  }
  if (bounds) {
    const auto& [lo, hi] = *bounds;
    for (const IpAddress& ip : {lo, hi}) {
      if (ip.family() != subnet.network().family() || !subnet.Contains(ip)) {
        return InvalidArgument("range bound " + ip.ToString() + " is not inside subnet " + subnet.ToString());
      }
    }
    AddressOffset start = OffsetOf(subnet, lo), end = OffsetOf(subnet, hi);
    if (start > end) return InvalidArgument("range start " + lo.ToString() + " is after range end " + hi.ToString());
    a.range_first_ = std::max(start, a.range_first_);
    a.range_last_ = std::min(end, a.range_last_);
    if (a.range_first_ > a.range_last_) {
      return InvalidArgument("range " + lo.ToString() + "-" + hi.ToString() + " holds no usable address of " + subnet.ToString());
    }
  }
  for (const IpAddress& ip : reserved) {
    if (!subnet.Contains(ip) || ip.family() != subnet.network().family()) {
      return InvalidArgument("address " + ip.ToString() + " is not inside subnet " + subnet.ToString());
    }
    a.reserved_.insert(OffsetOf(subnet, ip));
  }
  a.cursor_ = a.range_first_;
  return a;
}

Result<IpAddress> SubnetAllocator::Allocate() {
  AddressOffset span = range_last_ - range_first_ + 1;
  // Every probe either finds a free address or passes a used/reserved one, so the loop ends
  // after at most used + reserved + 1 steps.
  AddressOffset limit = std::min<AddressOffset>(span, used_.size() + reserved_.size() + 1);
  AddressOffset at = cursor_;
  for (AddressOffset i = 0; i < limit; ++i) {
    if (!Taken(at)) {
      used_.insert(at);
      cursor_ = at == range_last_ ? range_first_ : at + 1;
      return AddressAt(subnet_, at);
    }
    at = at == range_last_ ? range_first_ : at + 1;
  }
  return ResourceExhausted("no free address left in " + subnet_.ToString());
}

Status SubnetAllocator::Claim(const IpAddress& ip) {
  if (ip.family() != subnet_.network().family() || !subnet_.Contains(ip)) {
    return InvalidArgument("address " + ip.ToString() + " is not inside subnet " + subnet_.ToString());
  }
  AddressOffset at = OffsetOf(subnet_, ip);
  if (at < first_ || at > last_) {
    return InvalidArgument("address " + ip.ToString() + " is not a host address of " + subnet_.ToString());
  }
  if (reserved_.count(at)) return AlreadyExists("address " + ip.ToString() + " is reserved");
  if (!used_.insert(at).second) return AlreadyExists("address " + ip.ToString() + " is already in use");
  return Status::Ok();
}

void SubnetAllocator::Release(const IpAddress& ip) {
  if (ip.family() != subnet_.network().family() || !subnet_.Contains(ip)) return;
  used_.erase(OffsetOf(subnet_, ip));
}

bool SubnetAllocator::InUse(const IpAddress& ip) const {
  if (ip.family() != subnet_.network().family() || !subnet_.Contains(ip)) return false;
  return used_.count(OffsetOf(subnet_, ip)) > 0;
}

Result<Cidr> PickFreeSubnet(IpAddress::Family family, std::span<const Cidr> taken) {
  auto free = [&](const Cidr& c) {
    return std::none_of(taken.begin(), taken.end(), [&](const Cidr& t) { return t.Overlaps(c); });
  };
  if (family == IpAddress::Family::kV4) {
    for (int second = 17; second <= 31; ++second) {
      Cidr c = *Cidr::Parse("172." + std::to_string(second) + ".0.0/16");
      if (free(c)) return c;
    }
    for (int third = 0; third < 256; third += 16) {
      Cidr c = *Cidr::Parse("192.168." + std::to_string(third) + ".0/20");
      if (free(c)) return c;
    }
    return ResourceExhausted("every default IPv4 pool (172.17-31.0.0/16, 192.168.0.0/16 in /20s) "
                             "overlaps an existing network, route or address; give --subnet");
  }
  Cidr base = *Cidr::Parse("fd42:6265:7274::/48");
  std::array<uint8_t, 16> bytes = base.network().bytes();
  for (int n = 0; n < 65536; ++n) {
    bytes[6] = uint8_t(n >> 8);
    bytes[7] = uint8_t(n);
    Cidr c = *Cidr::Parse(IpAddress::V6(bytes).ToString() + "/64");
    if (free(c)) return c;
  }
  return ResourceExhausted("every default IPv6 pool (fd42:6265:7274::/48 in /64s) is taken; give --subnet");
}

}  // namespace berth::net
