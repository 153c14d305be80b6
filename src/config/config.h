// The daemon's configuration: the typed Config, its embedded defaults, the YAML file loader
// and the command-line flags that override it (every file key is also a flag). Parsing
// validates everything and reports `file:line:column: key 'dns.listen[1]': reason`.
// All functions are pure (apart from reading the named files): thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/credentials.h"
#include "core/log.h"
#include "core/net_address.h"
#include "core/status.h"
#include "ddns/ddns_config.h"
#include "dyndns/options.h"
#include "dns/wire/name.h"

namespace berth::config {

inline constexpr uint16_t kDefaultDnsPort = 53;
inline constexpr uint16_t kDefaultApiPort = 8053;

struct LogConfig {
  log::Format format = log::Format::kText;
  log::Level level = log::Level::kInfo;
};

struct TcpConfig {
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(10);
  uint32_t max_connections = 1024;
  // Like DnsConfig::udp_coalesce, for the TCP workers' waits. Shorter than UDP's: TCP clients
  // (truncated answers retried, pipelining stubs) already paid a round trip to get here.
  std::chrono::microseconds coalesce{100};
};

struct DnsConfig {
  // UDP and TCP listeners, one pair per address.
  std::vector<SocketAddress> listen = {SocketAddress(IpAddress::V4({127, 0, 0, 1}), 1053)};
  uint32_t workers = 0;  // 0 = one per core
  // Upstream resolvers. nullopt = the host's /etc/resolv.conf nameservers (see
  // ResolvConfNameservers); an empty list = no forwarding (authoritative only).
  std::optional<std::vector<SocketAddress>> forward;
  // Clients allowed recursion (forwarding); others get authoritative answers only.
  std::vector<Cidr> allow_recursion = {Cidr::Parse("127.0.0.0/8").value(),
                                       Cidr::Parse("::1/128").value()};
  uint64_t cache_size = 100000;  // entries; 0 disables the cache
  TcpConfig tcp;
  uint16_t edns_udp_size = 1232;
  // Under sustained UDP load, pause at most this long after a partial batch so the next batch
  // is fuller (fewer wakeups and syscalls per query); 0 disables. See LoadModeration and
  // docs/benchmarks.md.
  std::chrono::microseconds udp_coalesce{400};
  // UDP answers to one client in one batch go out as GSO sends (see
  // DnsServerOptions::udp_gso); false sends every answer on its own.
  bool udp_gso = true;
};

struct ApiConfig {
  // HTTP API listener; nullopt ("" in the file) disables it.
  std::optional<SocketAddress> listen = SocketAddress(IpAddress::V4({127, 0, 0, 1}), 8053);
  std::string socket = "./var/berthd.sock";  // Unix socket for the CLI; "" disables it
  // TLS on the TCP listener when both are set (PEM files); the unix socket stays plain.
  std::string tls_cert;
  std::string tls_key;
  // Allows a non-loopback listener without TLS (--insecure-api).
  bool insecure = false;
};

struct ZoneConfig {
  dns::Name name;     // absolute
  // Loaded at start and on SIGHUP. Empty: a store zone (created through the API); the entry
  // then only carries the settings below.
  std::string file;
  std::vector<SocketAddress> notify;        // secondaries to NOTIFY after each change
  std::vector<std::string> allow_transfer;  // "key:NAME." or IP/CIDR (dns/transfer/acl.h syntax)
  bool operator==(const ZoneConfig&) const = default;
};

// Container networks (src/net). Off by default: turning them on lets berthd create bridges,
// veths and its nftables table in the namespace it runs in.
struct NetworksConfig {
  bool enabled = false;
  std::optional<Cidr> default_subnet;  // the default network's; unset: first free pool subnet
  std::string nft_table = "berth";
};

struct Config {
  std::string state_dir = "./var";
  LogConfig log;
  DnsConfig dns;
  ApiConfig api;
  std::vector<ZoneConfig> zones;
  NetworksConfig networks;
  // The dyndns2 door (/nic/update): `dyndns.ttl`, `max_hosts`, `trusted_proxies` and the
  // per-user and per-address rate limits (`*_burst` requests at once, then one per `*_every`).
  dyndns::Options dyndns;
  // Admin token, API tokens, dyndns2 users and TSIG keys with their scopes (secrets resolved).
  auth::AuthConfig auth;
  // The DDNS updater's jobs (ddns/ddns_config.h); empty: no updater.
  ddns::DdnsConfig ddns;
  // Run only the DDNS updater and the API (--ddns-only; implied by a file whose only
  // sections are ddns and the general ones: no dns, zones).
  bool ddns_only = false;
  // Set by ConfigFromArgs for --help / --version: main prints it and exits 0.
  std::optional<std::string> print_and_exit;
};

// Parses YAML text laid over the defaults. `source_name` prefixes errors (usually the path).
// kInvalidArgument: syntax error, unknown key, wrong type or bad value, as
// "source:line:column: key 'dns.listen[1]': reason".
Result<Config> ParseConfigText(std::string_view yaml, std::string_view source_name);
// Checks what only the whole config can tell: a non-loopback api.listen needs TLS (tls_cert
// and tls_key) or api.insecure; tls_cert and tls_key come together. kInvalidArgument.
Status ValidateConfig(const Config& config);
// Reads and parses a YAML file. kIo when it cannot be read; else as ParseConfigText.
Result<Config> LoadConfigFile(const std::string& path);
// Parses argv: --config FILE is loaded first, then every other flag overrides its key
// (repeatable flags replace the whole list), then ValidateConfig. kInvalidArgument for unknown
// or bad flags, as LoadConfigFile for the file. --help/--version return a Config with print_and_exit set.
Result<Config> ConfigFromArgs(int argc, const char* const* argv);

// "10s", "5m", "300ms", "1h"; a plain number is seconds. kInvalidArgument otherwise.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);
// The `nameserver` addresses of a resolv.conf, port 53, in file order; entries that are not
// plain IP addresses (e.g. with a %zone) are skipped. kIo when the file cannot be read.
Result<std::vector<SocketAddress>> ResolvConfNameservers(
    const std::string& path = "/etc/resolv.conf");

}  // namespace berth::config
