// The HTTP+JSON API of berthd: health, readiness, Prometheus metrics, the zone endpoints
// (shaped like the PowerDNS Authoritative API: reads, writes, zone creation) and credential
// management; /api/v1 needs a Bearer token except over the unix socket (api/access.h). Handlers run on the HTTP server's threads and
// only touch thread-safe services.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "api/dyndns_routes.h"
#include "auth/policy.h"
#include "core/status.h"
#include "daemon/zone_service.h"
#include "dns/forward/cache.h"
#include "dns/forward/forwarder.h"
#include "dns/server/metrics.h"
#include "dns/server/server.h"
#include "http/router.h"

namespace berth::net {
class NetworkEngine;
}

namespace berth::ddns {
class Updater;
}

namespace berth::api {

struct ApiContext {
  daemon::ZoneService* zones = nullptr;
  const dns::ZoneTable* table = nullptr;
  dns::DnsMetrics* dns_metrics = nullptr;
  dns::AnswerCache* cache = nullptr;      // null when forwarding is off
  dns::Forwarder* forwarder = nullptr;    // null when forwarding is off
  dns::Recursor* recursor = nullptr;      // null when forwarding is off
  uint16_t edns_udp_size = 1232;
  std::string version;
  // Who may read and change what. Null: only the unix socket (trusted as admin) gets in.
  auth::AuthPolicy* auth = nullptr;
  std::shared_ptr<dyndns::Service> dyndns;  // /nic/update (MakeDyndnsService); null: not served
  ddns::Updater* ddns = nullptr;  // null without a ddns: section
  net::NetworkEngine* networks = nullptr;  // null when container networks are off
};

// Adds every route to `router`. kInvalidArgument only for a programming error in a pattern.
Status RegisterRoutes(http::Router& router, ApiContext ctx);

}  // namespace berth::api
