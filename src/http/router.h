// Router: maps (method, path pattern) to handlers. Patterns are '/'-separated segments;
// "{name}" captures one segment, "{name...}" captures one or more segments (slashes kept),
// e.g. "/v2/{repo...}/manifests/{ref}" for OCI repository names.
// When several routes match, the first registered one wins.
// Thread-safety: Add() is not synchronized; once routes are added, Match() is const and
// safe from any number of threads (the server only reads its router).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "http/message.h"

namespace berth::http {

// Handlers run on the server's io threads: they must be thread-safe and may block only
// briefly (each blocked handler holds one io thread). Exceptions become a 500 answer.
using Handler = std::function<Response(const Request&)>;

struct RouteOptions {
  size_t max_body_bytes = 0;  // 0: the server's default limit (ServerOptions::max_body_bytes)
  // Time allowed to receive the body once the header is in; 0: ServerOptions::read_timeout.
  // Large uploads (registry blobs) need more than the default.
  std::chrono::milliseconds body_timeout{0};
};

class Router {
 public:
  // Registers `handler` for `method` (upper-case token) and `pattern`. A GET route also
  // answers HEAD. InvalidArgument for a bad method or pattern (not starting with '/',
  // empty or duplicate capture names, "{x...}" used twice); AlreadyExists when the same
  // method and pattern are already registered.
  Status Add(std::string method, std::string pattern, Handler handler, RouteOptions options = {});

  struct Match {
    enum Kind { kFound, kNoPath, kWrongMethod } kind = kNoPath;
    const Handler* handler = nullptr;  // kFound only; owned by the router
    RouteOptions options;              // kFound only
    std::map<std::string, std::string> params;  // URL-decoded captures (kFound only)
    std::string allow;                 // kWrongMethod: "GET, HEAD, POST"
  };
  // Finds the route for `method` and the percent-encoded `raw_path`. InvalidArgument when
  // a captured segment has a bad percent-escape.
  Result<Match> Find(std::string_view method, std::string_view raw_path) const;

 private:
  struct Segment {
    enum Kind { kLiteral, kParam, kRest } kind;
    std::string text;  // literal text or capture name
  };
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<Segment> segments;
    Handler handler;
    RouteOptions options;
  };
  static bool MatchSegments(const std::vector<Segment>& pattern, size_t pi,
                            const std::vector<std::string_view>& path, size_t si,
                            std::map<std::string, std::string_view>* captures);
  std::vector<Route> routes_;
};

}  // namespace berth::http
