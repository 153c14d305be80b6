#include "net/model/port_spec.h"

#include <charconv>
#include <vector>

namespace berth::net {
namespace {

Status Bad(std::string_view text, std::string_view why) {
  return InvalidArgument("bad port mapping '" + std::string(text) + "': " + std::string(why));
}

// "80" or "8000-8010" → [first, last], each 1-65535.
Status ParseRange(std::string_view whole, std::string_view part, uint16_t* first, uint16_t* last) {
  auto one = [&](std::string_view t, uint16_t* out) -> Status {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (t.empty() || t.size() > 5 || ec != std::errc() || p != t.data() + t.size()) {
      return Bad(whole, "'" + std::string(t) + "' is not a port number");
    }
    if (v == 0 || v > 65535) return Bad(whole, "port " + std::string(t) + " is not between 1 and 65535");
    *out = static_cast<uint16_t>(v);
    return Status::Ok();
  };
  size_t dash = part.find('-');
  RETURN_IF_ERROR(one(part.substr(0, dash), first));
  if (dash == std::string_view::npos) {
    *last = *first;
    return Status::Ok();
  }
  RETURN_IF_ERROR(one(part.substr(dash + 1), last));
  if (*last < *first) return Bad(whole, "range " + std::string(part) + " ends before it starts");
  return Status::Ok();
}

}  // namespace

std::string_view ProtocolName(Protocol p) { return p == Protocol::kTcp ? "tcp" : "udp"; }

Result<Protocol> ParseProtocol(std::string_view text) {
  if (text == "tcp") return Protocol::kTcp;
  if (text == "udp") return Protocol::kUdp;
  return InvalidArgument("unknown protocol '" + std::string(text) + "' (tcp or udp)");
}

Result<PortSpec> ParsePortSpec(std::string_view text) {
  PortSpec spec;
  std::string_view rest = text;
  size_t slash = rest.rfind('/');
  if (slash != std::string_view::npos) {
    auto proto = ParseProtocol(rest.substr(slash + 1));
    if (!proto.ok()) return Bad(text, proto.status().message());
    spec.protocol = *proto;
    rest = rest.substr(0, slash);
  }
  // An IPv6 host address comes in brackets: "[::1]:8080:80".
  if (!rest.empty() && rest[0] == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return Bad(text, "an IPv6 host address must be written [ADDRESS]:HOSTPORT:CONTAINERPORT");
    }
    auto ip = IpAddress::Parse(rest.substr(1, close - 1));
    if (!ip.ok() || ip->is_v4()) return Bad(text, "'" + std::string(rest.substr(1, close - 1)) + "' is not an IPv6 address");
    spec.host_ip = *ip;
    rest = rest.substr(close + 2);
    if (rest.find(':') == std::string_view::npos) {
      return Bad(text, "a host address needs a host port field (it may be empty: ADDRESS::CONTAINERPORT)");
    }
  }
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t colon = rest.find(':', start);
    parts.push_back(rest.substr(start, colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  if (parts.size() > 3) return Bad(text, "too many ':' (use brackets around an IPv6 address)");
  if (parts.size() == 3) {
    if (spec.host_ip) return Bad(text, "too many ':'");
    auto ip = IpAddress::Parse(parts[0]);
    if (!ip.ok()) return Bad(text, "'" + std::string(parts[0]) + "' is not an IP address");
    if (!ip->is_v4()) return Bad(text, "write an IPv6 host address in brackets");
    spec.host_ip = *ip;
    parts.erase(parts.begin());
  }
  RETURN_IF_ERROR(ParseRange(text, parts.back(), &spec.container_first, &spec.container_last));
  if (parts.size() == 2 && !parts[0].empty()) {
    RETURN_IF_ERROR(ParseRange(text, parts[0], &spec.host_first, &spec.host_last));
    if (spec.host_last - spec.host_first != spec.container_last - spec.container_first) {
      return Bad(text, "the host range and the container range differ in length");
    }
  }
  return spec;
}

std::string PortSpec::ToString() const {
  auto range = [](uint16_t a, uint16_t b) {
    return a == b ? std::to_string(a) : std::to_string(a) + "-" + std::to_string(b);
  };
  std::string out;
  if (host_ip) out += host_ip->is_v4() ? host_ip->ToString() + ":" : "[" + host_ip->ToString() + "]:";
  if (host_first != 0) out += range(host_first, host_last) + ":";
  else if (host_ip) out += ":";
  out += range(container_first, container_last);
  out += "/";
  out += ProtocolName(protocol);
  return out;
}

}  // namespace berth::net
