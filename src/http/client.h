// http::Client: a small synchronous HTTP/1.1 client for the `berth` CLI and for tests. It talks
// to one endpoint (a URL "http://127.0.0.1:8053", "https://host" or a unix socket path) and
// reuses its connection between calls. https verifies the server against the system CA store
// (plus ClientOptions::ca_file) and its name or IP address, and sends SNI. Not thread-safe: use one Client per thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "http/message.h"

namespace berth::http {

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds read_timeout{30'000};  // for sending the request and reading the answer
  size_t max_body_bytes = 64 * 1024 * 1024;
  std::string ca_file;  // https: a PEM bundle trusted in addition to the system CA store
};

struct ClientResponse {
  int status = 0;
  HeaderMap headers;
  std::string body;

  // First value of header `name` (case-insensitive), or "" when absent.
  std::string_view header(std::string_view name) const { return FindHeader(headers, name); }
};

class Client {
 public:
  // `endpoint`: "http(s)://host:port" (host an IP, [v6] or name; port defaults to 80/443), or a unix
  // socket path (anything containing '/' that does not start with "http"). A bad endpoint is
  // reported by every Do() call as InvalidArgument.
  explicit Client(std::string endpoint, ClientOptions options = {});
  ~Client();
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;

  // Sends one request and reads the whole answer (any status is a successful Result).
  // InvalidArgument for a bad endpoint, method, target or header; Unavailable when the
  // server cannot be reached ("cannot reach berthd at ...: connection refused") or closes
  // the connection; PermissionDenied when the unix socket refuses us; DeadlineExceeded on
  // a timeout; ResourceExhausted when the answer exceeds max_body_bytes; Unavailable naming
  // the reason when the TLS handshake or certificate verification fails.
  Result<ClientResponse> Do(std::string_view method, std::string_view target, std::string_view body = "",
                            const std::vector<std::pair<std::string, std::string>>& headers = {});

  const std::string& endpoint() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::http
