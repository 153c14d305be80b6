// Who is calling the JSON API: requests over the unix socket are trusted as admin (the socket
// is mode 0660 in a 0750 state dir: filesystem permissions are its access control); TCP/TLS
// requests must carry "Authorization: Bearer <token>". Pure functions over a thread-safe
// AuthPolicy: thread-safe.
#pragma once

#include <functional>

#include "auth/policy.h"
#include "core/status.h"
#include "http/message.h"
#include "http/router.h"

namespace berth::api {

// The caller of `req`. kUnauthenticated when a TCP request has no, a malformed or an unknown
// Bearer token (or `policy` is null).
Result<auth::Principal> Authenticate(const auth::AuthPolicy* policy, const http::Request& req);

// A handler that runs only for authenticated callers; others get 401 with
// `WWW-Authenticate: Bearer realm="berth"` and a JSON error.
using AuthedHandler = std::function<http::Response(const http::Request&, const auth::Principal&)>;
http::Handler RequireAuth(const auth::AuthPolicy* policy, AuthedHandler handler);

// 403 {"error": message}.
http::Response Forbidden(std::string message);

}  // namespace berth::api
