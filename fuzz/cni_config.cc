// Fuzzes the CNI request parser (berth-cni and berthd's /api/v1/cni read the same): the input is
// an optional environment block — "ENV\n" then KEY=VALUE lines up to an empty line — followed
// by the network configuration as a runtime writes it to stdin (without the block: an ADD with
// a fixed environment). Whatever is accepted must hold: a known command, a valid container id
// and interface for ADD/CHECK, subnets with their gateway inside, and a result chained onto the
// accepted prevResult whose every ips[].interface points at an interface.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "cni/request.h"
#include "cni/result.h"
#include "core/text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace berth;
  using namespace berth::cni;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::map<std::string, std::string> env = {{"CNI_COMMAND", "ADD"}, {"CNI_CONTAINERID", "c0ffee"},
                                            {"CNI_NETNS", "/run/netns/x"}, {"CNI_IFNAME", "eth0"}};
  if (in.substr(0, 4) == "ENV\n") {
    env.clear();
    in.remove_prefix(4);
    while (!in.empty()) {
      std::string_view line = NextField(in, '\n');
      if (line.empty()) break;
      size_t eq = line.find('=');
      if (eq != std::string_view::npos) env[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
    }
  }
  std::string version = ReplyVersion(in);
  bool known = false;
  for (const auto& v : SupportedVersions()) known |= v == version;
  if (!known) __builtin_trap();

  Request r;
  Error e = ParseRequest(env, in, &r);
  if (!e.ok()) {
    if (e.msg.empty() || ErrorJson(version, e)["code"] != e.code) __builtin_trap();
    return 0;
  }
  if (r.command == Command::kAdd || r.command == Command::kCheck) {
    if (r.container_id.empty() || r.ifname.empty() || r.netns.empty() || r.netns[0] != '/') __builtin_trap();
  }
  for (const auto& s : r.conf.subnets) {
    if (!s.gateway || !s.subnet.Contains(*s.gateway)) __builtin_trap();
  }
  AddOutcome ours;
  ours.interfaces = {{"vb-0", "", ""}, {"eth0", "02:42:0a:00:00:02", "/run/netns/x"}};
  ours.addresses = {{*IpAddress::Parse("10.0.0.2"), 24, std::nullopt, 1}};
  auto result = BuildResult(r.conf.cni_version, ours, r.conf.prev_result, r.conf.dns);
  size_t n = result["interfaces"].size();
  for (const auto& ip : result["ips"]) {
    if (ip.contains("interface") && (!ip["interface"].is_number_unsigned() || ip["interface"].get<size_t>() >= n)) __builtin_trap();
  }
  return 0;
}
