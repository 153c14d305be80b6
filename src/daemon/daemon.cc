#include "daemon/daemon.h"

#include <sys/socket.h>

#include <ctime>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "api/api.h"
#include "api/ddns_routes.h"
#include "core/log.h"
#include "ddns/kernel.h"

namespace berth::daemon {

Daemon::Daemon(config::Config config) : config_(std::move(config)) {}

Daemon::~Daemon() { Stop(); }

namespace {

// The DNS server's settings that SIGHUP may change.
dns::DnsServerTuning DnsTuning(const config::DnsConfig& dns) {
  dns::DnsServerTuning t;
  t.edns_udp_size = dns.edns_udp_size;
  t.tcp_idle_timeout = dns.tcp.idle_timeout;
  t.tcp_max_connections = static_cast<int>(dns.tcp.max_connections);
  t.allow_recursion = dns.allow_recursion;
  t.udp_coalesce = dns.udp_coalesce;
  t.tcp_coalesce = dns.tcp.coalesce;
  return t;
}

std::vector<sockaddr_storage> ToSockaddrs(const std::vector<SocketAddress>& addresses) {
  std::vector<sockaddr_storage> out;
  for (const auto& a : addresses) {
    sockaddr_storage ss;
    a.ToSockaddr(&ss);
    out.push_back(ss);
  }
  return out;
}

// The keys of `fresh` that differ from `running` and only take effect at a restart, by their
// config-file names ("dns.listen"); empty when a reload can apply everything.
std::vector<std::string> RestartOnlyChanges(const config::Config& running, const config::Config& fresh) {
  std::vector<std::string> keys;
  auto check = [&](bool changed, const char* key) {
    if (changed) keys.emplace_back(key);
  };
  check(running.state_dir != fresh.state_dir, "state_dir");
  check(running.dns.listen != fresh.dns.listen, "dns.listen");
  check(running.dns.workers != fresh.dns.workers, "dns.workers");
  check((running.dns.cache_size == 0) != (fresh.dns.cache_size == 0), "dns.cache_size (cache on or off)");
  check(running.dns.udp_gso != fresh.dns.udp_gso, "dns.udp_gso");
  check(running.api.listen != fresh.api.listen, "api.listen");
  check(running.api.socket != fresh.api.socket, "api.socket");
  // New certificate files are loaded on reload; turning TLS on or off needs new listeners.
  check(running.api.tls_cert.empty() != fresh.api.tls_cert.empty(), "api.tls_cert (TLS on or off)");
  check(running.api.insecure != fresh.api.insecure, "api.insecure");
  check(running.networks.enabled != fresh.networks.enabled ||
            running.networks.default_subnet != fresh.networks.default_subnet ||
            running.networks.nft_table != fresh.networks.nft_table,
        "networks");
  check(running.ddns_only != fresh.ddns_only, "ddns_only");
  return keys;
}

std::string AddressList(const std::vector<SocketAddress>& addresses) {
  std::string list;
  for (const auto& a : addresses) list += (list.empty() ? "" : ", ") + a.ToString();
  return list;
}

}  // namespace

std::vector<SocketAddress> Daemon::Upstreams(const config::Config& c) {
  // Explicit upstreams, else the host's resolv.conf (read again on each reload); an empty
  // list turns forwarding off.
  if (c.dns.forward) return *c.dns.forward;
  std::vector<SocketAddress> upstreams;
  auto from_host = config::ResolvConfNameservers();
  if (from_host.ok()) upstreams = *from_host;
  else spdlog::warn("no upstream resolvers: {}", from_host.status().message());
  // Never forward to ourselves: a resolv.conf naming this server would loop.
  std::erase_if(upstreams, [&](const SocketAddress& u) {
    for (const auto& l : c.dns.listen)
      if (l == u) return true;
    return false;
  });
  return upstreams;
}

std::vector<FileZone> Daemon::FileZones(const config::Config& c) const {
  std::vector<FileZone> out;
  for (const auto& z : c.zones)
    if (!z.file.empty()) out.push_back({z.name, z.file});
  return out;
}

Status Daemon::LoadZoneSettings(const config::Config& c) {
  std::map<std::string, ZoneSettings> settings;
  for (const auto& z : c.zones) {
    auto acl = dns::transfer::TransferAcl::Parse(z.allow_transfer);
    if (!acl.ok()) return acl.status().WithContext("zone " + z.name.ToText() + " allow_transfer");
    settings[z.name.Lowercased().ToText()] = ZoneSettings{std::move(*acl), z.notify};
  }
  std::lock_guard<std::mutex> lock(zone_settings_mu_);
  zone_settings_ = std::move(settings);
  return Status::Ok();
}

DnsControlPolicy Daemon::ControlPolicy() {
  DnsControlPolicy policy;
  policy.may_transfer = [this](const dns::Name& zone, const IpAddress& client, const dns::Name* key) {
    std::lock_guard<std::mutex> lock(zone_settings_mu_);
    auto it = zone_settings_.find(zone.Lowercased().ToText());
    return it != zone_settings_.end() && it->second.allow_transfer.Allows(client, key);
  };
  if (auth_) {
    auth::AuthPolicy* a = auth_.get();
    policy.keyring = [a] { return a->Keyring(); };
    policy.may_update = [a](const dns::Name& key, const dns::Name& zone, const dns::Name& owner, uint16_t type) {
      return a->MayWrite(auth::Principal::TsigKey(key), zone, owner, type);
    };
  }
  return policy;
}

std::string Daemon::ControlMetrics() const {
  std::string out;
  auto counter = [&](const char* name, const char* help, uint64_t v) {
    out += fmt::format("# HELP {} {}\n# TYPE {} counter\n{} {}\n", name, help, name, name, v);
  };
  if (control_) {
    const DnsControlStats& s = control_->stats();
    counter("berth_dns_updates_total", "RFC 2136 updates applied (NOERROR).", s.updates.load());
    counter("berth_dns_updates_refused_total", "RFC 2136 updates answered with an error rcode.",
            s.updates_refused.load());
    counter("berth_dns_updates_failed_total", "RFC 2136 updates that failed on our side (SERVFAIL).",
            s.updates_failed.load());
    counter("berth_dns_transfers_total", "Zone transfers (AXFR/IXFR) served.", s.transfers.load());
    counter("berth_dns_transfers_refused_total", "Zone transfers refused.", s.transfers_refused.load());
    counter("berth_dns_tsig_failures_total", "Messages whose TSIG failed (FORMERR/BADKEY/BADSIG/BADTIME).",
            s.tsig_failures.load());
  }
  if (zones_) out += zones_->MetricsText();
  auto gauge = [&](const char* name, const char* help, int64_t v) {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n{} {}\n", name, help, name, name, v);
  };
  // Named as Prometheus names its own, so the usual alert on failed reloads applies.
  gauge("berth_config_last_reload_successful",
        "Whether the last SIGHUP reload was applied without errors (1; also before any reload) or not (0).",
        last_reload_ok_.load() ? 1 : 0);
  gauge("berth_config_last_reload_success_timestamp_seconds",
        "Unix time of the last reload applied without errors (the start time before any).",
        last_reload_success_unix_.load());
  if (notifier_) {
    auto n = notifier_->counters();
    counter("berth_dns_notify_sent_total", "NOTIFY messages sent, retries included.", n.sent);
    counter("berth_dns_notify_acked_total", "Secondaries that acknowledged a NOTIFY.", n.acked);
    counter("berth_dns_notify_failed_total", "Secondaries that never acknowledged a NOTIFY.", n.failed);
  }
  return out;
}

void Daemon::ZoneChanged(const dns::Name& zone, uint32_t serial) {
  if (!notifier_) return;
  std::vector<SocketAddress> targets;
  std::optional<dns::Name> key_name;
  {
    std::lock_guard<std::mutex> lock(zone_settings_mu_);
    auto it = zone_settings_.find(zone.Lowercased().ToText());
    if (it == zone_settings_.end() || it->second.notify.empty()) return;
    targets = it->second.notify;
    // Secondaries that transfer with a key usually expect the NOTIFY signed with it too.
    if (!it->second.allow_transfer.keys().empty()) key_name = it->second.allow_transfer.keys().front();
  }
  std::shared_ptr<const dns::TsigKeyring> ring = auth_ ? auth_->Keyring() : nullptr;
  const dns::TsigKey* key = ring && key_name ? ring->Find(*key_name) : nullptr;
  notifier_->ZoneChanged(zone, serial, targets, key);
}

Status Daemon::Start() {
  ASSIGN_OR_RETURN(store_, store::Store::Open(config_.state_dir));
  ASSIGN_OR_RETURN(auth_, auth::AuthPolicy::Make(config_.auth, store_.get()));
  if (!config_.ddns.records.empty()) {
    ASSIGN_OR_RETURN(ddns_, ddns::Updater::Make(config_.ddns, ddns::KernelEnv()));
  }
  if (config_.ddns_only) return StartDdnsOnly();
  zones_ = std::make_unique<ZoneService>(*store_, table_);
  RETURN_IF_ERROR(LoadZoneSettings(config_));
  notifier_ = std::make_unique<dns::transfer::Notifier>();
  RETURN_IF_ERROR(notifier_->Start());
  zones_->SetChangeListener([this](const dns::Name& zone, uint32_t serial) { ZoneChanged(zone, serial); });
  // A zone that fails to load is logged and reported by /readyz; the others still serve.
  if (Status s = zones_->LoadAll(FileZones(config_)); !s.ok()) spdlog::error("{}", s.message());

  upstreams_ = Upstreams(config_);
  if (!upstreams_.empty()) {
    dns::AnswerCacheOptions cache_opts;
    cache_opts.max_entries = config_.dns.cache_size;  // 0: nothing is ever kept
    cache_ = std::make_unique<dns::AnswerCache>(cache_opts);
    dns::ForwarderOptions fwd;
    fwd.upstreams = ToSockaddrs(upstreams_);
    fwd.cache = config_.dns.cache_size ? cache_.get() : nullptr;
    ASSIGN_OR_RETURN(forwarder_, dns::Forwarder::Start(fwd));
    recursor_ = std::make_unique<ForwardingRecursor>(*cache_, *forwarder_);
    spdlog::info("forwarding to {}", AddressList(upstreams_));
  } else {
    spdlog::info("forwarding off: names outside local zones are REFUSED");
  }

  dns::DnsServerOptions opts;
  opts.listen = config_.dns.listen;
  opts.workers = config_.dns.workers ? static_cast<int>(config_.dns.workers)
                                     : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  opts.udp_gso = config_.dns.udp_gso;
  opts.tuning = DnsTuning(config_.dns);
  dns_ = std::make_unique<dns::DnsServer>(opts, table_, recursor_.get(), &metrics_);
  control_ = std::make_unique<DnsControl>(*zones_, table_, ControlPolicy(), config_.dns.edns_udp_size);
  dns_->SetMessageHandler(control_.get());
  if (!metrics_registered_) {
    metrics_registered_ = true;
    metrics_.AddRenderer([this] { return ControlMetrics(); });
  }
  RETURN_IF_ERROR(dns_->Start());
  for (const auto& a : dns_->bound())
    spdlog::info("DNS listening on {} (UDP+TCP, {} workers)", a.ToString(), opts.workers);

  if (config_.networks.enabled) {
    net::EngineOptions net_opts;
    net_opts.state_dir = config_.state_dir;
    net_opts.default_subnet = config_.networks.default_subnet;
    net_opts.table = config_.networks.nft_table;
    if (auto host = config::ResolvConfNameservers(); host.ok()) {
      for (const SocketAddress& a : *host) {
        if (!a.ip().IsLoopback()) net_opts.host_nameservers.push_back(a.ip());
      }
    }
    network_dns_ = std::make_unique<NetworkDns>(table_, recursor_.get(), config_.dns.edns_udp_size);
    net_opts.observer = network_dns_.get();
    networks_ = std::make_unique<net::NetworkEngine>(store_.get(), net_opts);
    if (Status s = networks_->Start(); !s.ok()) {
      dns_->Stop(std::chrono::milliseconds(0));
      return s.WithContext("container networks");
    }
  }

  http::Router router;
  api::ApiContext ctx;
  ctx.zones = zones_.get();
  ctx.table = &table_;
  ctx.dns_metrics = &metrics_;
  ctx.cache = forwarder_ ? cache_.get() : nullptr;
  ctx.forwarder = forwarder_.get();
  ctx.recursor = recursor_.get();
  ctx.edns_udp_size = config_.dns.edns_udp_size;
  ctx.auth = auth_.get();
  ctx.networks = networks_.get();
  ctx.ddns = ddns_.get();
  dyndns_ = api::MakeDyndnsService(*zones_, table_, auth_.get(), config_.dyndns);
  ctx.dyndns = dyndns_;
  RETURN_IF_ERROR(api::RegisterRoutes(router, ctx));
  http::ServerOptions api_opts = ApiServerOptions();
  if (!api_opts.listeners.empty()) {
    api_ = std::make_unique<http::Server>(std::move(router), api_opts);
    if (Status s = api_->Start(); !s.ok()) {
      dns_->Stop(std::chrono::milliseconds(0));
      return s.WithContext("API");
    }
    for (const auto& l : api_->listeners()) spdlog::info("API listening on {}", l.address);
  }
  if (ddns_) RETURN_IF_ERROR(ddns_->Start());
  return Status::Ok();
}

http::ServerOptions Daemon::ApiServerOptions() const {
  http::ServerOptions api_opts;
  if (config_.api.listen && !config_.api.tls_cert.empty()) {
    api_opts.listeners.push_back(
        http::Listener::Tls(config_.api.listen->ToString(), config_.api.tls_cert, config_.api.tls_key));
  } else if (config_.api.listen) {
    api_opts.listeners.push_back(http::Listener::Tcp(config_.api.listen->ToString()));
  }
  if (!config_.api.socket.empty()) api_opts.listeners.push_back(http::Listener::Unix(config_.api.socket));
  return api_opts;
}

Status Daemon::StartDdnsOnly() {
  if (!ddns_) return InvalidArgument("--ddns-only: the config has no ddns.records to follow");
  http::Router router;
  RETURN_IF_ERROR(router.Add("GET", "/healthz", [](const http::Request&) { return http::Response::Text(200, "ok\n"); }));
  RETURN_IF_ERROR(api::RegisterDdnsRoutes(router, ddns_.get(), auth_.get()));
  http::ServerOptions api_opts = ApiServerOptions();
  if (!api_opts.listeners.empty()) {
    api_ = std::make_unique<http::Server>(std::move(router), api_opts);
    RETURN_IF_ERROR(api_->Start().WithContext("API"));
    for (const auto& l : api_->listeners()) spdlog::info("API listening on {}", l.address);
  }
  spdlog::info("DDNS only: {} job(s), no DNS server", config_.ddns.records.size());
  return ddns_->Start();
}


Status Daemon::Reload(const config::Config& fresh) {
  Status result = ApplyReload(fresh);
  RecordReload(result.ok());
  return result;
}

void Daemon::RecordReload(bool ok) {
  last_reload_ok_.store(ok);
  if (ok) last_reload_success_unix_.store(std::time(nullptr));
}

Status Daemon::ApplyReload(const config::Config& fresh) {
  // Every part is tried; the first failure is returned (each is also logged as it happens).
  Status first_error = Status::Ok();
  auto failed = [&](const Status& s, std::string_view what) {
    spdlog::error("reload: {}: {}", what, s.message());
    if (first_error.ok()) first_error = s.WithContext(std::string(what));
  };
  if (fresh.log.format != config_.log.format || fresh.log.level != config_.log.level) {
    log::Reconfigure(fresh.log.format, fresh.log.level);
    config_.log = fresh.log;
  }
  std::vector<std::string> keys = RestartOnlyChanges(config_, fresh);
  // The updater's jobs are replaced in place; only a first ddns section needs a restart.
  if (!ddns_ && !fresh.ddns.records.empty()) keys.emplace_back("ddns (no updater running)");
  // New upstreams (or a changed resolv.conf) are taken at once; turning forwarding on or off
  // changes what the DNS workers do with names in no zone: a restart.
  std::vector<SocketAddress> upstreams = config_.ddns_only ? std::vector<SocketAddress>{} : Upstreams(fresh);
  if (forwarder_ && upstreams.empty()) keys.emplace_back("dns.forward (turning forwarding off)");
  if (!forwarder_ && !upstreams.empty()) keys.emplace_back("dns.forward (forwarding was off)");
  if (!keys.empty())
    spdlog::warn("reload: {} changed; these keep their running values until berthd restarts", fmt::join(keys, ", "));
  // Certificates are read again on every reload (renewals usually keep the file names).
  if (api_ && !config_.api.tls_cert.empty() && !fresh.api.tls_cert.empty()) {
    if (Status s = api_->ReloadTls(fresh.api.tls_cert, fresh.api.tls_key); s.ok()) {
      config_.api.tls_cert = fresh.api.tls_cert;
      config_.api.tls_key = fresh.api.tls_key;
      spdlog::info("reload: API certificate loaded from {}", config_.api.tls_cert);
    } else {
      failed(s, "API certificate kept");
    }
  }
  if (ddns_ && !(fresh.ddns == config_.ddns)) {
    if (Status s = ddns_->Reconfigure(fresh.ddns); s.ok()) config_.ddns = fresh.ddns;
    else failed(s, "ddns jobs kept");
  }
  if (config_.ddns_only) return first_error;
  if (forwarder_ && !upstreams.empty() && upstreams != upstreams_) {
    if (Status s = forwarder_->SetUpstreams(ToSockaddrs(upstreams)); s.ok()) {
      upstreams_ = upstreams;
      config_.dns.forward = fresh.dns.forward;
      // Answers of the old upstreams may not be what the new ones say (split horizon).
      if (cache_) cache_->Clear();
      spdlog::info("reload: forwarding to {} (answer cache cleared)", AddressList(upstreams_));
    } else {
      failed(s, "upstreams kept");
    }
  }
  // The DNS server and the dyndns2 door take their new settings at once.
  config_.dns.allow_recursion = fresh.dns.allow_recursion;
  config_.dns.edns_udp_size = fresh.dns.edns_udp_size;
  config_.dns.tcp = fresh.dns.tcp;
  config_.dns.udp_coalesce = fresh.dns.udp_coalesce;
  if (dns_) dns_->Retune(DnsTuning(config_.dns));
  if (control_) control_->SetEdnsUdpSize(config_.dns.edns_udp_size);
  if (network_dns_) network_dns_->SetEdnsUdpSize(config_.dns.edns_udp_size);
  if (cache_ && config_.dns.cache_size && fresh.dns.cache_size && fresh.dns.cache_size != config_.dns.cache_size) {
    cache_->SetMaxEntries(fresh.dns.cache_size);
    config_.dns.cache_size = fresh.dns.cache_size;
  }
  config_.dyndns = fresh.dyndns;
  if (dyndns_) dyndns_->Reconfigure(config_.dyndns);
  config_.zones = fresh.zones;
  if (Status s = LoadZoneSettings(config_); !s.ok()) failed(s, "zone settings");
  // Config credentials are replaced; those created through the API stay.
  if (Status s = auth_->Reconfigure(fresh.auth); !s.ok()) failed(s, "auth");
  // A zone file that fails keeps its previous version serving (and says so in /readyz).
  if (Status s = zones_->Reload(FileZones(config_)); !s.ok() && first_error.ok()) first_error = s;
  return first_error;
}

void Daemon::Stop() {
  // Stop intake first (API, then DNS draining), then the forwarder fails what is left.
  if (ddns_) ddns_->Stop();
  if (api_) api_->Stop(std::chrono::seconds(5));
  // Networks keep their kernel state: published ports work on while berthd restarts.
  if (networks_) networks_->Stop();
  if (network_dns_) network_dns_->Stop();
  if (dns_) dns_->Stop(std::chrono::milliseconds(2000));
  if (forwarder_) forwarder_->Stop();
  api_.reset();
  // Transfers finish (they read the zones), then edits still queued are committed and
  // answered, before the handler and the DNS server go.
  if (control_) control_->WaitForTransfers();
  zones_.reset();
  if (notifier_) notifier_->Stop();
  dns_.reset();
  control_.reset();
  recursor_.reset();
  forwarder_.reset();
}

}  // namespace berth::daemon
