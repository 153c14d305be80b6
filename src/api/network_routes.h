// The container-network API: /api/v1/networks (create, list, inspect, remove, prune,
// connect, disconnect) and /api/v1/endpoints (create, list, show, remove, pid, stop), all
// handed to net::NetworkEngine. Admin only: these change the host's interfaces and firewall.
// Handlers are thread-safe (the engine serializes).
#pragma once

#include <memory>

#include "api/api.h"
#include "core/status.h"
#include "http/router.h"

namespace berth::api {

Status RegisterNetworkRoutes(http::Router& router, std::shared_ptr<const ApiContext> ctx);

}  // namespace berth::api
