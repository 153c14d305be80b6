// DnsServer: the DNS listeners. Per listen address it runs `workers` UDP threads, each on its
// own SO_REUSEPORT socket (recvmmsg/sendmmsg batches, equal-size answers to one client sent as
// one UDP GSO send; no lock and no allocation per query), and `workers` TCP threads with epoll
// (pipelining, idle timeout, connection limit). Zones come from a ZoneTable snapshot; queries
// for other names go to a Recursor, and UPDATE/NOTIFY/transfers/TSIG to a MessageHandler,
// whose answers are sent from the thread that finishes them. Start/Stop are called from one
// control thread; everything else is internal.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/net_address.h"
#include "core/published.h"
#include "core/status.h"
#include "dns/query/query.h"
#include "dns/server/metrics.h"
#include "dns/server/udp_send.h"
#include "dns/zone/zone_table.h"

namespace berth::dns {

// Answers queries for names in no local zone (cache + forwarding). Implementations are
// thread-safe: all workers call them concurrently.
class Recursor {
 public:
  virtual ~Recursor() = default;
  // Writes a cached answer for `query` into `out` and returns its size, or 0 on a miss.
  virtual size_t FromCache(const ParsedQuery& q, const uint8_t* query, size_t len, uint16_t max_size,
                           uint8_t* out, size_t out_cap) = 0;
  // Resolves upstream. `done` runs later on another thread with the client-ready response
  // (empty when resolution failed: the server then answers SERVFAIL).
  virtual void Resolve(const ParsedQuery& q, const uint8_t* query, size_t len, uint16_t max_size,
                       std::function<void(std::string response)> done) = 0;
};

// Takes the messages the lock-free query path does not answer: UPDATE, NOTIFY, AXFR/IXFR and
// TSIG-signed messages. Thread-safe: all workers call it concurrently.
class MessageHandler {
 public:
  virtual ~MessageHandler() = default;
  struct Client {
    SocketAddress address;
    bool tcp = false;
  };
  // `message` is the whole request as received. `done` gets the response messages (several
  // only for a zone transfer over TCP; none means no answer) and may run later on any thread.
  virtual void Handle(const ParsedQuery& q, std::string message, const Client& client,
                      std::function<void(std::vector<std::string> responses)> done) = 0;
};

// What an operator may change while the server runs (berthd's SIGHUP): Retune publishes a new
// set, and every worker takes it up at its next batch or wakeup.
struct DnsServerTuning {
  uint16_t edns_udp_size = kDefaultEdnsSize;
  std::chrono::milliseconds tcp_idle_timeout{10000};
  int tcp_max_connections = 1024;
  // Under sustained load, pause at most this long after a partial UDP batch (a TCP wakeup)
  // so the next one is fuller (fewer wakeups per query); 0 turns it off. Adds at most this much
  // latency, only when busy (LoadModeration says when and how long).
  std::chrono::microseconds udp_coalesce{400};
  std::chrono::microseconds tcp_coalesce{100};
  // Clients that may recurse (only used when a Recursor is set).
  std::vector<Cidr> allow_recursion;
};

struct DnsServerOptions {
  std::vector<SocketAddress> listen;  // UDP and TCP on each
  int workers = 1;                       // threads per protocol per address
  // Several answers of one batch to the same client from the same local address (one size, and
  // one shorter last) go out as one UDP_SEGMENT (GSO) send: the stack below the socket runs once for all of them. Falls back to
  // one send per answer where the kernel or the route refuses it.
  bool udp_gso = true;
  DnsServerTuning tuning;
};

class DnsServer {
 public:
  DnsServer(DnsServerOptions options, const ZoneTable& zones, Recursor* recursor, DnsMetrics* metrics);
  ~DnsServer();
  // Installs the handler for UPDATE/NOTIFY/transfers/TSIG; call before Start. Without one,
  // those get NOTIMP, REFUSED or FORMERR as before.
  void SetMessageHandler(MessageHandler* handler) { handler_ = handler; }

  // Binds every socket, then starts the threads. kIo naming the address when a bind fails
  // (nothing is left running then).
  Status Start();
  // Stops reading new queries, answers what was read, flushes TCP answers (bounded by
  // `drain`), closes everything and joins. Idempotent.
  void Stop(std::chrono::milliseconds drain = std::chrono::milliseconds(2000));

  // Replaces the tuning (edns_udp_size clamped as at construction). Workers apply it at their
  // next batch; queries already read are answered under the old one. Any thread.
  void Retune(DnsServerTuning tuning);
  DnsServerTuning tuning() const { return *tuning_.Get(); }

  // Addresses actually bound (port 0 resolved), one per listen address.
  const std::vector<SocketAddress>& bound() const { return bound_; }

 private:
  struct UdpWorker;
  struct TcpWorker;
  void RunUdp(UdpWorker* w);
  // Answers from the zones or, for a name to forward, from the cache (counting the hit or the
  // miss); the result stays kForward when the cache has no answer. `udp` caps a cached answer at
  // the client's UDP size.
  AnswerResult AnswerFromZonesOrCache(DnsMetrics::Block* metrics, const ZoneSet& zones, const DnsServerTuning& tuning,
                                      AnswerOptions& opts,
                                      const sockaddr_storage& peer, const uint8_t* query, size_t len, uint8_t* reply,
                                      size_t capacity, bool udp, ParsedQuery* q);
  // Answers one datagram into `reply` (kUdpOutSize bytes) and returns the answer's size, or 0
  // when there is nothing to send now (dropped, forwarded or handed off).
  size_t AnswerUdp(UdpWorker* w, const ZoneSet& zones, const DnsServerTuning& tuning, AnswerOptions& opts,
                   const uint8_t* query, size_t len,
                   const sockaddr_storage& peer, socklen_t peer_len, const msghdr& received, uint8_t* reply);
  void RunTcp(TcpWorker* w);
  void ForwardUdp(UdpWorker* w, const ParsedQuery& q, const uint8_t* query, size_t len, uint16_t limit,
                  uint16_t edns_size,
                  const sockaddr_storage& peer, socklen_t peer_len, const msghdr& received);
  void ForwardTcp(TcpWorker* w, uint64_t conn_id, const ParsedQuery& q, const uint8_t* query, size_t len,
                  uint16_t edns_size);
  void HandOffUdp(UdpWorker* w, const ParsedQuery& q, const uint8_t* query, size_t len, const sockaddr_storage& peer,
                  socklen_t peer_len, const msghdr& received);
  void HandOffTcp(TcpWorker* w, uint64_t conn_id, const ParsedQuery& q, const uint8_t* query, size_t len,
                  const sockaddr_storage& peer);

  DnsServerOptions options_;  // options_.tuning: as at construction; the live one is tuning_
  Published<DnsServerTuning> tuning_;
  const ZoneTable& zones_;
  Recursor* recursor_;
  MessageHandler* handler_ = nullptr;
  DnsMetrics* metrics_;
  DnsMetrics::Block* forward_block_ = nullptr;  // written only by forwarding callbacks
  // Handed-off messages complete on any thread: their block is written under handoff_mu_.
  DnsMetrics::Block* handoff_block_ = nullptr;
  std::shared_ptr<std::mutex> handoff_mu_ = std::make_shared<std::mutex>();

  std::vector<SocketAddress> bound_;
  std::vector<std::unique_ptr<UdpWorker>> udp_;
  std::vector<std::unique_ptr<TcpWorker>> tcp_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> drain_deadline_ns_{0};
  std::atomic<int> tcp_connections_{0};
  bool started_ = false;
};

}  // namespace berth::dns
