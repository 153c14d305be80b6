#include "core/net_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace berth {
namespace {

// Decimal digits only, within [0, max]; rejects signs, spaces and empty text.
bool ParseDecimal(std::string_view text, unsigned max, unsigned* out) {
  if (text.empty() || text.size() > 10) return false;
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value > max) return false;
  *out = value;
  return true;
}

}  // namespace

Result<IpAddress> IpAddress::Parse(std::string_view text) {
  // inet_pton needs a NUL-terminated string; addresses are short, so a stack buffer suffices.
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof(buf)) {
    return InvalidArgument("'" + std::string(text) + "' is not an IP address");
  }
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress ip;
  if (inet_pton(AF_INET, buf, ip.bytes_.data()) == 1) {
    ip.family_ = Family::kV4;
    return ip;
  }
  if (inet_pton(AF_INET6, buf, ip.bytes_.data()) == 1) {
    ip.family_ = Family::kV6;
    return ip;
  }
  return InvalidArgument("'" + std::string(text) + "' is not an IP address");
}

IpAddress IpAddress::V4(const std::array<uint8_t, 4>& bytes) {
  IpAddress ip;
  std::memcpy(ip.bytes_.data(), bytes.data(), 4);
  return ip;
}

IpAddress IpAddress::V6(const std::array<uint8_t, 16>& bytes) {
  IpAddress ip;
  ip.family_ = Family::kV6;
  ip.bytes_ = bytes;
  return ip;
}

Result<IpAddress> IpAddress::FromSockaddr(const sockaddr_storage& sa) {
  ASSIGN_OR_RETURN(SocketAddress addr, SocketAddress::FromSockaddr(sa));
  return addr.ip();
}

IpAddress IpAddress::Unmapped() const {
  static constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (is_v4() || std::memcmp(bytes_.data(), kMappedPrefix, 12) != 0) return *this;
  return V4({bytes_[12], bytes_[13], bytes_[14], bytes_[15]});
}

bool IpAddress::IsLoopback() const {
  IpAddress ip = Unmapped();
  if (ip.is_v4()) return ip.bytes_[0] == 127;
  static constexpr std::array<uint8_t, 16> kV6Loopback = {0, 0, 0, 0, 0, 0, 0, 0,
                                                          0, 0, 0, 0, 0, 0, 0, 1};
  return ip.bytes_ == kV6Loopback;
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof(buf));
  return buf;
}

Result<SocketAddress> SocketAddress::Parse(std::string_view text, uint16_t default_port) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument("bad address '" + std::string(text) + "': " + std::string(why));
  };
  std::string_view host = text;
  std::string_view port_text;
  bool has_port = false;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return bad("missing ']'");
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad("expected ':port' after ']'");
      port_text = rest.substr(1);
      has_port = true;
    }
    auto ip = IpAddress::Parse(host);
    if (!ip.ok() || ip->is_v4()) return bad("brackets must hold an IPv6 address");
  } else if (size_t colon = text.find(':'); colon != std::string_view::npos &&
                                            text.find(':', colon + 1) == std::string_view::npos) {
    // Exactly one colon: "ipv4:port". Several colons without brackets: a bare IPv6 address.
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    has_port = true;
  }
  auto ip = IpAddress::Parse(host);
  if (!ip.ok()) return bad("'" + std::string(host) + "' is not an IP address");
  unsigned port = default_port;
  if (has_port) {
    if (!ParseDecimal(port_text, 65535, &port)) return bad("port must be a number 0-65535");
  } else if (default_port == 0) {
    return bad("missing port (use ip:port or [ipv6]:port)");
  }
  return SocketAddress(*ip, static_cast<uint16_t>(port));
}

Result<SocketAddress> SocketAddress::FromSockaddr(const sockaddr_storage& sa) {
  if (sa.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(sa);
    std::array<uint8_t, 4> b;
    std::memcpy(b.data(), &in.sin_addr, 4);
    return SocketAddress(IpAddress::V4(b), ntohs(in.sin_port));
  }
  if (sa.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(sa);
    std::array<uint8_t, 16> b;
    std::memcpy(b.data(), &in6.sin6_addr, 16);
    return SocketAddress(IpAddress::V6(b), ntohs(in6.sin6_port));
  }
  return InvalidArgument("socket address family " + std::to_string(sa.ss_family) +
                         " is not IPv4 or IPv6");
}

socklen_t SocketAddress::ToSockaddr(sockaddr_storage* out) const {
  std::memset(out, 0, sizeof(*out));
  if (ip_.is_v4()) {
    auto* in = reinterpret_cast<sockaddr_in*>(out);
    in->sin_family = AF_INET;
    in->sin_port = htons(port_);
    std::memcpy(&in->sin_addr, ip_.bytes().data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* in6 = reinterpret_cast<sockaddr_in6*>(out);
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(port_);
  std::memcpy(&in6->sin6_addr, ip_.bytes().data(), 16);
  return sizeof(sockaddr_in6);
}

std::string SocketAddress::ToString() const {
  std::string port = std::to_string(port_);
  if (ip_.is_v4()) return ip_.ToString() + ":" + port;
  return "[" + ip_.ToString() + "]:" + port;
}

Result<Cidr> Cidr::Parse(std::string_view text) {
  size_t slash = text.find('/');
  auto ip = IpAddress::Parse(text.substr(0, slash));
  if (!ip.ok()) {
    return InvalidArgument("bad CIDR '" + std::string(text) + "': '" +
                           std::string(text.substr(0, slash)) + "' is not an IP address");
  }
  unsigned max = ip->is_v4() ? 32 : 128;
  unsigned prefix = max;
  if (slash != std::string_view::npos && !ParseDecimal(text.substr(slash + 1), max, &prefix)) {
    return InvalidArgument("bad CIDR '" + std::string(text) + "': prefix length must be 0-" +
                           std::to_string(max));
  }
  std::array<uint8_t, 16> bytes = ip->bytes();
  for (unsigned i = 0; i < 16; ++i) {
    unsigned bit = i * 8;
    if (bit >= prefix) {
      bytes[i] = 0;
    } else if (prefix - bit < 8) {
      bytes[i] &= static_cast<uint8_t>(0xFF << (8 - (prefix - bit)));
    }
  }
  Cidr cidr;
  cidr.network_ = ip->is_v4() ? IpAddress::V4({bytes[0], bytes[1], bytes[2], bytes[3]})
                              : IpAddress::V6(bytes);
  cidr.prefix_ = static_cast<int>(prefix);
  return cidr;
}

bool Cidr::Contains(const IpAddress& address) const {
  IpAddress ip = network_.is_v4() ? address.Unmapped() : address;
  if (ip.family() != network_.family()) return false;
  int full = prefix_ / 8;
  if (std::memcmp(ip.bytes().data(), network_.bytes().data(), full) != 0) return false;
  int rest = prefix_ % 8;
  if (rest == 0) return true;
  auto mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return (ip.bytes()[full] & mask) == network_.bytes()[full];
}

bool Cidr::Contains(const sockaddr_storage& sa) const {
  auto ip = IpAddress::FromSockaddr(sa);
  return ip.ok() && Contains(*ip);
}

bool Cidr::Overlaps(const Cidr& other) const {
  if (network_.family() != other.network_.family()) return false;
  return prefix_ <= other.prefix_ ? Contains(other.network_) : other.Contains(network_);
}

std::string Cidr::ToString() const {
  return network_.ToString() + "/" + std::to_string(prefix_);
}

}  // namespace berth
