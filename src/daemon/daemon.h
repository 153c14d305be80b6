// Daemon: berthd's object graph — store, zones, DNS server, forwarder and cache, HTTP API —
// built from a Config, started, reloaded on SIGHUP and drained on SIGTERM. Start/Reload/Stop
// are called from the main thread only.
#pragma once

#include <atomic>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "auth/policy.h"
#include "config/config.h"
#include "core/status.h"
#include "daemon/dns_control.h"
#include "daemon/forwarding.h"
#include "daemon/network_dns.h"
#include "daemon/zone_service.h"
#include "ddns/updater.h"
#include "dyndns/dyndns.h"
#include "dns/server/server.h"
#include "dns/transfer/acl.h"
#include "dns/transfer/notify.h"
#include "http/server.h"
#include "net/engine/network_engine.h"
#include "store/store.h"

namespace berth::daemon {

class Daemon {
 public:
  explicit Daemon(config::Config config);
  ~Daemon();

  // Opens the state, loads zones, binds DNS and API listeners. Any failure (state dir not
  // writable, address in use) is returned with the path or address at fault, and nothing
  // keeps running.
  Status Start();
  // SIGHUP: applies a re-read config. Taken at once: log format and level, zone files and
  // zone settings (notify, allow_transfer), config credentials, dns.allow_recursion,
  // dns.edns_udp_size, dns.tcp.*, dns.udp_coalesce, dns.cache_size, dns.forward (or the
  // host's resolv.conf when it is unset), the dyndns section, the API's TLS certificate and
  // key (re-read even when the paths are the same) and the DDNS updater's jobs. Keys that
  // need a restart (listeners, state_dir, workers, GSO, networks, turning the cache,
  // forwarding or TLS on or off, a first ddns section) are named in a warning and keep their
  // running values. Queries are never dropped: zone sets
  // and server settings are swapped in whole.
  // Every part is tried; the first failure is returned, and /metrics reports the outcome
  // (berth_config_last_reload_successful).
  Status Reload(const config::Config& fresh);
  // A SIGHUP whose config did not parse: nothing changed, and /metrics says the reload failed.
  void ReloadRejected() { RecordReload(false); }
  // SIGTERM: stops taking new work, answers what is in flight, closes everything.
  void Stop();

  const dns::DnsServer* dns_server() const { return dns_.get(); }

 private:
  std::vector<FileZone> FileZones(const config::Config& c) const;
  // The upstream resolvers a config asks for: dns.forward, else the host's resolv.conf
  // nameservers minus our own listeners; empty: forwarding off.
  static std::vector<SocketAddress> Upstreams(const config::Config& c);
  // --ddns-only: the updater plus an API with /healthz and the DDNS routes; no DNS, no zones.
  Status StartDdnsOnly();
  // The API listeners of the config (TCP or TLS, and the unix socket).
  http::ServerOptions ApiServerOptions() const;
  // Who may update and transfer zones over DNS, from the auth policy and the zones' ACLs.
  DnsControlPolicy ControlPolicy();
  // /metrics families for updates, transfers, TSIG failures and NOTIFY.
  std::string ControlMetrics() const;
  bool metrics_registered_ = false;
  Status ApplyReload(const config::Config& fresh);
  void RecordReload(bool ok);
  std::atomic<bool> last_reload_ok_{true};
  std::atomic<int64_t> last_reload_success_unix_{static_cast<int64_t>(std::time(nullptr))};
  // The change listener: NOTIFY the zone's secondaries.
  void ZoneChanged(const dns::Name& zone, uint32_t serial);

  config::Config config_;
  std::unique_ptr<store::Store> store_;
  // Credentials and scopes for every door (API, dyndns2, RFC 2136); built in Start().
  std::unique_ptr<auth::AuthPolicy> auth_;
  dns::ZoneTable table_;
  std::unique_ptr<ZoneService> zones_;
  std::shared_ptr<dyndns::Service> dyndns_;  // the /nic/update door, retuned on reload
  dns::DnsMetrics metrics_;
  std::unique_ptr<dns::AnswerCache> cache_;
  std::unique_ptr<dns::Forwarder> forwarder_;
  std::vector<SocketAddress> upstreams_;  // forwarder_'s current list
  std::unique_ptr<ForwardingRecursor> recursor_;
  // Per zone (lower-case name text): who may transfer it, and whom to NOTIFY of changes.
  // Rebuilt on reload; read by DNS and committer threads under zone_settings_mu_.
  struct ZoneSettings {
    dns::transfer::TransferAcl allow_transfer;
    std::vector<SocketAddress> notify;
  };
  Status LoadZoneSettings(const config::Config& c);
  mutable std::mutex zone_settings_mu_;
  std::map<std::string, ZoneSettings> zone_settings_;
  std::unique_ptr<dns::transfer::Notifier> notifier_;
  std::unique_ptr<DnsControl> control_;
  std::unique_ptr<dns::DnsServer> dns_;
  // Endpoint names on each network's gateway; declared first so the engine goes before it.
  std::unique_ptr<NetworkDns> network_dns_;
  std::unique_ptr<net::NetworkEngine> networks_;  // null unless networks.enabled
  std::unique_ptr<http::Server> api_;
  std::unique_ptr<ddns::Updater> ddns_;  // null without ddns.records
};

}  // namespace berth::daemon
