// IP addresses, socket addresses ("127.0.0.1:1053", "[::1]:53") and CIDR prefixes, parsed and
// validated once at the edge (config, API) and then used by the DNS server and network code.
// All types are plain values: thread-compatible.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace berth {

class IpAddress {
 public:
  enum class Family : uint8_t { kV4, kV6 };

  // 0.0.0.0.
  IpAddress() = default;
  // "192.0.2.1" or "2001:db8::1" (no brackets, no zone id); kInvalidArgument otherwise.
  static Result<IpAddress> Parse(std::string_view text);
  // From 4 or 16 network-order bytes.
  static IpAddress V4(const std::array<uint8_t, 4>& bytes);
  static IpAddress V6(const std::array<uint8_t, 16>& bytes);
  // The address of an AF_INET/AF_INET6 sockaddr; kInvalidArgument for other families.
  static Result<IpAddress> FromSockaddr(const sockaddr_storage& sa);

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::kV4; }
  // Network-order bytes: the first 4 for IPv4, all 16 for IPv6.
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }
  size_t size() const { return is_v4() ? 4 : 16; }
  // "::ffff:192.0.2.1" → 192.0.2.1; any other address is returned unchanged. Dual-stack
  // sockets report IPv4 peers this way, and ACLs must match them as IPv4.
  IpAddress Unmapped() const;
  bool IsLoopback() const;
  // Canonical text ("192.0.2.1", "2001:db8::1").
  std::string ToString() const;

  bool operator==(const IpAddress& o) const = default;

 private:
  Family family_ = Family::kV4;
  std::array<uint8_t, 16> bytes_{};
};

class SocketAddress {
 public:
  SocketAddress() = default;
  SocketAddress(IpAddress ip, uint16_t port) : ip_(ip), port_(port) {}
  // "127.0.0.1:1053", "[::1]:53", and without a port ("127.0.0.1", "[::1]", "::1") when
  // default_port is given (non-zero). Errors: kInvalidArgument naming the text and the reason.
  static Result<SocketAddress> Parse(std::string_view text, uint16_t default_port = 0);
  // From an AF_INET/AF_INET6 sockaddr; kInvalidArgument for other families.
  static Result<SocketAddress> FromSockaddr(const sockaddr_storage& sa);

  const IpAddress& ip() const { return ip_; }
  uint16_t port() const { return port_; }
  // Fills a sockaddr for bind/connect/sendto and returns its length.
  socklen_t ToSockaddr(sockaddr_storage* out) const;
  // "127.0.0.1:1053" / "[::1]:53": the form Parse accepts.
  std::string ToString() const;

  bool operator==(const SocketAddress& o) const = default;

 private:
  IpAddress ip_;
  uint16_t port_ = 0;
};

// An address prefix such as 10.0.0.0/8 or ::1/128. Host bits are cleared on parse, so
// "10.1.2.3/8" is 10.0.0.0/8.
class Cidr {
 public:
  Cidr() = default;
  // "10.0.0.0/8", "2001:db8::/32"; a bare address is a host prefix (/32 or /128).
  // Errors: kInvalidArgument (bad address, prefix out of range or not a number).
  static Result<Cidr> Parse(std::string_view text);

  const IpAddress& network() const { return network_; }
  int prefix_length() const { return prefix_; }
  // True when `ip` lies in the prefix. IPv4-mapped IPv6 addresses match IPv4 prefixes;
  // otherwise a family mismatch never matches.
  bool Contains(const IpAddress& ip) const;
  // Contains() for a peer address as returned by recvfrom/accept; false for non-IP families.
  bool Contains(const sockaddr_storage& sa) const;
  // True when the two prefixes share an address (same family and one contains the other).
  bool Overlaps(const Cidr& other) const;
  // "10.0.0.0/8".
  std::string ToString() const;

  bool operator==(const Cidr& o) const = default;

 private:
  IpAddress network_;
  int prefix_ = 0;
};

}  // namespace berth
