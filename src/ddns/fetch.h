// One-shot HTTP(S) requests to absolute URLs, for address sources, HTTP providers and
// notifications: splits the URL, runs one http::Client call, and words errors for an operator
// (naming the host, never the query string, which may carry credentials). Thread-safe: every
// call uses its own client.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "http/client.h"

namespace berth::ddns {

struct FetchRequest {
  std::string method = "GET";
  std::string url;  // http://host[:port]/path?query or https://...
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string content_type;  // set with a body; "" = application/json
  std::chrono::milliseconds timeout{10'000};
  std::string ca_file;  // https: extra CA bundle to trust
};

// Splits an absolute URL into the client endpoint ("https://host:port") and the request target
// ("/path?query", "/" when empty). kInvalidArgument for another scheme, no host, or a fragment.
Result<std::pair<std::string, std::string>> SplitUrl(std::string_view url);

// The URL without its query string, for messages ("https://api.example/zones").
std::string RedactUrl(std::string_view url);

// Sends the request and returns the answer, whatever its status. kInvalidArgument for a bad
// URL; kUnavailable / kDeadlineExceeded / kResourceExhausted (answers over 1 MiB) as
// http::Client, reworded to name the URL.
Result<http::ClientResponse> Fetch(const FetchRequest& request);

}  // namespace berth::ddns
