// The HTTP+JSON API of berthd: health, readiness, Prometheus metrics, and the zone endpoints
// (shaped like the PowerDNS Authoritative API). Handlers run on the HTTP server's threads and
// only touch thread-safe services.
#pragma once

#include <functional>
#include <string>

#include "core/status.h"
#include "daemon/zone_service.h"
#include "dns/forward/cache.h"
#include "dns/forward/forwarder.h"
#include "dns/server/metrics.h"
#include "dns/server/server.h"
#include "http/router.h"

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
};

// Adds every route to `router`. kInvalidArgument only for a programming error in a pattern.
Status RegisterRoutes(http::Router& router, ApiContext ctx);

}  // namespace berth::api
