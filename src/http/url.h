// Percent-decoding and request-target splitting for the HTTP layer (RFC 3986).
// Pure functions: thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/status.h"

namespace berth::http {

// Decodes %XX escapes (and '+' as space when `plus_is_space`, as in query strings).
// InvalidArgument for a truncated or non-hex escape, or a decoded NUL byte.
Result<std::string> PercentDecode(std::string_view in, bool plus_is_space = false);

// Percent-encodes everything except RFC 3986 unreserved characters; for building targets.
std::string PercentEncode(std::string_view in);

struct Target {
  std::string raw_path;  // still percent-encoded, as the router matches segment by segment
  std::string path;      // decoded
  std::multimap<std::string, std::string> query;  // decoded
};

// Splits an origin-form target ("/a/b?x=1&y") into path and query. InvalidArgument when
// the target does not start with '/', contains a fragment, whitespace or control bytes,
// or has a bad escape.
Result<Target> ParseTarget(std::string_view target);

}  // namespace berth::http
