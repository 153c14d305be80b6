#include "dns/server/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "core/histogram.h"
#include "dns/server/load_moderation.h"

namespace berth::dns {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kBatch = 32;
constexpr size_t kUdpInSize = 4096;   // bigger queries are bogus; they are dropped
constexpr size_t kUdpOutSize = 4096;  // our EDNS size is capped at this
constexpr size_t kTcpMaxPendingOut = 1 << 20;  // a client that never reads is cut off

bool IsWildcard(const SocketAddress& a) {
  for (size_t i = 0; i < a.ip().size(); ++i)
    if (a.ip().bytes()[i] != 0) return false;
  return true;
}

// Binds a UDP socket, or a non-blocking listening TCP socket, with SO_REUSEPORT so that
// every worker has its own.
Result<int> BindSocket(const SocketAddress& addr, int type, bool* wildcard) {
  sockaddr_storage ss;
  socklen_t len = addr.ToSockaddr(&ss);
  int fd = socket(ss.ss_family, type | SOCK_CLOEXEC | (type == SOCK_STREAM ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) return IoError("socket for " + addr.ToString(), errno);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (ss.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  *wildcard = IsWildcard(addr);
  if (type == SOCK_DGRAM) {
    int buf = 4 << 20;  // absorb bursts between batches
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    if (*wildcard) {
      // Answers must leave from the address the query came to.
      if (ss.ss_family == AF_INET) setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
      else setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
    }
    // No SO_RCVTIMEO: arming a timer on every blocking wait is a measurable cost per wakeup
    // (a trapped MSR write in a VM); Stop() wakes blocked workers with shutdown(SHUT_RD).
  } else {
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    int err = errno;
    close(fd);
    return IoError(std::string(type == SOCK_DGRAM ? "UDP" : "TCP") + " bind " + addr.ToString(), err);
  }
  if (type == SOCK_STREAM && listen(fd, 1024) != 0) {
    int err = errno;
    close(fd);
    return IoError("listen " + addr.ToString(), err);
  }
  return fd;
}

uint16_t BoundPort(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  return ntohs(ss.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                       : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

// Turns a received IP_PKTINFO / IPV6_PKTINFO into the control message that makes the answer
// leave from the same local address. Returns the control length to send (0: none).
size_t ReplyPktinfo(msghdr& in, uint8_t* out_control) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&in); c; c = CMSG_NXTHDR(&in, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      info.ipi_spec_dst = info.ipi_addr;
      info.ipi_ifindex = 0;
      auto* o = reinterpret_cast<cmsghdr*>(out_control);
      o->cmsg_level = IPPROTO_IP;
      o->cmsg_type = IP_PKTINFO;
      o->cmsg_len = CMSG_LEN(sizeof info);
      std::memcpy(CMSG_DATA(o), &info, sizeof info);
      return CMSG_SPACE(sizeof info);
    }
    if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      auto* o = reinterpret_cast<cmsghdr*>(out_control);
      o->cmsg_level = IPPROTO_IPV6;
      o->cmsg_type = IPV6_PKTINFO;
      o->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
      std::memcpy(CMSG_DATA(o), CMSG_DATA(c), sizeof(in6_pktinfo));
      return CMSG_SPACE(sizeof(in6_pktinfo));
    }
  }
  return 0;
}

}  // namespace

struct DnsServer::UdpWorker {
  std::shared_ptr<UdpSocket> socket;
  bool wildcard = false;
  DnsMetrics::Block* metrics = nullptr;
  std::thread thread;
};

// Answers finished by the forwarder for TCP clients, handed back to the owning worker.
struct TcpInbox {
  std::mutex mu;
  std::vector<std::pair<uint64_t, std::string>> done;  // connection id, framed answer
  int event_fd = -1;
  ~TcpInbox() {
    if (event_fd >= 0) close(event_fd);
  }
};

struct DnsServer::TcpWorker {
  int listen_fd = -1;
  int epoll_fd = -1;
  std::shared_ptr<TcpInbox> inbox = std::make_shared<TcpInbox>();
  DnsMetrics::Block* metrics = nullptr;
  std::thread thread;
  ~TcpWorker() {
    if (listen_fd >= 0) close(listen_fd);
    if (epoll_fd >= 0) close(epoll_fd);
  }
};

namespace {

DnsServerTuning Clamped(DnsServerTuning t) {
  t.edns_udp_size = std::clamp<uint16_t>(t.edns_udp_size, kMinUdpSize, kUdpOutSize);
  return t;
}

bool RecursionAllowed(const DnsServerTuning& tuning, const sockaddr_storage& client) {
  for (const auto& c : tuning.allow_recursion)
    if (c.Contains(client)) return true;
  return false;
}

}  // namespace

DnsServer::DnsServer(DnsServerOptions options, const ZoneTable& zones, Recursor* recursor, DnsMetrics* metrics)
    : options_(std::move(options)),
      tuning_(std::make_shared<const DnsServerTuning>(Clamped(options_.tuning))),
      zones_(zones),
      recursor_(recursor),
      metrics_(metrics) {
  if (options_.workers < 1) options_.workers = 1;
}

DnsServer::~DnsServer() { Stop(std::chrono::milliseconds(0)); }

void DnsServer::Retune(DnsServerTuning tuning) {
  tuning_.Publish(std::make_shared<const DnsServerTuning>(Clamped(std::move(tuning))));
}

Status DnsServer::Start() {
  std::vector<std::unique_ptr<UdpWorker>> udp;
  std::vector<std::unique_ptr<TcpWorker>> tcp;
  std::vector<SocketAddress> bound;
  // Binds one address: UDP first (resolving port 0), then TCP on the same port.
  auto bind_address = [this](SocketAddress addr, std::vector<std::unique_ptr<UdpWorker>>& udp,
                              std::vector<std::unique_ptr<TcpWorker>>& tcp) -> Result<SocketAddress> {
    for (int i = 0; i < options_.workers; ++i) {
      auto w = std::make_unique<UdpWorker>();
      ASSIGN_OR_RETURN(int fd, BindSocket(addr, SOCK_DGRAM, &w->wildcard));
      w->socket = std::make_shared<UdpSocket>(fd, options_.udp_gso);
      if (addr.port() == 0) addr = SocketAddress(addr.ip(), BoundPort(fd));
      udp.push_back(std::move(w));
    }
    for (int i = 0; i < options_.workers; ++i) {
      auto w = std::make_unique<TcpWorker>();
      bool wildcard;
      ASSIGN_OR_RETURN(w->listen_fd, BindSocket(addr, SOCK_STREAM, &wildcard));
      w->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
      w->inbox->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
      if (w->epoll_fd < 0 || w->inbox->event_fd < 0) return IoError("epoll/eventfd", errno);
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = 0;  // the listener
      epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, w->listen_fd, &ev);
      ev.data.u64 = 1;  // the inbox
      epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, w->inbox->event_fd, &ev);
      tcp.push_back(std::move(w));
    }
    return addr;
  };
  for (const SocketAddress& wanted : options_.listen) {
    // With port 0 the kernel picks a free UDP port that may be taken for TCP: pick again.
    for (int attempt = 0;; ++attempt) {
      std::vector<std::unique_ptr<UdpWorker>> u;
      std::vector<std::unique_ptr<TcpWorker>> t;
      Result<SocketAddress> addr = bind_address(wanted, u, t);
      if (!addr.ok()) {
        if (wanted.port() == 0 && attempt < 16) continue;
        return addr.status();
      }
      for (auto& w : u) udp.push_back(std::move(w));
      for (auto& w : t) tcp.push_back(std::move(w));
      bound.push_back(*addr);
      break;
    }
  }
  udp_ = std::move(udp);
  tcp_ = std::move(tcp);
  bound_ = std::move(bound);
  forward_block_ = metrics_->NewBlock();
  handoff_block_ = metrics_->NewBlock();
  for (auto& w : udp_) w->metrics = metrics_->NewBlock();
  for (auto& w : tcp_) w->metrics = metrics_->NewBlock();
  for (auto& w : udp_) w->thread = std::thread([this, p = w.get()] { RunUdp(p); });
  for (auto& w : tcp_) w->thread = std::thread([this, p = w.get()] { RunTcp(p); });
  started_ = true;
  return Status::Ok();
}

void DnsServer::Stop(std::chrono::milliseconds drain) {
  if (!started_) return;
  started_ = false;
  drain_deadline_ns_ = MonotonicNs() + static_cast<uint64_t>(drain.count()) * 1000000;
  stopping_.store(true);
  for (auto& w : udp_) shutdown(w->socket->fd, SHUT_RD);
  for (auto& w : tcp_) {
    uint64_t one = 1;
    (void)!write(w->inbox->event_fd, &one, sizeof one);
  }
  for (auto& w : udp_)
    if (w->thread.joinable()) w->thread.join();
  for (auto& w : tcp_)
    if (w->thread.joinable()) w->thread.join();
  udp_.clear();
  tcp_.clear();
}

AnswerResult DnsServer::AnswerFromZonesOrCache(DnsMetrics::Block* metrics, const ZoneSet& zones,
                                               const DnsServerTuning& tuning, AnswerOptions& opts,
                                               const sockaddr_storage& peer, const uint8_t* query, size_t len,
                                               uint8_t* reply, size_t capacity, bool udp, ParsedQuery* q) {
  opts.recursion_allowed = recursor_ && RecursionAllowed(tuning, peer);
  AnswerResult r = AnswerQuery(zones, query, len, opts, reply, capacity, q);
  if (r.disposition != Disposition::kForward) return r;
  size_t limit = udp ? ResponseLimit(*q, opts) : capacity;
  r.size = recursor_->FromCache(*q, query, len, static_cast<uint16_t>(limit), reply, capacity);
  if (r.size) {
    r.disposition = Disposition::kAnswered;
    r.rcode = reply[3] & 0xF;
    DnsMetrics::Block::Bump(metrics->cache_hits);
  } else {
    DnsMetrics::Block::Bump(metrics->forwarded);
  }
  return r;
}

size_t DnsServer::AnswerUdp(UdpWorker* w, const ZoneSet& zones, const DnsServerTuning& tuning, AnswerOptions& opts,
                            const uint8_t* query, size_t len, const sockaddr_storage& peer, socklen_t peer_len,
                            const msghdr& received, uint8_t* reply) {
  ParsedQuery q;
  AnswerResult r =
      AnswerFromZonesOrCache(w->metrics, zones, tuning, opts, peer, query, len, reply, kUdpOutSize, true, &q);
  if (r.disposition == Disposition::kForward) {
    ForwardUdp(w, q, query, len, static_cast<uint16_t>(ResponseLimit(q, opts)), opts.edns_udp_size, peer, peer_len,
               received);
    return 0;
  }
  if (r.disposition == Disposition::kHandOff) {
    HandOffUdp(w, q, query, len, peer, peer_len, received);
    return 0;
  }
  if (r.disposition == Disposition::kDrop) {
    DnsMetrics::Block::Bump(w->metrics->dropped);
    return 0;
  }
  w->metrics->CountQuery(r.qtype, r.rcode, false);
  return r.size;
}

void DnsServer::RunUdp(UdpWorker* w) {
  ZoneSnapshot snapshot(zones_);
  std::vector<uint8_t> in(kBatch * kUdpInSize), out(kBatch * kUdpOutSize);
  mmsghdr recv_msgs[kBatch];
  iovec recv_iov[kBatch];
  sockaddr_storage peers[kBatch];
  alignas(cmsghdr) uint8_t recv_control[kBatch][kPktinfoSpace];
  UdpAnswer answers[kBatch];
  std::memset(recv_msgs, 0, sizeof recv_msgs);
  for (int i = 0; i < kBatch; ++i) {
    recv_iov[i] = {in.data() + i * kUdpInSize, kUdpInSize};
    recv_msgs[i].msg_hdr.msg_name = &peers[i];
    recv_msgs[i].msg_hdr.msg_iov = &recv_iov[i];
    recv_msgs[i].msg_hdr.msg_iovlen = 1;
  }
  const int fd = w->socket->fd;
  Published<DnsServerTuning>::Reader tuning(tuning_);
  AnswerOptions opts;
  opts.edns_udp_size = tuning.current().edns_udp_size;
  opts.hand_off = handler_ != nullptr;
  uint64_t idle_since_ns = 0;  // when the worker last started waiting for queries
  LoadModeration moderation(tuning.current().udp_coalesce);
  while (!stopping_.load(std::memory_order_relaxed)) {
    for (int i = 0; i < kBatch; ++i) {
      recv_msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      recv_msgs[i].msg_hdr.msg_control = w->wildcard ? recv_control[i] : nullptr;
      recv_msgs[i].msg_hdr.msg_controllen = w->wildcard ? kPktinfoSpace : 0;
    }
    int n = recvmmsg(fd, recv_msgs, kBatch, MSG_WAITFORONE, nullptr);
    if (n <= 0) continue;  // timeout, EINTR, or shutdown at Stop()
    uint64_t start = MonotonicNs();
    const ZoneSet& zones = snapshot.Refresh();
    if (tuning.Changed()) {
      opts.edns_udp_size = tuning.current().edns_udp_size;
      moderation.set_max_pause(tuning.current().udp_coalesce);
    }
    int m = 0;
    for (int i = 0; i < n; ++i) {
      msghdr& hdr = recv_msgs[i].msg_hdr;
      if (hdr.msg_flags & MSG_TRUNC) {
        DnsMetrics::Block::Bump(w->metrics->dropped);
        continue;
      }
      UdpAnswer& a = answers[m];
      uint8_t* reply = out.data() + m * kUdpOutSize;
      a.data = reply;
      a.size = AnswerUdp(w, zones, tuning.current(), opts, in.data() + i * kUdpInSize, recv_msgs[i].msg_len, peers[i],
                         hdr.msg_namelen, hdr, reply);
      if (a.size == 0) continue;
      a.peer = &peers[i];
      a.peer_len = hdr.msg_namelen;
      a.control_len = w->wildcard ? ReplyPktinfo(hdr, a.control) : 0;
      ++m;
    }
    DnsMetrics::Block::Bump(w->metrics->udp_gso, SendUdpAnswers(*w->socket, {answers, static_cast<size_t>(m)}, 0));
    uint64_t end = MonotonicNs();
    w->metrics->CountLatency(end - start, static_cast<uint64_t>(n));
    // Interrupt moderation (LoadModeration): under sustained load, a batch that was not full
    // means one wakeup (and two syscalls) per query or two; pausing briefly lets the next
    // recvmmsg find several queries waiting, which cuts the kernel's per-query cost.
    const auto pause = moderation.AfterBatch(static_cast<size_t>(n), start - idle_since_ns, n == kBatch, start);
    idle_since_ns = end;
    if (pause.count() > 0) {
      timespec ts{0, static_cast<long>(pause.count())};
      nanosleep(&ts, nullptr);
      idle_since_ns = MonotonicNs();
    }
  }
}

void DnsServer::ForwardUdp(UdpWorker* w, const ParsedQuery& q, const uint8_t* query, size_t len, uint16_t limit,
                           uint16_t edns_size, const sockaddr_storage& peer, socklen_t peer_len, const msghdr& received) {
  struct Pending {
    std::shared_ptr<UdpSocket> socket;
    sockaddr_storage peer;
    socklen_t peer_len;
    std::string query;
    ParsedQuery parsed;
    uint8_t control[kPktinfoSpace];
    size_t control_len;
  };
  auto p = std::make_shared<Pending>();
  p->socket = w->socket;
  p->peer = peer;
  p->peer_len = peer_len;
  p->query.assign(reinterpret_cast<const char*>(query), len);
  p->parsed = q;
  p->control_len = w->wildcard ? ReplyPktinfo(const_cast<msghdr&>(received), p->control) : 0;
  DnsMetrics::Block* block = forward_block_;
  recursor_->Resolve(q, query, len, limit, [p, block, edns_size](std::string response) {
    uint8_t buf[kUdpOutSize];
    std::string_view answer = response;
    if (response.empty()) {
      DnsMetrics::Block::Bump(block->forward_failures);
      AnswerOptions opts;
      opts.recursion_allowed = true;
      opts.edns_udp_size = edns_size;
      size_t n = WriteErrorResponse(reinterpret_cast<const uint8_t*>(p->query.data()), p->parsed, rcode::kServFail,
                                    opts, buf, sizeof buf);
      buf[3] |= static_cast<uint8_t>(flag::kRA);
      answer = std::string_view(reinterpret_cast<char*>(buf), n);
    }
    block->CountQuery(p->parsed.qtype, static_cast<uint16_t>(answer.size() > 3 ? answer[3] & 0xF : 2), false);
    UdpSendBatch::Send(p->socket, p->peer, p->peer_len, p->control, p->control_len, answer, &block->udp_gso);
  });
}

namespace {

struct Connection {
  int fd = -1;
  std::string in;
  std::string out;  // bytes not yet written
  Clock::time_point last_active;
  int pending_forwards = 0;
  bool peer_closed = false;
  bool want_write = false;
  size_t bulk = 0;  // size of handed-off answers (zone transfers) allowed on top of the limit
  sockaddr_storage peer{};
};

}  // namespace

void DnsServer::RunTcp(TcpWorker* w) {
  ZoneSnapshot snapshot(zones_);
  std::unordered_map<uint64_t, Connection> conns;
  uint64_t next_id = 2;  // 0 = listener, 1 = inbox
  std::vector<uint8_t> reply(2 + 65535);
  ParsedQuery q;
  Published<DnsServerTuning>::Reader tuning(tuning_);
  AnswerOptions opts;
  opts.tcp = true;
  opts.edns_udp_size = tuning.current().edns_udp_size;
  opts.hand_off = handler_ != nullptr;
  auto last_sweep = Clock::now();
  LoadModeration moderation(tuning.current().tcp_coalesce);
  size_t answered = 0;  // queries answered since the worker last woke
  bool listener_open = true;

  auto close_conn = [&](uint64_t id) {
    auto it = conns.find(id);
    if (it == conns.end()) return;
    epoll_ctl(w->epoll_fd, EPOLL_CTL_DEL, it->second.fd, nullptr);
    close(it->second.fd);
    conns.erase(it);
    tcp_connections_.fetch_sub(1, std::memory_order_relaxed);
  };
  auto update_events = [&](uint64_t id, Connection& c) {
    bool want = !c.out.empty();
    if (want == c.want_write) return;
    c.want_write = want;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | (want ? static_cast<uint32_t>(EPOLLOUT) : 0u);
    ev.data.u64 = id;
    epoll_ctl(w->epoll_fd, EPOLL_CTL_MOD, c.fd, &ev);
  };
  auto flush = [&](uint64_t id, Connection& c) -> bool {
    while (!c.out.empty()) {
      ssize_t k = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
      if (k < 0) {
        if (errno == EAGAIN || errno == EINTR) break;
        return false;
      }
      c.out.erase(0, static_cast<size_t>(k));
    }
    update_events(id, c);
    if (c.out.empty()) c.bulk = 0;
    return c.out.size() <= kTcpMaxPendingOut + c.bulk;
  };
  // Answers every complete framed query in c.in.
  auto process = [&](uint64_t id, Connection& c) -> bool {
    const ZoneSet& zones = snapshot.Refresh();
    size_t off = 0;
    while (c.in.size() - off >= 2) {
      size_t len = static_cast<uint8_t>(c.in[off]) << 8 | static_cast<uint8_t>(c.in[off + 1]);
      if (len < kHeaderSize) return false;  // nonsense framing: hang up
      if (c.in.size() - off - 2 < len) break;
      const uint8_t* query = reinterpret_cast<const uint8_t*>(c.in.data() + off + 2);
      AnswerResult r = AnswerFromZonesOrCache(w->metrics, zones, tuning.current(), opts, c.peer, query, len,
                                              reply.data() + 2, 65535, false, &q);
      off += 2 + len;
      if (r.disposition == Disposition::kForward) {
        ++c.pending_forwards;
        ForwardTcp(w, id, q, query, len, opts.edns_udp_size);
        continue;
      }
      if (r.disposition == Disposition::kHandOff) {
        ++c.pending_forwards;
        HandOffTcp(w, id, q, query, len, c.peer);
        continue;
      }
      if (r.disposition == Disposition::kDrop) {
        DnsMetrics::Block::Bump(w->metrics->dropped);
        continue;
      }
      w->metrics->CountQuery(r.qtype, r.rcode, true);
      ++answered;
      reply[0] = static_cast<uint8_t>(r.size >> 8);
      reply[1] = static_cast<uint8_t>(r.size);
      c.out.append(reinterpret_cast<const char*>(reply.data()), r.size + 2);
    }
    c.in.erase(0, off);
    return flush(id, c);
  };

  epoll_event events[64];
  while (true) {
    bool stopping = stopping_.load(std::memory_order_relaxed);
    if (stopping) {
      if (listener_open) {
        epoll_ctl(w->epoll_fd, EPOLL_CTL_DEL, w->listen_fd, nullptr);
        listener_open = false;
      }
      // Drain: close connections with nothing left to send; leave at the deadline.
      std::vector<uint64_t> idle;
      for (auto& [id, c] : conns)
        if (c.out.empty() && c.pending_forwards == 0) idle.push_back(id);
      for (uint64_t id : idle) close_conn(id);
      if (conns.empty() || MonotonicNs() >= drain_deadline_ns_) break;
    }
    uint64_t wait_start = MonotonicNs();
    answered = 0;
    int n = epoll_wait(w->epoll_fd, events, 64, stopping ? 50 : 1000);
    uint64_t woke = MonotonicNs();
    auto now = Clock::now();
    if (tuning.Changed()) {
      opts.edns_udp_size = tuning.current().edns_udp_size;
      moderation.set_max_pause(tuning.current().tcp_coalesce);
    }
    for (int i = 0; i < n; ++i) {
      uint64_t id = events[i].data.u64;
      if (id == 0) {
        while (true) {
          sockaddr_storage peer{};
          socklen_t plen = sizeof peer;
          int fd = accept4(w->listen_fd, reinterpret_cast<sockaddr*>(&peer), &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) break;
          if (tcp_connections_.fetch_add(1, std::memory_order_relaxed) >= tuning.current().tcp_max_connections) {
            tcp_connections_.fetch_sub(1, std::memory_order_relaxed);
            DnsMetrics::Block::Bump(w->metrics->tcp_rejected);
            close(fd);
            continue;
          }
          DnsMetrics::Block::Bump(w->metrics->tcp_connections);
          int one = 1;
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          uint64_t cid = next_id++;
          Connection& c = conns[cid];
          c.fd = fd;
          c.peer = peer;
          c.last_active = now;
          epoll_event ev{};
          ev.events = EPOLLIN | EPOLLRDHUP;
          ev.data.u64 = cid;
          epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
        }
        continue;
      }
      if (id == 1) {
        uint64_t count;
        (void)!read(w->inbox->event_fd, &count, sizeof count);
        std::vector<std::pair<uint64_t, std::string>> done;
        {
          std::lock_guard<std::mutex> lock(w->inbox->mu);
          done.swap(w->inbox->done);
        }
        for (auto& [cid, answer] : done) {
          auto it = conns.find(cid);
          if (it == conns.end()) continue;
          --it->second.pending_forwards;
          if (answer.size() > 65537) it->second.bulk += answer.size();
          it->second.out += answer;
          if (!flush(cid, it->second)) close_conn(cid);
        }
        continue;
      }
      auto it = conns.find(id);
      if (it == conns.end()) continue;
      Connection& c = it->second;
      bool ok = true;
      if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        char buf[16384];
        while (true) {
          ssize_t k = recv(c.fd, buf, sizeof buf, 0);
          if (k > 0) {
            c.in.append(buf, static_cast<size_t>(k));
            c.last_active = now;
            // A short read drained the socket; epoll (level-triggered) reports any more data,
            // so skip the recv that would only say EAGAIN.
            if (static_cast<size_t>(k) < sizeof buf) break;
            continue;
          }
          if (k == 0) c.peer_closed = true;
          else if (errno != EAGAIN && errno != EINTR) ok = false;
          break;
        }
        if (ok && !stopping) ok = process(id, c);
      }
      if (ok && (events[i].events & EPOLLOUT)) ok = flush(id, c);
      if (!ok || (c.peer_closed && c.out.empty() && c.pending_forwards == 0)) close_conn(id);
    }
    // The same moderation as UDP (its own maximum): under load, let several queries gather per
    // wakeup.
    // Moderation counts queries, not events: one event can carry many pipelined queries.
    if (answered > 0 && !stopping) {
      const auto pause = moderation.AfterBatch(answered, woke - wait_start, /*full=*/false, woke);
      if (pause.count() > 0) {
        timespec ts{0, static_cast<long>(pause.count())};
        nanosleep(&ts, nullptr);
      }
    }
    if (now - last_sweep >= std::chrono::seconds(1)) {
      last_sweep = now;
      std::vector<uint64_t> idle;
      for (auto& [id, c] : conns)
        if (c.pending_forwards == 0 && now - c.last_active > tuning.current().tcp_idle_timeout) idle.push_back(id);
      for (uint64_t id : idle) close_conn(id);
    }
  }
  std::vector<uint64_t> rest;
  for (auto& [id, c] : conns) rest.push_back(id);
  for (uint64_t id : rest) close_conn(id);
}

void DnsServer::ForwardTcp(TcpWorker* w, uint64_t conn_id, const ParsedQuery& q, const uint8_t* query, size_t len,
                           uint16_t edns_size) {
  std::shared_ptr<TcpInbox> inbox = w->inbox;
  DnsMetrics::Block* block = forward_block_;
  std::string copy(reinterpret_cast<const char*>(query), len);
  recursor_->Resolve(q, query, len, 65535, [inbox, block, conn_id, copy, parsed = q, edns_size](std::string response) {
    if (response.empty()) {
      DnsMetrics::Block::Bump(block->forward_failures);
      uint8_t buf[1024];
      AnswerOptions opts;
      opts.tcp = true;
      opts.recursion_allowed = true;
      opts.edns_udp_size = edns_size;
      size_t n = WriteErrorResponse(reinterpret_cast<const uint8_t*>(copy.data()), parsed, rcode::kServFail, opts,
                                    buf, sizeof buf);
      buf[3] |= static_cast<uint8_t>(flag::kRA);
      response.assign(reinterpret_cast<char*>(buf), n);
    }
    block->CountQuery(parsed.qtype, static_cast<uint16_t>(response[3] & 0xF), true);
    std::string framed;
    framed.reserve(response.size() + 2);
    framed.push_back(static_cast<char>(response.size() >> 8));
    framed.push_back(static_cast<char>(response.size()));
    framed += response;
    {
      std::lock_guard<std::mutex> lock(inbox->mu);
      inbox->done.emplace_back(conn_id, std::move(framed));
    }
    uint64_t one = 1;
    (void)!write(inbox->event_fd, &one, sizeof one);
  });
}

void DnsServer::HandOffUdp(UdpWorker* w, const ParsedQuery& q, const uint8_t* query, size_t len,
                           const sockaddr_storage& peer, socklen_t peer_len, const msghdr& received) {
  // Everything the answer needs in one allocation; the callback captures only the pointer.
  struct Pending {
    std::shared_ptr<UdpSocket> socket;
    sockaddr_storage peer;
    socklen_t peer_len;
    uint8_t control[kPktinfoSpace];
    size_t control_len;
    DnsMetrics::Block* block;
    std::shared_ptr<std::mutex> mu;
    uint16_t qtype;
  };
  auto client = SocketAddress::FromSockaddr(peer);
  if (!client.ok()) return;
  auto p = std::make_shared<Pending>();
  p->socket = w->socket;
  p->peer = peer;
  p->peer_len = peer_len;
  p->control_len = w->wildcard ? ReplyPktinfo(const_cast<msghdr&>(received), p->control) : 0;
  p->block = handoff_block_;
  p->mu = handoff_mu_;
  p->qtype = q.qtype;
  handler_->Handle(q, std::string(reinterpret_cast<const char*>(query), len), {*client, false},
                   [p](std::vector<std::string> responses) {
                     std::lock_guard<std::mutex> lock(*p->mu);
                     if (responses.empty() || responses[0].size() < kHeaderSize) {
                       DnsMetrics::Block::Bump(p->block->dropped);
                       return;
                     }
                     const std::string& answer = responses[0];
                     p->block->CountQuery(p->qtype, static_cast<uint16_t>(answer[3] & 0xF), false);
                     UdpSendBatch::Send(p->socket, p->peer, p->peer_len, p->control, p->control_len, answer,
                                        &p->block->udp_gso);
                   });
}

void DnsServer::HandOffTcp(TcpWorker* w, uint64_t conn_id, const ParsedQuery& q, const uint8_t* query, size_t len,
                           const sockaddr_storage& peer) {
  std::shared_ptr<TcpInbox> inbox = w->inbox;
  DnsMetrics::Block* block = handoff_block_;
  std::shared_ptr<std::mutex> mu = handoff_mu_;
  auto deliver = [inbox, conn_id](std::string framed) {
    {
      std::lock_guard<std::mutex> lock(inbox->mu);
      inbox->done.emplace_back(conn_id, std::move(framed));
    }
    uint64_t one = 1;
    (void)!write(inbox->event_fd, &one, sizeof one);
  };
  auto client = SocketAddress::FromSockaddr(peer);
  if (!client.ok()) {
    deliver({});
    return;
  }
  uint16_t qtype = q.qtype;
  handler_->Handle(q, std::string(reinterpret_cast<const char*>(query), len), {*client, true},
                   [deliver, block, mu, qtype](std::vector<std::string> responses) {
                     std::string framed;
                     size_t total = 0;
                     for (const auto& r : responses) total += 2 + r.size();
                     framed.reserve(total);
                     for (const auto& r : responses) {
                       if (r.size() < kHeaderSize || r.size() > 65535) continue;
                       framed.push_back(static_cast<char>(r.size() >> 8));
                       framed.push_back(static_cast<char>(r.size()));
                       framed += r;
                     }
                     {
                       std::lock_guard<std::mutex> lock(*mu);
                       if (!responses.empty() && responses[0].size() >= kHeaderSize)
                         block->CountQuery(qtype, static_cast<uint16_t>(responses[0][3] & 0xF), true);
                       else
                         DnsMetrics::Block::Bump(block->dropped);
                     }
                     deliver(std::move(framed));
                   });
}

}  // namespace berth::dns
