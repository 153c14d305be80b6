// Published ports as `berth run -p` and `docker run -p` write them:
//   [HOSTIP:][HOSTPORT[-END]:]CONTAINERPORT[-END][/tcp|/udp]   (HOSTIP of IPv6 in brackets)
// A missing host port means "any free port from the ephemeral range", chosen by the engine.
// Plain values and pure functions: thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/net_address.h"
#include "core/status.h"
#include "net/model/protocol.h"

namespace berth::net {

std::string_view ProtocolName(Protocol p);
// "tcp" / "udp"; kInvalidArgument otherwise.
Result<Protocol> ParseProtocol(std::string_view text);

// The range random host ports come from (Linux's default ephemeral range, as Docker uses).
inline constexpr uint16_t kRandomPortFirst = 32768;
inline constexpr uint16_t kRandomPortLast = 60999;

struct PortSpec {
  std::optional<IpAddress> host_ip;   // nullopt: every host address
  uint16_t host_first = 0;            // 0: pick free ports (host_last is then 0 too)
  uint16_t host_last = 0;
  uint16_t container_first = 0;
  uint16_t container_last = 0;
  Protocol protocol = Protocol::kTcp;

  size_t count() const { return container_last - container_first + 1u; }
  bool random_host_port() const { return host_first == 0; }
  // Back to the -p form, e.g. "127.0.0.1:8080-8081:80-81/tcp".
  std::string ToString() const;
  bool operator==(const PortSpec&) const = default;
};

// Parses one -p value. A host range must be as long as the container range. kInvalidArgument
// naming the text and the part at fault (port 0 or above 65535, reversed range, bad address,
// unknown protocol).
Result<PortSpec> ParsePortSpec(std::string_view text);

}  // namespace berth::net
