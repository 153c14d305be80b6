// A CNI request as the spec defines it (CNI 0.3.0-1.1.0): the CNI_* environment plus the network
// configuration on stdin, parsed and validated into one value, with CNI's numbered errors. Both
// the berth-cni plugin (to fail early and find the socket) and berthd (which never trusts what
// the plugin forwards) parse with this. Plain values and pure functions: thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/net_address.h"
#include "net/kernel/mac.h"
#include "net/model/network.h"
#include "net/model/port_spec.h"

namespace berth::cni {

// Where the plugin finds berthd when the config has no "socket".
inline constexpr char kDefaultSocket[] = "/run/berth/berthd.sock";
// The newest version berth speaks; results use the config's version.
inline constexpr char kLatestVersion[] = "1.1.0";
// Every version berth accepts, oldest first.
const std::vector<std::string>& SupportedVersions();

// CNI's error codes (spec "Error codes"), and berth's own from 100 up.
enum ErrorCode : int {
  kOk = 0,
  kIncompatibleVersion = 1,
  kUnsupportedField = 2,
  kUnknownContainer = 3,
  kInvalidEnvironment = 4,
  kIoFailure = 5,
  kDecodeFailure = 6,
  kInvalidConfig = 7,
  kTryAgainLater = 11,
  kNotAvailable = 50,
  kNotAvailableLimited = 51,
  kConflict = 100,        // an address, host port, interface or attachment is already taken
  kExhausted = 101,       // no free address or port left
  kDrift = 102,           // CHECK: the kernel no longer matches what was set up
  kDaemonError = 103,     // berthd failed in another way (see msg)
};

struct Error {
  int code = kOk;
  std::string msg;
  std::string details;
  bool ok() const { return code == kOk; }
};

enum class Command { kAdd, kDel, kCheck, kVersion, kStatus, kGc };
std::string_view CommandName(Command c);

// One container attachment a GC must keep ("cni.dev/valid-attachments").
struct ValidAttachment {
  std::string container_id, ifname;
  bool operator<(const ValidAttachment& o) const {
    return std::tie(container_id, ifname) < std::tie(o.container_id, o.ifname);
  }
};

// The network configuration (stdin), with the runtime's capability arguments.
struct NetConf {
  std::string cni_version;   // as given; one of SupportedVersions()
  std::string name;          // the berth network
  std::string type;          // the plugin's binary name
  std::string socket = kDefaultSocket;
  // ipam: how to create the network on first use. `has_ipam` with no subnets = pick a free
  // subnet from berth's pools; no "ipam" at all = the network must already exist.
  bool has_ipam = false;
  std::vector<net::SubnetSpec> subnets;
  int mtu = 0;
  nlohmann::json dns;        // the config's own "dns" block, passed through into the result
  // runtimeConfig (capabilities)
  std::vector<net::PortSpec> ports;        // portMappings
  std::optional<IpAddress> ipv4, ipv6;     // ips
  std::optional<net::MacAddress> mac;      // mac
  std::vector<std::string> aliases;        // aliases (for this network)
  std::optional<nlohmann::json> prev_result;
  std::optional<std::vector<ValidAttachment>> valid_attachments;  // GC
};

struct Request {
  Command command = Command::kVersion;
  std::string container_id;  // CNI_CONTAINERID
  std::string netns;         // CNI_NETNS
  std::string ifname;        // CNI_IFNAME
  std::string path;          // CNI_PATH (berth delegates to no other plugin; kept for logs)
  std::map<std::string, std::string> args;  // CNI_ARGS
  std::string pod_name;      // K8S_POD_NAME from CNI_ARGS: the container's DNS name
  NetConf conf;
};

// Parses the environment (only CNI_* keys are read) and the stdin config. For VERSION only
// "cniVersion" is read. On failure returns the error (code 1, 2, 4, 6 or 7 with msg and
// details) and leaves `out` unspecified.
Error ParseRequest(const std::map<std::string, std::string>& env, std::string_view stdin_config, Request* out);

// The cniVersion a reply should carry: the config's when it parses and is supported, else the
// latest.
std::string ReplyVersion(std::string_view stdin_config);

// "0.4.0" < "1.0.0": compares dotted versions numerically; false when either does not parse.
bool VersionAtLeast(std::string_view version, std::string_view minimum);

}  // namespace berth::cni
