// The DDNS routes of berthd: GET /api/v1/ddns lists the updater's jobs (last address, last
// push, last error, next run; never credentials) and POST /api/v1/ddns/{job}/run forces a
// checked run and answers with the job after it. Admin only. Handlers are thread-safe; the
// updater must outlive the router.
#pragma once

#include <nlohmann/json.hpp>

#include "auth/policy.h"
#include "core/status.h"
#include "ddns/updater.h"
#include "http/router.h"

namespace berth::api {

// One job as JSON (times as RFC 3339 UTC strings, null when never).
nlohmann::json DdnsJobJson(const ddns::JobStatus& job);

// Adds the routes; `updater` null answers every call with 404 "DDNS is not configured".
// kInvalidArgument/kAlreadyExists only for a route registered twice.
Status RegisterDdnsRoutes(http::Router& router, ddns::Updater* updater, const auth::AuthPolicy* auth);

}  // namespace berth::api
