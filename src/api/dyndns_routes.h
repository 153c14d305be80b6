// The dyndns2 routes of berthd (/nic/update, /v3/update): the dyndns door (dyndns/dyndns.h)
// wired to the served zones (ZoneTable for lookup, ZoneService for edits) and to the dyndns2
// users of the auth policy. Handlers are thread-safe; the services must outlive the router.
#pragma once

#include <memory>

#include "auth/policy.h"
#include "core/status.h"
#include "daemon/zone_service.h"
#include "dns/zone/zone_table.h"
#include "dyndns/dyndns.h"
#include "http/router.h"

namespace berth::api {

// The dyndns2 door over the served zones, answering for the dyndns2 users of `auth` (null: no
// users, every request is badauth). The daemon keeps it to Reconfigure on SIGHUP; `zones`,
// `table` and `auth` must outlive it.
std::shared_ptr<dyndns::Service> MakeDyndnsService(daemon::ZoneService& zones, const dns::ZoneTable& table,
                                                   const auth::AuthPolicy* auth, dyndns::Options options);

// Adds GET /nic/update and GET /v3/update, served by `service`. kInvalidArgument/kAlreadyExists
// only for a route registered twice.
Status RegisterDyndnsRoutes(http::Router& router, std::shared_ptr<dyndns::Service> service);

}  // namespace berth::api
