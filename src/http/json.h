// JSON request/response helpers for berth's APIs (errors use the PowerDNS API shape
// {"error": "..."}), and the mapping from berth Status codes to HTTP status codes.
// Pure functions: thread-safe.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "http/message.h"

namespace berth::http {

// Parses the request body as JSON; never throws. InvalidArgument (a 400) for an empty
// body, a syntax error (with its byte offset), or nesting deeper than 128 levels.
Result<nlohmann::json> ParseJsonBody(const Request& request);

// {"error": message} with the given HTTP status.
Response JsonError(int status, std::string message);

// The HTTP status for a berth error code (kInvalidArgument -> 400, kNotFound -> 404, ...).
int HttpStatusFor(Code code);

// JsonError(HttpStatusFor(status.code()), status.message()); for handler error paths.
Response ErrorResponse(const Status& status);

}  // namespace berth::http
