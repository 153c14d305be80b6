#include "http/server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <list>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include "core/net_address.h"
#include "http/json.h"
#include "http/url.h"
#include "http/wire.h"

namespace berth::http {
namespace {

using namespace wire;  // NOLINT: the Beast aliases

constexpr std::chrono::seconds kLingerTimeout{1};
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::string_view kBusy =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: 38\r\n"
    "Connection: close\r\n\r\n{\"error\": \"too many open connections\"}";

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Closes the connection if it is between requests; otherwise lets the current request finish.
  virtual void OnServerStop() = 0;
};

// State shared by the server and every session, so that a session outliving Stop()'s deadline
// never touches a destroyed Server.
struct State {
  State(Router r, ServerOptions o) : router(std::move(r)), options(std::move(o)) {}
  const Router router;
  const ServerOptions options;

  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;                            // guarded by mu
  uint64_t active = 0;                              // guarded by mu
  std::list<std::weak_ptr<SessionBase>> sessions;  // guarded by mu
  std::atomic<bool> stopping_flag{false};           // lock-free copy of `stopping` for sessions
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> rejected{0};
  std::atomic<uint64_t> requests{0};
};

namespace ssl = net::ssl;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// One connection. All its work runs on the socket's strand, so it needs no locks. `Stream` is
// beast::basic_stream<tcp or unix> or a TlsStream over TCP.
template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  // `tls` (the context a TlsStream is built with) is kept alive as long as the session.
  template <class... StreamArgs>
  Session(std::shared_ptr<State> state, std::string remote, std::shared_ptr<ssl::context> tls, StreamArgs&&... args)
      : state_(std::move(state)), tls_(std::move(tls)), stream_(std::forward<StreamArgs>(args)...),
        remote_(std::move(remote)) {}

  ~Session() override {
    std::lock_guard lock(state_->mu);
    state_->sessions.erase(registration_);
    --state_->active;
    state_->cv.notify_all();
  }

  void set_registration(std::list<std::weak_ptr<SessionBase>>::iterator it) { registration_ = it; }

  void Run() {
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      if constexpr (kTls) {
        self->phase_ = Phase::kReadingHeader;  // a server stop closes it like a half-read header
        self->Lowest().expires_after(self->opts().read_timeout);
        self->stream_.async_handshake(ssl::stream_base::server, [self](error_code ec) {
          if (ec) return self->Close();
          self->WaitForRequest();
        });
      } else {
        self->WaitForRequest();
      }
    });
  }

  void OnServerStop() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->phase_ == Phase::kIdle || self->phase_ == Phase::kReadingHeader) self->Close();
    });
  }

 private:
  enum class Phase { kIdle, kReadingHeader, kInFlight, kClosing };
  const ServerOptions& opts() const { return state_->options; }
  auto& Lowest() { return beast::get_lowest_layer(stream_); }

  // Waits (idle timeout) for the first byte of the next request unless one is buffered.
  void WaitForRequest() {
    if (state_->stopping_flag.load()) return Close();
    phase_ = Phase::kIdle;
    if (buffer_.size() > 0) return ReadHeader();
    Lowest().expires_after(opts().idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = this->shared_from_this()](error_code ec, size_t n) {
                              if (ec) return self->Close();
                              self->buffer_.commit(n);
                              self->ReadHeader();
                            });
  }

  void ReadHeader() {
    phase_ = Phase::kReadingHeader;
    header_parser_.emplace();
    header_parser_->header_limit(static_cast<uint32_t>(opts().max_header_bytes));
    header_parser_->body_limit(boost::none);  // the route decides, once it is known
    Lowest().expires_after(opts().read_timeout);  // for the whole header; the body gets its own budget
    bhttp::async_read_header(stream_, buffer_, *header_parser_,
                             [self = this->shared_from_this()](error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(error_code ec) {
    if (ec) return OnReadError(ec);
    phase_ = Phase::kInFlight;
    const auto& h = header_parser_->get();
    version_ = h.version();
    keep_alive_ = h.keep_alive();
    is_head_ = h.method() == bhttp::verb::head;
    request_ = Request{};
    request_.method = std::string(h.method_string());
    request_.target = std::string(h.target());
    request_.remote_address = remote_;
    request_.headers = ToHeaderMap(h);
    // Early answers keep the connection only if no body is left unread on it.
    bool no_body = header_parser_->is_done();
    Result<Target> target = ParseTarget(request_.target);
    if (!target.ok()) return SendError(400, target.status().message(), no_body);
    request_.path = std::move(target->path);
    request_.query = std::move(target->query);
    Result<Router::Match> match = state_->router.Find(request_.method, target->raw_path);
    if (!match.ok()) return SendError(400, match.status().message(), no_body);
    if (match->kind == Router::Match::kNoPath) return SendError(404, "no route for " + request_.path, no_body);
    if (match->kind == Router::Match::kWrongMethod) {
      return SendError(405, "method " + request_.method + " not allowed for " + request_.path, no_body,
                       match->allow);
    }
    handler_ = match->handler;
    request_.params = std::move(match->params);
    const RouteOptions& route = match->options;
    body_limit_ = route.max_body_bytes ? route.max_body_bytes : opts().max_body_bytes;
    body_timeout_ = route.body_timeout.count() > 0 ? route.body_timeout : opts().read_timeout;
    if (auto length = header_parser_->content_length(); length && *length > body_limit_) {
      return SendError(413, BodyLimitMessage(), false);
    }
    if (!no_body && beast::iequals(request_.header("Expect"), "100-continue")) {
      Lowest().expires_after(opts().write_timeout);
      return net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                              [self = this->shared_from_this()](error_code ec, size_t) {
                                if (ec) return self->Close();
                                self->ReadBody();
                              });
    }
    ReadBody();
  }

  void ReadBody() {
    body_parser_.emplace(std::move(*header_parser_));
    body_parser_->body_limit(body_limit_);
    Lowest().expires_after(body_timeout_);
    bhttp::async_read(stream_, buffer_, *body_parser_, [self = this->shared_from_this()](error_code ec, size_t) {
      if (ec) return self->OnReadError(ec);
      self->request_.body = std::move(self->body_parser_->get().body());
      self->Dispatch();
    });
  }

  void OnReadError(error_code ec) {
    if (ec == bhttp::error::header_limit) {
      return SendError(431, "request header exceeds " + std::to_string(opts().max_header_bytes) + " bytes", false);
    }
    if (ec == bhttp::error::body_limit) return SendError(413, BodyLimitMessage(), false);
    // end_of_stream: the client closed between requests, which is normal.
    if (ec != bhttp::error::end_of_stream && IsParseError(ec)) {
      return SendError(400, "malformed request: " + ec.message(), false);
    }
    Close();
  }

  std::string BodyLimitMessage() const {
    return "request body exceeds " + std::to_string(body_limit_) + " bytes";
  }

  void Dispatch() {
    Response response;
    try {
      response = (*handler_)(request_);
    } catch (const std::exception& e) {
      spdlog::error("http handler for {} {} threw: {}", request_.method, request_.path, e.what());
      response = JsonError(500, "internal error");
    } catch (...) {
      spdlog::error("http handler for {} {} threw a non-exception", request_.method, request_.path);
      response = JsonError(500, "internal error");
    }
    Send(std::move(response), keep_alive_);
  }

  void SendError(int status, std::string message, bool keep_alive, const std::string& allow = "") {
    phase_ = Phase::kInFlight;
    Response response = JsonError(status, std::move(message));
    if (!allow.empty()) response.headers.emplace_back("Allow", allow);
    Send(std::move(response), keep_alive);
  }

  void Send(Response response, bool keep_alive) {
    state_->requests.fetch_add(1);
    if (response.status < 100 || response.status > 599) {
      response = JsonError(500, "handler returned invalid status " + std::to_string(response.status));
    }
    res_ = {};
    res_.version(version_ ? version_ : 11);
    res_.result(static_cast<unsigned>(response.status));
    res_.set(bhttp::field::server, "berth");
    for (const auto& [name, value] : response.headers) {
      if (!IsToken(name) || !IsFieldValue(value)) {
        return Send(JsonError(500, "handler returned an invalid header"), keep_alive);
      }
      // Framing headers are the server's job: a wrong one would desynchronize the connection.
      if (beast::iequals(name, "Content-Length") || beast::iequals(name, "Transfer-Encoding") ||
          beast::iequals(name, "Connection")) {
        continue;
      }
      res_.insert(name, value);
    }
    if (!response.content_type.empty() && IsFieldValue(response.content_type)) {
      res_.set(bhttp::field::content_type, response.content_type);
    }
    bool bodyless = response.status < 200 || response.status == 204 || response.status == 304;
    if (!bodyless) res_.body() = std::move(response.body);
    keep_alive_ = keep_alive && !state_->stopping_flag.load();
    res_.keep_alive(keep_alive_);
    res_.prepare_payload();
    if (is_head_) res_.body().clear();  // Content-Length stays that of the GET answer
    Lowest().expires_after(opts().write_timeout);
    bhttp::async_write(stream_, res_, [self = this->shared_from_this()](error_code ec, size_t) {
      if (ec) return self->Close();
      if (!self->keep_alive_ || self->state_->stopping_flag.load()) return self->Linger();
      self->WaitForRequest();
    });
  }

  // Half-closes and drains what the client still sends (e.g. the rest of a 413 body) for a
  // moment, so that the kernel does not answer unread data with a RST that destroys our response.
  void Linger() {
    phase_ = Phase::kClosing;
    error_code ignored;
    Lowest().socket().shutdown(net::socket_base::shutdown_send, ignored);
    Lowest().expires_after(kLingerTimeout);
    Drain();
  }

  void Drain() {
    // Raw bytes from the socket: for TLS too, what is left is only to be discarded.
    Lowest().async_read_some(net::buffer(drain_), [self = this->shared_from_this()](error_code ec, size_t) {
      if (ec) return self->Close();
      self->Drain();
    });
  }

  void Close() {
    phase_ = Phase::kClosing;
    error_code ignored;
    Lowest().socket().shutdown(net::socket_base::shutdown_both, ignored);
    Lowest().close();
  }

  std::shared_ptr<State> state_;
  std::shared_ptr<ssl::context> tls_;  // declared before stream_: outlives it
  Stream stream_;
  std::string remote_;
  std::list<std::weak_ptr<SessionBase>>::iterator registration_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::empty_body>> header_parser_;
  std::optional<bhttp::request_parser<bhttp::string_body>> body_parser_;
  bhttp::response<bhttp::string_body> res_;
  Request request_;
  const Handler* handler_ = nullptr;
  size_t body_limit_ = 0;
  std::chrono::milliseconds body_timeout_{0};
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool is_head_ = false;
  Phase phase_ = Phase::kIdle;
  std::array<char, 4096> drain_;
};

std::string RemoteAddress(const tcp::socket& socket) {
  error_code ec;
  tcp::endpoint ep = socket.remote_endpoint(ec);
  return ec ? "unknown" : ep.address().to_string();
}
std::string RemoteAddress(const unix_socket::socket&) { return "unix"; }

// Accepts connections on one listening socket until closed.
class AcceptorBase {
 public:
  virtual ~AcceptorBase() = default;
  virtual void Start() = 0;
  virtual void Close() = 0;  // thread-safe: posts to the acceptor's strand
  // TLS listeners: connections accepted from now on use `tls` (thread-safe: posts to the strand).
  virtual void SetTls(std::shared_ptr<ssl::context> tls) = 0;
};

template <class Protocol>
class Acceptor : public AcceptorBase, public std::enable_shared_from_this<Acceptor<Protocol>> {
 public:
  Acceptor(net::io_context& ioc, std::shared_ptr<State> state, std::shared_ptr<ssl::context> tls = nullptr)
      : ioc_(ioc), state_(std::move(state)), tls_(std::move(tls)), acceptor_(net::make_strand(ioc)),
        retry_(acceptor_.get_executor()) {}

  net::basic_socket_acceptor<Protocol>& socket() { return acceptor_; }

  void Start() override {
    net::dispatch(acceptor_.get_executor(), [self = this->shared_from_this()] { self->Accept(); });
  }

  void Close() override {
    net::post(acceptor_.get_executor(), [self = this->shared_from_this()] {
      error_code ignored;
      self->retry_.cancel();
      self->acceptor_.close(ignored);
    });
  }

  // tls_ is only touched on the strand (Admit runs there), so the swap needs no lock; sessions
  // already running keep the context they started with.
  void SetTls(std::shared_ptr<ssl::context> tls) override {
    net::post(acceptor_.get_executor(), [self = this->shared_from_this(), tls = std::move(tls)] { self->tls_ = tls; });
  }

 private:
  void Accept() {
    acceptor_.async_accept(net::make_strand(ioc_), [self = this->shared_from_this()](
                                                       error_code ec, typename Protocol::socket socket) {
      if (!self->acceptor_.is_open() || ec == net::error::operation_aborted) return;
      if (ec) {
        spdlog::warn("http accept failed: {}", ec.message());
        // E.g. EMFILE: back off briefly instead of spinning on a full descriptor table.
        self->retry_.expires_after(std::chrono::milliseconds(50));
        self->retry_.async_wait([self](error_code wait_ec) {
          if (!wait_ec) self->Accept();
        });
        return;
      }
      self->Admit(std::move(socket));
      self->Accept();
    });
  }

  void Admit(typename Protocol::socket socket) {
    std::string remote = RemoteAddress(socket);
    std::unique_lock lock(state_->mu);
    if (state_->stopping) return;  // the socket closes on destruction
    if (state_->active >= state_->options.max_connections) {
      lock.unlock();
      state_->rejected.fetch_add(1);
      auto busy = std::make_shared<typename Protocol::socket>(std::move(socket));
      net::async_write(*busy, net::buffer(kBusy.data(), kBusy.size()), [busy](error_code, size_t) {
        error_code ignored;
        busy->shutdown(net::socket_base::shutdown_both, ignored);
      });
      return;
    }
    ++state_->active;
    state_->accepted.fetch_add(1);
    if constexpr (std::is_same_v<Protocol, tcp>) {
      if (tls_) return Start(lock, std::make_shared<Session<TlsStream>>(state_, std::move(remote), tls_, std::move(socket), *tls_));
    }
    Start(lock, std::make_shared<Session<beast::basic_stream<Protocol>>>(state_, std::move(remote), nullptr, std::move(socket)));
  }

  template <class S>
  void Start(std::unique_lock<std::mutex>& lock, std::shared_ptr<S> session) {
    session->set_registration(state_->sessions.insert(state_->sessions.end(), session));
    lock.unlock();
    session->Run();
  }

  net::io_context& ioc_;
  std::shared_ptr<State> state_;
  std::shared_ptr<ssl::context> tls_;  // TCP only: sessions speak TLS when set
  net::basic_socket_acceptor<Protocol> acceptor_;
  net::steady_timer retry_;
};

Result<tcp::endpoint> ParseTcpAddress(const std::string& address) {
  Result<SocketAddress> parsed = SocketAddress::Parse(address);
  if (!parsed.ok()) return parsed.status().WithContext("listen address");
  const IpAddress& ip = parsed->ip();
  net::ip::address asio_ip;
  if (ip.is_v4()) {
    asio_ip = net::ip::address_v4({ip.bytes()[0], ip.bytes()[1], ip.bytes()[2], ip.bytes()[3]});
  } else {
    asio_ip = net::ip::address_v6(ip.bytes());
  }
  return tcp::endpoint(asio_ip, parsed->port());
}

std::string FormatEndpoint(const tcp::endpoint& ep) {
  std::string host = ep.address().to_string();
  if (ep.address().is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(ep.port());
}

Status ConvertError(const error_code& ec, const std::string& what) {
  return Status(Code::kIo, what + ": " + ec.message());
}

// A server context with the listener's certificate chain and key; TLS 1.2 or later only.
Result<std::shared_ptr<ssl::context>> MakeTlsContext(const Listener& listener) {
  if (listener.tls_cert.empty() || listener.tls_key.empty()) {
    return InvalidArgument("TLS listener " + listener.address + " needs a certificate and a key");
  }
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  error_code ec;
  ctx->use_certificate_chain_file(listener.tls_cert, ec);
  if (ec) return InvalidArgument("TLS certificate " + listener.tls_cert + ": " + ec.message());
  ctx->use_private_key_file(listener.tls_key, ssl::context::pem, ec);
  if (ec) return InvalidArgument("TLS key " + listener.tls_key + ": " + ec.message());
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    return InvalidArgument("TLS key " + listener.tls_key + " does not match certificate " + listener.tls_cert);
  }
  return ctx;
}

// Removes a socket file left by a dead server; refuses to touch a live one or a non-socket.
Status ClearStaleSocket(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    return errno == ENOENT ? Status::Ok() : IoError("stat " + path, errno);
  }
  if (!S_ISSOCK(st.st_mode)) return AlreadyExists(path + " exists and is not a socket");
  net::io_context ioc;
  unix_socket::socket probe(ioc);
  error_code ec;
  probe.connect(unix_socket::endpoint(path), ec);
  if (!ec) return AlreadyExists(path + " is in use by a running server");
  if (unlink(path.c_str()) != 0 && errno != ENOENT) return IoError("removing stale socket " + path, errno);
  return Status::Ok();
}

}  // namespace

struct Server::Impl {
  Impl(Router router, ServerOptions options)
      : state(std::make_shared<State>(std::move(router), std::move(options))) {}

  Status Validate() const;
  Status Bind();
  Status BindTcp(const Listener& listener);
  Status BindUnix(const Listener& listener);

  std::shared_ptr<State> state;
  net::io_context ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::vector<std::shared_ptr<AcceptorBase>> acceptors;
  std::vector<BoundListener> bound;
  std::vector<std::pair<std::string, ino_t>> unix_files;  // to remove on Stop, if still ours
  std::vector<std::thread> threads;
  mutable std::mutex lifecycle_mu;  // serializes Start/Stop; guards `bound`
  bool started = false;
  bool stopped = false;
};

Status Server::Impl::Validate() const {
  const ServerOptions& o = state->options;
  if (o.listeners.empty()) return InvalidArgument("server has no listeners");
  if (o.io_threads < 1 || o.io_threads > 256) return InvalidArgument("io_threads must be in 1..256");
  if (o.max_header_bytes < 1024 || o.max_header_bytes > (1u << 24)) {
    return InvalidArgument("max_header_bytes must be in 1 KiB..16 MiB");
  }
  if (o.max_body_bytes == 0) return InvalidArgument("max_body_bytes must be positive");
  if (o.max_connections == 0) return InvalidArgument("max_connections must be positive");
  if (o.idle_timeout.count() <= 0 || o.read_timeout.count() <= 0 || o.write_timeout.count() <= 0) {
    return InvalidArgument("timeouts must be positive");
  }
  return Status::Ok();
}

Status Server::Impl::BindTcp(const Listener& listener) {
  ASSIGN_OR_RETURN(tcp::endpoint endpoint, ParseTcpAddress(listener.address));
  std::shared_ptr<ssl::context> tls;
  if (listener.kind == ListenerKind::kTls) {
    ASSIGN_OR_RETURN(tls, MakeTlsContext(listener));
  }
  auto acceptor = std::make_shared<Acceptor<tcp>>(ioc, state, std::move(tls));
  auto& sock = acceptor->socket();
  error_code ec;
  if (sock.open(endpoint.protocol(), ec)) return ConvertError(ec, "socket for " + listener.address);
  sock.set_option(net::socket_base::reuse_address(true), ec);
  // So that "[::]:p" and "0.0.0.0:p" can both be listed.
  if (endpoint.address().is_v6()) sock.set_option(net::ip::v6_only(true), ec);
  if (sock.bind(endpoint, ec)) return ConvertError(ec, "binding " + listener.address);
  if (sock.listen(net::socket_base::max_listen_connections, ec)) {
    return ConvertError(ec, "listening on " + listener.address);
  }
  tcp::endpoint local = sock.local_endpoint(ec);
  if (ec) return ConvertError(ec, "local address of " + listener.address);
  bound.push_back({listener.kind, FormatEndpoint(local), local.port()});
  acceptors.push_back(std::move(acceptor));
  return Status::Ok();
}

Status Server::ReloadTls(const std::string& cert, const std::string& key) {
  std::lock_guard lock(impl_->lifecycle_mu);
  // Every context is built before any is swapped in: a bad file changes nothing.
  std::vector<std::pair<size_t, std::shared_ptr<ssl::context>>> fresh;
  for (size_t i = 0; i < impl_->bound.size(); ++i) {
    if (impl_->bound[i].kind != ListenerKind::kTls) continue;
    ASSIGN_OR_RETURN(auto ctx, MakeTlsContext(Listener::Tls(impl_->bound[i].address, cert, key)));
    fresh.emplace_back(i, std::move(ctx));
  }
  if (fresh.empty()) return FailedPrecondition("no TLS listener to reload");
  for (auto& [i, ctx] : fresh) impl_->acceptors[i]->SetTls(std::move(ctx));
  return Status::Ok();
}

Status Server::Impl::BindUnix(const Listener& listener) {
  const std::string& path = listener.address;
  if (path.empty() || path.size() >= sizeof(sockaddr_un::sun_path)) {
    return InvalidArgument("unix socket path must be 1.." + std::to_string(sizeof(sockaddr_un::sun_path) - 1) +
                           " bytes: '" + path + "'");
  }
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code fs_ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, fs_ec);
  if (fs_ec) return Status(Code::kIo, "creating " + parent.string() + ": " + fs_ec.message());
  RETURN_IF_ERROR(ClearStaleSocket(path));
  auto acceptor = std::make_shared<Acceptor<unix_socket>>(ioc, state);
  auto& sock = acceptor->socket();
  error_code ec;
  unix_socket::endpoint endpoint(path);
  if (sock.open(endpoint.protocol(), ec)) return ConvertError(ec, "socket for " + path);
  if (sock.bind(endpoint, ec)) return ConvertError(ec, "binding " + path);
  struct stat st;
  if (chmod(path.c_str(), 0660) != 0 || stat(path.c_str(), &st) != 0) {
    Status status = IoError("chmod 0660 " + path, errno);
    unlink(path.c_str());
    return status;
  }
  unix_files.emplace_back(path, st.st_ino);
  if (sock.listen(net::socket_base::max_listen_connections, ec)) return ConvertError(ec, "listening on " + path);
  bound.push_back({ListenerKind::kUnix, path, 0});
  acceptors.push_back(std::move(acceptor));
  return Status::Ok();
}

Status Server::Impl::Bind() {
  for (const Listener& listener : state->options.listeners) {
    Status status = listener.kind == ListenerKind::kUnix ? BindUnix(listener) : BindTcp(listener);
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

Server::Server(Router router, ServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(router), std::move(options))) {}

Server::~Server() { Stop(); }

Status Server::Start() {
  std::lock_guard lock(impl_->lifecycle_mu);
  if (impl_->started || impl_->stopped) return FailedPrecondition("server was already started or stopped");
  RETURN_IF_ERROR(impl_->Validate());
  if (Status status = impl_->Bind(); !status.ok()) {
    impl_->acceptors.clear();  // closes what was bound
    for (const auto& [path, ino] : impl_->unix_files) unlink(path.c_str());
    impl_->unix_files.clear();
    impl_->bound.clear();
    return status;
  }
  impl_->started = true;
  impl_->work.emplace(impl_->ioc.get_executor());
  for (auto& acceptor : impl_->acceptors) acceptor->Start();
  for (int i = 0; i < impl_->state->options.io_threads; ++i) {
    impl_->threads.emplace_back([impl = impl_.get()] {
      // A throwing completion handler must not take the whole server down with std::terminate.
      while (true) {
        try {
          impl->ioc.run();
          return;
        } catch (...) {
        }
      }
    });
  }
  return Status::Ok();
}

void Server::Stop(std::chrono::milliseconds deadline) {
  std::lock_guard lock(impl_->lifecycle_mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  if (!impl_->started) return;
  State& state = *impl_->state;
  std::vector<std::shared_ptr<SessionBase>> sessions;
  {
    std::lock_guard state_lock(state.mu);
    state.stopping = true;
    state.stopping_flag.store(true);
    for (auto& weak : state.sessions) {
      if (auto session = weak.lock()) sessions.push_back(std::move(session));
    }
  }
  for (auto& acceptor : impl_->acceptors) acceptor->Close();
  for (auto& session : sessions) session->OnServerStop();
  sessions.clear();  // the sessions' own handlers keep them alive as long as needed
  {
    std::unique_lock state_lock(state.mu);
    state.cv.wait_for(state_lock, deadline, [&] { return state.active == 0; });
  }
  impl_->work.reset();
  impl_->ioc.stop();
  for (auto& thread : impl_->threads) thread.join();
  impl_->threads.clear();
  for (const auto& [path, ino] : impl_->unix_files) {
    struct stat st;
    // Another server may have taken the path over since; only remove our own socket.
    if (lstat(path.c_str(), &st) == 0 && st.st_ino == ino) unlink(path.c_str());
  }
  impl_->unix_files.clear();
}

std::vector<BoundListener> Server::listeners() const {
  std::lock_guard lock(impl_->lifecycle_mu);
  return impl_->bound;
}

ServerStats Server::stats() const {
  ServerStats s;
  s.connections_accepted = impl_->state->accepted.load();
  s.connections_rejected = impl_->state->rejected.load();
  s.requests = impl_->state->requests.load();
  std::lock_guard lock(impl_->state->mu);
  s.active_connections = impl_->state->active;
  return s;
}

}  // namespace berth::http
