#include "daemon/daemon.h"

#include <sys/socket.h>

#include <thread>

#include <spdlog/spdlog.h>

#include "api/api.h"

namespace berth::daemon {

Daemon::Daemon(config::Config config) : config_(std::move(config)) {}

Daemon::~Daemon() { Stop(); }

std::vector<FileZone> Daemon::FileZones(const config::Config& c) const {
  std::vector<FileZone> out;
  for (const auto& z : c.zones) out.push_back({z.name, z.file});
  return out;
}

Status Daemon::Start() {
  ASSIGN_OR_RETURN(store_, store::Store::Open(config_.state_dir));
  zones_ = std::make_unique<ZoneService>(*store_, table_);
  // A zone that fails to load is logged and reported by /readyz; the others still serve.
  if (Status s = zones_->LoadAll(FileZones(config_)); !s.ok()) spdlog::error("{}", s.message());

  // Forwarding: explicit upstreams, else the host's resolv.conf; an empty list turns it off.
  std::vector<SocketAddress> upstreams;
  if (config_.dns.forward) {
    upstreams = *config_.dns.forward;
  } else {
    auto from_host = config::ResolvConfNameservers();
    if (from_host.ok()) upstreams = *from_host;
    else spdlog::warn("no upstream resolvers: {}", from_host.status().message());
    // Never forward to ourselves: a resolv.conf naming this server would loop.
    std::erase_if(upstreams, [&](const SocketAddress& u) {
      for (const auto& l : config_.dns.listen)
        if (l == u) return true;
      return false;
    });
  }
  if (!upstreams.empty()) {
    dns::AnswerCacheOptions cache_opts;
    cache_opts.max_entries = config_.dns.cache_size;  // 0: nothing is ever kept
    cache_ = std::make_unique<dns::AnswerCache>(cache_opts);
    dns::ForwarderOptions fwd;
    for (const auto& u : upstreams) {
      sockaddr_storage ss;
      u.ToSockaddr(&ss);
      fwd.upstreams.push_back(ss);
    }
    fwd.cache = config_.dns.cache_size ? cache_.get() : nullptr;
    ASSIGN_OR_RETURN(forwarder_, dns::Forwarder::Start(fwd));
    recursor_ = std::make_unique<ForwardingRecursor>(*cache_, *forwarder_);
    std::string list;
    for (const auto& u : upstreams) list += (list.empty() ? "" : ", ") + u.ToString();
    spdlog::info("forwarding to {}", list);
  } else {
    spdlog::info("forwarding off: names outside local zones are REFUSED");
  }

  dns::DnsServerOptions opts;
  opts.listen = config_.dns.listen;
  opts.workers = config_.dns.workers ? static_cast<int>(config_.dns.workers)
                                     : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  opts.edns_udp_size = config_.dns.edns_udp_size;
  opts.tcp_idle_timeout = config_.dns.tcp.idle_timeout;
  opts.tcp_max_connections = static_cast<int>(config_.dns.tcp.max_connections);
  opts.allow_recursion = config_.dns.allow_recursion;
  opts.udp_coalesce = config_.dns.udp_coalesce;
  dns_ = std::make_unique<dns::DnsServer>(opts, table_, recursor_.get(), &metrics_);
  RETURN_IF_ERROR(dns_->Start());
  for (const auto& a : dns_->bound())
    spdlog::info("DNS listening on {} (UDP+TCP, {} workers)", a.ToString(), opts.workers);

  http::Router router;
  api::ApiContext ctx;
  ctx.zones = zones_.get();
  ctx.table = &table_;
  ctx.dns_metrics = &metrics_;
  ctx.cache = forwarder_ ? cache_.get() : nullptr;
  ctx.forwarder = forwarder_.get();
  ctx.recursor = recursor_.get();
  ctx.edns_udp_size = config_.dns.edns_udp_size;
  RETURN_IF_ERROR(api::RegisterRoutes(router, ctx));
  http::ServerOptions api_opts;
  if (config_.api.listen) api_opts.listeners.push_back(http::Listener::Tcp(config_.api.listen->ToString()));
  if (!config_.api.socket.empty()) api_opts.listeners.push_back(http::Listener::Unix(config_.api.socket));
  if (!api_opts.listeners.empty()) {
    api_ = std::make_unique<http::Server>(std::move(router), api_opts);
    if (Status s = api_->Start(); !s.ok()) {
      dns_->Stop(std::chrono::milliseconds(0));
      return s.WithContext("API");
    }
    for (const auto& l : api_->listeners()) spdlog::info("API listening on {}", l.address);
  }
  return Status::Ok();
}

Status Daemon::Reload(const config::Config& fresh) {
  if (fresh.dns.listen != config_.dns.listen || fresh.api.listen != config_.api.listen ||
      fresh.api.socket != config_.api.socket || fresh.state_dir != config_.state_dir ||
      fresh.dns.forward != config_.dns.forward || fresh.dns.workers != config_.dns.workers)
    spdlog::warn("reload: listener, state, worker and upstream changes take effect at the next restart");
  config_.zones = fresh.zones;
  return zones_->Reload(FileZones(config_));
}

void Daemon::Stop() {
  // Stop intake first (API, then DNS draining), then the forwarder fails what is left.
  if (api_) api_->Stop(std::chrono::seconds(5));
  if (dns_) dns_->Stop(std::chrono::milliseconds(2000));
  if (forwarder_) forwarder_->Stop();
  api_.reset();
  dns_.reset();
  recursor_.reset();
  forwarder_.reset();
}

}  // namespace berth::daemon
