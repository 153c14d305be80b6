// http::Server: an HTTP/1.1 server (keep-alive, pipelining-safe, bounded) for berth's APIs,
// listening on TCP addresses and unix sockets, served by a fixed pool of io threads.
// Thread-safety: Start/Stop/listeners/stats may be called from any thread; handlers run on
// the io threads concurrently (see router.h). Beast stays out of this header on purpose.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "http/message.h"
#include "http/router.h"

namespace berth::http {

// How a listener accepts connections: plain TCP, TLS over TCP (OpenSSL, TLS 1.2+), a unix socket.
enum class ListenerKind { kTcp, kTls, kUnix };

struct Listener {
  ListenerKind kind = ListenerKind::kTcp;
  std::string address;  // "127.0.0.1:8053", "[::1]:0" (port 0: pick one); or a socket path
  std::string tls_cert;  // kTls: PEM certificate chain file
  std::string tls_key;   // kTls: PEM private key file

  static Listener Tcp(std::string address) { return {ListenerKind::kTcp, std::move(address), {}, {}}; }
  static Listener Tls(std::string address, std::string cert, std::string key) {
    return {ListenerKind::kTls, std::move(address), std::move(cert), std::move(key)};
  }
  static Listener Unix(std::string path) { return {ListenerKind::kUnix, std::move(path), {}, {}}; }
};

struct ServerOptions {
  std::vector<Listener> listeners;
  int io_threads = 2;
  size_t max_header_bytes = 16 * 1024;          // request line + headers; over: 431
  size_t max_body_bytes = 8 * 1024 * 1024;      // default per request; routes may override; over: 413
  size_t max_connections = 1024;                // over: 503 and close
  std::chrono::milliseconds idle_timeout{30'000};  // keep-alive wait for the next request
  std::chrono::milliseconds read_timeout{10'000};  // to receive a header, and a body unless the route says
  // Time to send a whole response. Large downloads (registry blobs) will need a per-route value.
  std::chrono::milliseconds write_timeout{10'000};
};

// A listener after binding: the real port when port 0 was asked for.
struct BoundListener {
  ListenerKind kind;
  std::string address;  // "127.0.0.1:41234", "[::1]:41234" or the socket path
  uint16_t port = 0;    // 0 for unix sockets
};

struct ServerStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_rejected = 0;  // over max_connections
  uint64_t active_connections = 0;
  uint64_t requests = 0;              // requests answered, including error answers
};

class Server {
 public:
  // The router is fixed for the server's lifetime.
  Server(Router router, ServerOptions options);
  ~Server();  // Stop() with the default deadline
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every listener, then starts the io threads. InvalidArgument for a bad address or
  // option, or a TLS certificate/key that cannot be loaded (naming the file); Io when a bind/listen fails (e.g. address in use); AlreadyExists when a unix
  // socket path is held by a live server or is not a socket; FailedPrecondition when
  // called twice. On error nothing keeps listening.
  Status Start();

  // Stops accepting, closes idle connections, lets requests already being handled finish
  // (their connections then close), waits up to `deadline` for that, then stops and joins
  // the io threads. Idempotent. A handler that never returns still blocks the join; never
  // call Stop() from a handler (it would join its own thread).
  void Stop(std::chrono::milliseconds deadline = std::chrono::seconds(10));

  // Loads `cert` and `key` (PEM files, as Listener::Tls) again for every TLS listener:
  // connections accepted afterwards present the new certificate; open ones keep theirs.
  // InvalidArgument naming the file when one cannot be loaded (nothing changes then);
  // FailedPrecondition when no TLS listener is bound.
  Status ReloadTls(const std::string& cert, const std::string& key);

  // Listeners as bound, in ServerOptions order; empty before Start().
  std::vector<BoundListener> listeners() const;
  ServerStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::http
