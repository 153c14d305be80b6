// Plain request/response types shared by the HTTP server, router and client. They carry no
// Boost.Beast types so that code using them compiles quickly.
// Thread-compatible values: no internal synchronization.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace berth::http {

// Orders header names case-insensitively (RFC 9110: field names are case-insensitive).
struct CaseInsensitiveLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const;
};

using HeaderMap = std::multimap<std::string, std::string, CaseInsensitiveLess>;

// The first value of header `name` in `headers`, or "" when absent.
std::string_view FindHeader(const HeaderMap& headers, std::string_view name);

struct Request {
  std::string method;  // as sent, e.g. "GET"
  std::string target;  // raw request target, e.g. "/api/v1/zones/a%2Eb?x=1"
  std::string path;    // URL-decoded path part of target, e.g. "/api/v1/zones/a.b"
  std::multimap<std::string, std::string> query;  // URL-decoded query parameters
  HeaderMap headers;
  std::string body;
  std::string remote_address;  // peer IP for TCP, "unix" for a unix socket
  std::map<std::string, std::string> params;  // URL-decoded route pattern captures

  // First value of header `name` (case-insensitive), or "" when absent.
  std::string_view header(std::string_view name) const { return FindHeader(headers, name); }
  // First value of query parameter `name`, or "" when absent.
  std::string_view query_param(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type;  // empty: no Content-Type header
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, sent as given

  // `value` serialized as application/json (invalid UTF-8 is replaced, never thrown).
  static Response Json(int status, const nlohmann::json& value);
  // `body` as text/plain; charset=utf-8.
  static Response Text(int status, std::string body);
};

}  // namespace berth::http
