#include "http/client.h"

#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/x509v3.h>

#include "http/wire.h"

namespace berth::http {
namespace {

using namespace wire;  // NOLINT: the Beast aliases

constexpr uint32_t kMaxResponseHeaderBytes = 64 * 1024;

// Starts one async operation and runs the io_context until it completes: a synchronous call
// whose timeout comes from beast::basic_stream::expires_after.
template <class Start>
error_code RunOne(net::io_context& ioc, Start&& start) {
  error_code result = net::error::operation_aborted;
  start([&result](error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result;
}

// "Connection refused" -> "connection refused", to read well after a colon.
std::string LowerFirst(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

}  // namespace

struct Client::Impl {
  Impl(std::string endpoint_in, ClientOptions options_in)
      : endpoint(std::move(endpoint_in)), options(options_in), endpoint_status(ParseEndpoint()) {}

  Status ParseEndpoint();
  Status Connect();
  Status MapError(const error_code& ec, bool connecting) const;
  template <class Stream>
  Result<ClientResponse> Exchange(Stream& stream, bhttp::request<bhttp::string_body>& req, bool head,
                                  bool* retryable);
  Result<ClientResponse> ExchangeOnce(bhttp::request<bhttp::string_body>& req, bool head, bool* retryable) {
    if (tls_stream) return Exchange(*tls_stream, req, head, retryable);
    return tcp_stream ? Exchange(*tcp_stream, req, head, retryable) : Exchange(*unix_stream, req, head, retryable);
  }
  bool connected() const { return tcp_stream.has_value() || unix_stream.has_value() || tls_stream.has_value(); }
  Status Handshake();
  void Disconnect() {
    tls_stream.reset();
    tcp_stream.reset();
    unix_stream.reset();
    buffer.clear();
  }

  std::string endpoint;
  ClientOptions options;
  bool is_unix = false;
  bool is_tls = false;  // before endpoint_status: ParseEndpoint sets it
  std::string host;
  std::string port;
  std::string host_header;
  Status endpoint_status;
  net::io_context ioc;
  std::optional<beast::tcp_stream> tcp_stream;
  std::optional<beast::basic_stream<unix_socket>> unix_stream;
  std::optional<net::ssl::context> tls_context;  // declared before tls_stream: outlives it
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_stream;
  beast::flat_buffer buffer;
};

Status Client::Impl::ParseEndpoint() {
  std::string_view e = endpoint;
  is_tls = e.starts_with("https://");
  if (!e.starts_with("http://") && !is_tls) {
    if (e.find('/') == std::string_view::npos) {
      return InvalidArgument("endpoint '" + endpoint + "' is neither http://host:port nor a unix socket path");
    }
    if (e.size() >= sizeof(sockaddr_un::sun_path)) {
      return InvalidArgument("unix socket path '" + endpoint + "' is too long");
    }
    is_unix = true;
    host_header = "localhost";
    return Status::Ok();
  }
  std::string_view authority = e.substr(is_tls ? 8 : 7);
  size_t slash = authority.find('/');
  if (slash != std::string_view::npos) {
    if (authority.substr(slash) != "/") return InvalidArgument("endpoint '" + endpoint + "' must not have a path");
    authority = authority.substr(0, slash);
  }
  std::string_view port_text;
  if (authority.starts_with("[")) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return InvalidArgument("endpoint '" + endpoint + "': unclosed '['");
    host = std::string(authority.substr(1, close - 1));
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return InvalidArgument("endpoint '" + endpoint + "': junk after ']'");
    if (!rest.empty()) port_text = rest.substr(1);
  } else {
    size_t colon = authority.find(':');
    host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (host.empty()) return InvalidArgument("endpoint '" + endpoint + "' has no host");
  if (port_text.empty()) port_text = is_tls ? "443" : "80";
  if (port_text.size() > 5 || port_text.find_first_not_of("0123456789") != std::string_view::npos ||
      std::stoul(std::string(port_text)) == 0 || std::stoul(std::string(port_text)) > 65535) {
    return InvalidArgument("endpoint '" + endpoint + "' has a bad port '" + std::string(port_text) + "'");
  }
  port = std::string(port_text);
  host_header = std::string(authority);
  return Status::Ok();
}

Status Client::Impl::MapError(const error_code& ec, bool connecting) const {
  if (ec == beast::error::timeout) {
    std::string ms = std::to_string((connecting ? options.connect_timeout : options.read_timeout).count());
    return DeadlineExceeded("berthd at " + endpoint + (connecting ? " did not accept a connection" : " did not answer") +
                            " within " + ms + " ms");
  }
  if (ec == bhttp::error::body_limit) {
    return ResourceExhausted("answer from berthd at " + endpoint + " exceeds " +
                             std::to_string(options.max_body_bytes) + " bytes");
  }
  if (ec == net::error::access_denied) {
    return PermissionDenied("cannot reach berthd at " + endpoint + ": permission denied");
  }
  if (ec == bhttp::error::end_of_stream || ec == net::error::eof) {
    return Unavailable("berthd at " + endpoint + " closed the connection before answering");
  }
  if (IsParseError(ec)) {
    return Unavailable("malformed answer from berthd at " + endpoint + ": " + ec.message());
  }
  return Unavailable("cannot reach berthd at " + endpoint + ": " + LowerFirst(ec.message()));
}

Status Client::Impl::Connect() {
  Disconnect();
  error_code ec;
  if (is_unix) {
    unix_stream.emplace(ioc);
    unix_stream->expires_after(options.connect_timeout);
    ec = RunOne(ioc, [&](auto handler) { unix_stream->async_connect(unix_socket::endpoint(endpoint), handler); });
  } else {
    tcp::resolver resolver(ioc);
    tcp::resolver::results_type results;
    ec = RunOne(ioc, [&](auto handler) {
      resolver.async_resolve(host, port, [&results, handler](error_code rec, tcp::resolver::results_type r) mutable {
        results = std::move(r);
        handler(rec);
      });
    });
    if (ec) {
      return Unavailable("cannot reach berthd at " + endpoint + ": cannot resolve '" + host + "': " + LowerFirst(ec.message()));
    }
    tcp_stream.emplace(ioc);
    tcp_stream->expires_after(options.connect_timeout);
    ec = RunOne(ioc, [&](auto handler) { tcp_stream->async_connect(results, handler); });
  }
  if (ec) {
    Disconnect();
    return MapError(ec, true);
  }
  if (is_tls) return Handshake();
  return Status::Ok();
}

// Wraps the connected TCP stream in TLS: peer verified against the system store (and ca_file),
// its certificate checked for our host name or IP address, SNI sent for names.
Status Client::Impl::Handshake() {
  if (!tls_context) {
    tls_context.emplace(net::ssl::context::tls_client);
    tls_context->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                             net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 | net::ssl::context::no_tlsv1_1);
    error_code ec;
    tls_context->set_default_verify_paths(ec);
    if (!options.ca_file.empty()) {
      tls_context->load_verify_file(options.ca_file, ec);
      if (ec) {
        tls_context.reset();
        Disconnect();
        return InvalidArgument("cannot load CA file '" + options.ca_file + "': " + ec.message());
      }
    }
    tls_context->set_verify_mode(net::ssl::verify_peer);
  }
  tls_stream.emplace(std::move(*tcp_stream), *tls_context);
  tcp_stream.reset();
  SSL* ssl = tls_stream->native_handle();
  boost::system::error_code ip_ec;
  net::ip::make_address(host, ip_ec);
  bool set = ip_ec ? SSL_set_tlsext_host_name(ssl, host.c_str()) == 1 && SSL_set1_host(ssl, host.c_str()) == 1
                   : X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) == 1;
  if (!set) {
    Disconnect();
    return Internal("cannot set up TLS verification for '" + host + "'");
  }
  beast::get_lowest_layer(*tls_stream).expires_after(options.connect_timeout);
  error_code ec = RunOne(ioc, [&](auto handler) { tls_stream->async_handshake(net::ssl::stream_base::client, handler); });
  if (ec) {
    long verify = SSL_get_verify_result(ssl);
    std::string why = verify != X509_V_OK ? X509_verify_cert_error_string(verify) : LowerFirst(ec.message());
    Disconnect();
    if (ec == beast::error::timeout) return MapError(ec, true);
    return Unavailable("TLS handshake with " + endpoint + " failed: " + why);
  }
  return Status::Ok();
}

template <class Stream>
Result<ClientResponse> Client::Impl::Exchange(Stream& stream, bhttp::request<bhttp::string_body>& req, bool head,
                                              bool* retryable) {
  *retryable = false;
  beast::get_lowest_layer(stream).expires_after(options.read_timeout);
  error_code ec = RunOne(ioc, [&](auto handler) { bhttp::async_write(stream, req, handler); });
  if (ec) {
    *retryable = ec != beast::error::timeout;
    return MapError(ec, false);
  }
  bhttp::response_parser<bhttp::string_body> parser;
  parser.header_limit(kMaxResponseHeaderBytes);
  parser.body_limit(options.max_body_bytes);
  parser.skip(head);  // a HEAD answer announces a Content-Length but carries no body
  ec = RunOne(ioc, [&](auto handler) { bhttp::async_read(stream, buffer, parser, handler); });
  if (ec) {
    // The server may have dropped our idle keep-alive connection just before we used it.
    *retryable = ec == bhttp::error::end_of_stream || ec == net::error::connection_reset ||
                 ec == net::error::broken_pipe;
    return MapError(ec, false);
  }
  auto& res = parser.get();
  ClientResponse out;
  out.status = static_cast<int>(res.result_int());
  out.headers = ToHeaderMap(res);
  out.body = std::move(res.body());
  if (!res.keep_alive()) Disconnect();
  return out;
}

Client::Client(std::string endpoint, ClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(endpoint), options)) {}
Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

const std::string& Client::endpoint() const { return impl_->endpoint; }

Result<ClientResponse> Client::Do(std::string_view method, std::string_view target, std::string_view body,
                                  const std::vector<std::pair<std::string, std::string>>& headers) {
  RETURN_IF_ERROR(impl_->endpoint_status);
  if (!IsToken(method)) return InvalidArgument("bad HTTP method '" + std::string(method) + "'");
  if (target.empty() || target.front() != '/' || target.find_first_of(" \t\r\n") != std::string_view::npos ||
      !IsFieldValue(target)) {
    return InvalidArgument("bad request target '" + std::string(target) + "': must start with '/', no spaces");
  }
  bhttp::request<bhttp::string_body> req;
  req.version(11);
  bhttp::verb verb = bhttp::string_to_verb(method);
  if (verb == bhttp::verb::unknown) {
    req.method_string(method);
  } else {
    req.method(verb);
  }
  req.target(target);
  req.set(bhttp::field::host, impl_->host_header);
  req.set(bhttp::field::user_agent, "berth-client");
  for (const auto& [name, value] : headers) {
    if (!IsToken(name) || !IsFieldValue(value)) return InvalidArgument("bad request header '" + name + "'");
    req.set(name, value);
  }
  if (!body.empty() && req.find(bhttp::field::content_type) == req.end()) {
    req.set(bhttp::field::content_type, "application/json");  // berth's APIs speak JSON
  }
  req.body() = std::string(body);
  req.prepare_payload();
  req.keep_alive(true);
  bool head = verb == bhttp::verb::head;

  bool reused = impl_->connected();
  if (!reused) RETURN_IF_ERROR(impl_->Connect());
  bool retryable = false;
  Result<ClientResponse> result = impl_->ExchangeOnce(req, head, &retryable);
  if (!result.ok() && reused && retryable) {
    RETURN_IF_ERROR(impl_->Connect());
    result = impl_->ExchangeOnce(req, head, &retryable);
  }
  if (!result.ok()) impl_->Disconnect();
  return result;
}

}  // namespace berth::http
