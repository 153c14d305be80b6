#include "ddns/fetch.h"

namespace berth::ddns {

Result<std::pair<std::string, std::string>> SplitUrl(std::string_view url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || (url.substr(0, scheme_end) != "http" && url.substr(0, scheme_end) != "https")) {
    return InvalidArgument("'" + RedactUrl(url) + "' is not an http:// or https:// URL");
  }
  if (url.find('#') != std::string_view::npos) return InvalidArgument("URL '" + RedactUrl(url) + "' has a fragment");
  size_t path_start = url.find_first_of("/?", scheme_end + 3);
  std::string endpoint(url.substr(0, path_start));
  if (endpoint.size() == scheme_end + 3) return InvalidArgument("URL '" + RedactUrl(url) + "' has no host");
  std::string target = path_start == std::string_view::npos ? "/" : std::string(url.substr(path_start));
  if (target.front() == '?') target.insert(0, "/");
  return std::make_pair(std::move(endpoint), std::move(target));
}

std::string RedactUrl(std::string_view url) {
  size_t q = url.find('?');
  std::string out(url.substr(0, q));
  // user:password@host
  if (size_t at = out.find('@'), s = out.find("://"); at != std::string::npos && s != std::string::npos && at > s) {
    out.erase(s + 3, at - s - 2);
  }
  if (q != std::string_view::npos) out += "?...";
  return out;
}

Result<http::ClientResponse> Fetch(const FetchRequest& request) {
  ASSIGN_OR_RETURN(auto parts, SplitUrl(request.url));
  http::ClientOptions options;
  options.connect_timeout = request.timeout;
  options.read_timeout = request.timeout;
  options.max_body_bytes = 1 << 20;
  options.ca_file = request.ca_file;
  http::Client client(parts.first, options);
  auto headers = request.headers;
  if (!request.body.empty() && !request.content_type.empty()) headers.emplace_back("Content-Type", request.content_type);
  auto r = client.Do(request.method, parts.second, request.body, headers);
  if (!r.ok()) {
    // The client words its errors for berthd's own CLI ("berthd at ..."): say which URL instead.
    std::string msg = r.status().message();
    if (size_t pos = msg.find("berthd at "); pos != std::string::npos) msg.replace(pos, 10, "");
    return Status(r.status().code(), request.method + " " + RedactUrl(request.url) + ": " + msg);
  }
  return r;
}

}  // namespace berth::ddns
