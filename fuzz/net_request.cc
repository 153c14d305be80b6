// Fuzzes the container-network API parsers: the input is a JSON body as a client would POST
// it. A body that is an object with "driver"/"subnets" is read as a network spec (then
// normalized), anything else as an endpoint request (which parses its -p strings). Whatever
// they accept must hold: a normalized spec re-parses to itself, every subnet has a gateway
// inside it, every accepted port range is well-formed and round-trips through its text.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "net/engine/endpoint.h"
#include "net/model/network.h"
#include "net/model/port_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace berth;
  using namespace berth::net;
  auto j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    // Not JSON: treat the bytes as one -p value.
    auto p = ParsePortSpec(std::string_view(reinterpret_cast<const char*>(data), size));
    if (p.ok()) {
      if (p->container_first == 0 || p->container_last < p->container_first) __builtin_trap();
      auto again = ParsePortSpec(p->ToString());
      if (!again.ok() || !(*again == *p)) __builtin_trap();
    }
    return 0;
  }
  if (j.is_object() && (j.contains("driver") || j.contains("subnets"))) {
    auto spec = NetworkSpecFromJson(j);
    if (!spec.ok()) return 0;
    if (!NormalizeSpec(*spec).ok()) return 0;
    for (const SubnetSpec& s : spec->subnets) {
      if (!s.gateway || !s.subnet.Contains(*s.gateway)) __builtin_trap();
    }
    auto back = NetworkSpecFromJson(NetworkSpecToJson(*spec));
    if (!back.ok() || !(*back == *spec)) __builtin_trap();
    return 0;
  }
  auto req = EndpointRequestFromJson(j);
  if (!req.ok()) return 0;
  for (const PortSpec& p : req->ports) {
    if (p.container_first == 0 || p.container_last < p.container_first) __builtin_trap();
    if (!p.random_host_port() && p.host_last - p.host_first != p.container_last - p.container_first) __builtin_trap();
  }
  return 0;
}
