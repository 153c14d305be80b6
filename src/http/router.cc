#include "http/router.h"

#include <set>

#include "http/url.h"

namespace berth::http {
namespace {

bool IsTokenChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  path.remove_prefix(1);  // callers guarantee the leading '/'
  while (true) {
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

}  // namespace

Status Router::Add(std::string method, std::string pattern, Handler handler, RouteOptions options) {
  if (method.empty() || !std::all_of(method.begin(), method.end(), IsTokenChar)) {
    return InvalidArgument("route method must be an upper-case token, got '" + method + "'");
  }
  if (pattern.empty() || pattern.front() != '/') {
    return InvalidArgument("route pattern must start with '/', got '" + pattern + "'");
  }
  if (!handler) return InvalidArgument("route " + method + " " + pattern + " has no handler");
  Route route{method, pattern, {}, std::move(handler), options};
  std::set<std::string, std::less<>> names;
  bool have_rest = false;
  for (std::string_view seg : SplitPath(pattern)) {
    if (seg.size() >= 2 && seg.front() == '{' && seg.back() == '}') {
      std::string_view name = seg.substr(1, seg.size() - 2);
      Segment::Kind kind = Segment::kParam;
      if (name.size() > 3 && name.substr(name.size() - 3) == "...") {
        if (have_rest) return InvalidArgument("route pattern '" + pattern + "' has two {x...} captures");
        have_rest = true;
        kind = Segment::kRest;
        name.remove_suffix(3);
      }
      if (name.empty() || name.find_first_of("{}./") != std::string_view::npos) {
        return InvalidArgument("route pattern '" + pattern + "' has a bad capture '" + std::string(seg) + "'");
      }
      if (!names.emplace(name).second) {
        return InvalidArgument("route pattern '" + pattern + "' repeats capture '" + std::string(name) + "'");
      }
      route.segments.push_back({kind, std::string(name)});
    } else if (seg.find_first_of("{}") != std::string_view::npos) {
      return InvalidArgument("route pattern '" + pattern + "' has a malformed segment '" + std::string(seg) + "'");
    } else {
      route.segments.push_back({Segment::kLiteral, std::string(seg)});
    }
  }
  for (const Route& r : routes_) {
    if (r.method == route.method && r.pattern == route.pattern) {
      return AlreadyExists("route " + method + " " + pattern + " is already registered");
    }
  }
  routes_.push_back(std::move(route));
  return Status::Ok();
}

bool Router::MatchSegments(const std::vector<Segment>& pattern, size_t pi,
                           const std::vector<std::string_view>& path, size_t si,
                           std::map<std::string, std::string_view>* captures) {
  if (pi == pattern.size()) return si == path.size();
  if (si == path.size()) return false;
  const Segment& seg = pattern[pi];
  switch (seg.kind) {
    case Segment::kLiteral:
      return seg.text == path[si] && MatchSegments(pattern, pi + 1, path, si + 1, captures);
    case Segment::kParam:
      if (path[si].empty()) return false;
      (*captures)[seg.text] = path[si];
      return MatchSegments(pattern, pi + 1, path, si + 1, captures);
    case Segment::kRest: {
      // Greedy first, then shorter: "{repo...}" must leave room for the fixed tail. At most
      // one rest capture per pattern keeps this linear in the number of segments.
      size_t remaining = pattern.size() - pi - 1;
      for (size_t end = path.size() - remaining; end > si; --end) {
        bool nonempty = true;
        for (size_t k = si; k < end; ++k) nonempty = nonempty && !path[k].empty();
        if (!nonempty) continue;
        if (MatchSegments(pattern, pi + 1, path, end, captures)) {
          const char* first = path[si].data();
          const char* last = path[end - 1].data() + path[end - 1].size();
          (*captures)[seg.text] = std::string_view(first, static_cast<size_t>(last - first));
          return true;
        }
      }
      return false;
    }
  }
  return false;
}

Result<Router::Match> Router::Find(std::string_view method, std::string_view raw_path) const {
  Match match;
  if (raw_path.empty() || raw_path.front() != '/') return match;
  std::vector<std::string_view> path = SplitPath(raw_path);
  std::set<std::string> allowed;
  for (const Route& route : routes_) {
    std::map<std::string, std::string_view> captures;
    if (!MatchSegments(route.segments, 0, path, 0, &captures)) continue;
    bool method_ok = route.method == method || (method == "HEAD" && route.method == "GET");
    if (!method_ok) {
      allowed.insert(route.method);
      if (route.method == "GET") allowed.insert("HEAD");
      continue;
    }
    // An exact HEAD route wins over the implicit HEAD of a GET route.
    if (match.kind == Match::kFound && route.method != method) continue;
    match.kind = Match::kFound;
    match.handler = &route.handler;
    match.options = route.options;
    match.params.clear();
    for (const auto& [name, raw] : captures) {
      ASSIGN_OR_RETURN(std::string value, PercentDecode(raw));
      match.params.emplace(name, std::move(value));
    }
    if (route.method == method) break;
  }
  if (match.kind == Match::kFound) return match;
  if (!allowed.empty()) {
    match.kind = Match::kWrongMethod;
    for (const std::string& m : allowed) {
      if (!match.allow.empty()) match.allow += ", ";
      match.allow += m;
    }
  }
  return match;
}

}  // namespace berth::http
