// POST /api/v1/cni: where the berth-cni plugin hands a CNI request ({"env": {CNI_*...},
// "config": "<stdin>"}) to berthd. The daemon parses it again (it trusts no caller) and answers
// with the CNI result (200), nothing (204) or the CNI error object with a matching HTTP status.
// Admin only (the unix socket). Thread-safe.
#pragma once

#include <memory>

#include "api/api.h"
#include "core/status.h"
#include "http/router.h"

namespace berth::api {

Status RegisterCniRoutes(http::Router& router, std::shared_ptr<const ApiContext> ctx);

}  // namespace berth::api
