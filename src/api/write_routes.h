// The API routes that change state: zone creation/deletion, PATCH of rrsets and the simple
// /api/v1/update door (zone_write_routes.cc), and the admin's credential management
// (auth_routes.cc). Every change is checked against the caller's scope first and goes through
// ZoneService / AuthPolicy. Handlers are thread-safe.
#pragma once

#include <memory>

#include "api/api.h"
#include "core/status.h"
#include "http/router.h"

namespace berth::api {

// POST /api/v1/zones, DELETE and PATCH /api/v1/zones/{zone}, POST /api/v1/update.
Status RegisterZoneWriteRoutes(http::Router& router, std::shared_ptr<const ApiContext> ctx);
// GET/POST /api/v1/auth/{tokens,users,tsig-keys}, DELETE /api/v1/auth/{kind}/{name}.
Status RegisterAuthRoutes(http::Router& router, std::shared_ptr<const ApiContext> ctx);

}  // namespace berth::api
