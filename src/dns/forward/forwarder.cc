#include "dns/forward/forwarder.h"

#include <netinet/in.h>
#include <openssl/rand.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <unordered_map>

#include "dns/forward/response.h"
#include "dns/wire/name.h"

namespace berth::dns {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint64_t kWakeId = 0;        // epoll data of the eventfd; requests count from 1
constexpr int kMaxEvents = 64;
constexpr int kMaxDatagramsPerEvent = 16;  // bounded work per wakeup; epoll reports the rest

socklen_t AddressLength(const sockaddr_storage& a) {
  return a.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
}

// Source check for UDP answers: family, address and port must be the upstream's.
bool SameAddress(const sockaddr_storage& a, const sockaddr_storage& b) {
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET) {
    const auto& x = reinterpret_cast<const sockaddr_in&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in&>(b);
    return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
  }
  const auto& x = reinterpret_cast<const sockaddr_in6&>(a);
  const auto& y = reinterpret_cast<const sockaddr_in6&>(b);
  return x.sin6_port == y.sin6_port && std::memcmp(&x.sin6_addr, &y.sin6_addr, 16) == 0;
}

// The coalescing identity of a question: the cache key's fields in one string.
std::string QuestionKey(const ForwardRequest& r) {
  std::string k;
  k.reserve(r.qname.size() + 5);
  for (char c : r.qname) k.push_back(static_cast<char>(LowerByte(static_cast<uint8_t>(c))));
  k.push_back(static_cast<char>(r.qtype >> 8));
  k.push_back(static_cast<char>(r.qtype));
  k.push_back(static_cast<char>(r.qclass >> 8));
  k.push_back(static_cast<char>(r.qclass));
  k.push_back(r.dnssec_ok ? 1 : 0);
  return k;
}

// Our query: ID patched per try, RD=1, one question, OPT with our 1232-byte buffer and DO.
std::string BuildQuery(const ForwardRequest& r) {
  std::string q;
  auto u16 = [&q](uint16_t v) {
    q.push_back(static_cast<char>(v >> 8));
    q.push_back(static_cast<char>(v));
  };
  u16(0);
  u16(flag::kRD);
  u16(1);
  u16(0);
  u16(0);
  u16(1);
  q += r.qname;
  u16(r.qtype);
  u16(r.qclass);
  q.push_back(0);
  u16(type::kOPT);
  u16(kDefaultEdnsSize);
  u16(0);
  u16(r.dnssec_ok ? 0x8000 : 0);
  u16(0);
  return q;
}

}  // namespace

class Forwarder::Loop {
 public:
  explicit Loop(Forwarder& f) : f_(f), upstreams_(f.upstreams_) {}
  ~Loop() {
    if (epoll_fd_ >= 0) close(epoll_fd_);
  }

  Status Init() {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) return IoError("epoll_create1", errno);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kWakeId;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, f_.wake_fd_, &ev) < 0)
      return IoError("epoll_ctl eventfd", errno);
    return Status::Ok();
  }

  void Run() {
    epoll_event events[kMaxEvents];
    bool stopping = false;
    while (!stopping) {
      int n = epoll_wait(epoll_fd_, events, kMaxEvents, WaitMillis());
      for (int i = 0; i < n; ++i) {
        if (events[i].data.u64 == kWakeId) {
          stopping = TakeSubmissions();
        } else {
          OnEvent(events[i].data.u64, events[i].events);
        }
      }
      ExpireDeadlines(Clock::now());
    }
    while (!by_id_.empty()) {
      f_.failures_.fetch_add(1, std::memory_order_relaxed);
      Finish(by_id_.begin()->second.get(), {}, rcode::kServFail, false);
    }
    TakeSubmissions();  // only failures now: the queue is closed
  }

 private:
  struct Pending {
    uint64_t id = 0;
    std::string key;
    ForwardRequest req;
    std::vector<Callback> waiters;
    std::string query;      // our query; bytes 0-1 take each try's ID
    std::shared_ptr<UpstreamSet> upstreams;  // the list this question started on
    size_t upstream = 0;    // index of the upstream being tried
    uint32_t attempt = 0;   // bumped per try so stale deadlines are recognised
    int fd = -1;
    bool tcp = false;
    size_t servfails = 0;
    std::string last_servfail;
    std::string tcp_out;    // length-prefixed query
    size_t tcp_sent = 0;
    std::string tcp_in;
  };
  struct Deadline {
    Clock::time_point when;
    uint64_t id;
    uint32_t attempt;
  };
  enum class Verdict { kIgnored, kHandled };

  int WaitMillis() const {
    if (deadlines_.empty()) return -1;
    auto left = deadlines_.front().when - Clock::now();
    if (left <= Clock::duration::zero()) return 0;
    return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(left).count());
  }

  // Drains the submission queue; returns true once Stop() closed it (submissions then fail).
  bool TakeSubmissions() {
    uint64_t counter;
    [[maybe_unused]] ssize_t r = read(f_.wake_fd_, &counter, sizeof counter);
    std::vector<Submission> batch;
    bool stopped;
    {
      std::lock_guard lock(f_.mu_);
      batch.swap(f_.queue_);
      stopped = f_.stopped_;
      upstreams_ = f_.upstreams_;
    }
    for (auto& s : batch) {
      if (stopped) {
        f_.in_flight_.fetch_sub(1, std::memory_order_relaxed);
        f_.failures_.fetch_add(1, std::memory_order_relaxed);
        s.done({}, rcode::kServFail);
      } else {
        Accept(std::move(s));
      }
    }
    return stopped;
  }

  void Accept(Submission s) {
    std::string key = QuestionKey(s.req);
    if (auto it = by_key_.find(key); it != by_key_.end()) {
      it->second->waiters.push_back(std::move(s.done));
      f_.coalesced_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    auto p = std::make_unique<Pending>();
    p->id = next_id_++;
    p->key = std::move(key);
    p->upstreams = upstreams_;
    p->waiters.push_back(std::move(s.done));
    bool valid = Name::FromWire(s.req.qname).ok();
    p->req = std::move(s.req);
    p->query = BuildQuery(p->req);
    Pending* raw = p.get();
    by_key_.emplace(raw->key, raw);
    by_id_.emplace(raw->id, std::move(p));
    if (!valid) {
      f_.failures_.fetch_add(1, std::memory_order_relaxed);
      Finish(raw, {}, rcode::kServFail, false);
      return;
    }
    StartTry(raw);
  }

  Counters& UpstreamOf(const Pending* p) { return p->upstreams->counters[p->upstream]; }

  void CloseSocket(Pending* p) {
    if (p->fd >= 0) close(p->fd);  // also leaves the epoll set
    p->fd = -1;
  }

  // Sends the query to upstream `p->upstream` over UDP or TCP; on failure moves on.
  void StartTry(Pending* p) {
    CloseSocket(p);
    ++p->attempt;
    if (p->upstream >= p->upstreams->addresses.size()) {
      FailAll(p);
      return;
    }
    const sockaddr_storage& to = p->upstreams->addresses[p->upstream];
    uint16_t qid = RandomId();
    p->query[0] = static_cast<char>(qid >> 8);
    p->query[1] = static_cast<char>(qid);
    UpstreamOf(p).queries.fetch_add(1, std::memory_order_relaxed);
    int fd = socket(to.ss_family, (p->tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return TryFailed(p);
    p->fd = fd;
    // connect() binds a kernel-chosen random source port and makes the kernel drop
    // datagrams from any other address; the source is still checked on receipt.
    if (connect(fd, reinterpret_cast<const sockaddr*>(&to), AddressLength(to)) < 0 &&
        errno != EINPROGRESS)
      return TryFailed(p);
    epoll_event ev{};
    ev.events = p->tcp ? EPOLLIN | EPOLLOUT : EPOLLIN;
    ev.data.u64 = p->id;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) < 0) return TryFailed(p);
    if (p->tcp) {
      p->tcp_out.clear();
      p->tcp_out.push_back(static_cast<char>(p->query.size() >> 8));
      p->tcp_out.push_back(static_cast<char>(p->query.size()));
      p->tcp_out += p->query;
      p->tcp_sent = 0;
      p->tcp_in.clear();
    } else if (send(fd, p->query.data(), p->query.size(), 0) < 0) {
      return TryFailed(p);
    }
    deadlines_.push_back({Clock::now() + f_.options_.timeout, p->id, p->attempt});
  }

  void TryFailed(Pending* p) {
    UpstreamOf(p).errors.fetch_add(1, std::memory_order_relaxed);
    NextUpstream(p);
  }

  void NextUpstream(Pending* p) {
    ++p->upstream;
    p->tcp = false;
    StartTry(p);
  }

  void ExpireDeadlines(Clock::time_point now) {
    while (!deadlines_.empty() && deadlines_.front().when <= now) {
      Deadline d = deadlines_.front();
      deadlines_.pop_front();
      auto it = by_id_.find(d.id);
      if (it == by_id_.end() || it->second->attempt != d.attempt) continue;  // already moved on
      Pending* p = it->second.get();
      UpstreamOf(p).timeouts.fetch_add(1, std::memory_order_relaxed);
      NextUpstream(p);
    }
  }

  void OnEvent(uint64_t id, uint32_t events) {
    auto it = by_id_.find(id);
    if (it == by_id_.end()) return;  // finished earlier in this batch
    Pending* p = it->second.get();
    if (p->tcp) {
      OnTcpEvent(p, events);
    } else {
      OnUdpReadable(p);
    }
  }

  void OnUdpReadable(Pending* p) {
    const sockaddr_storage& upstream = p->upstreams->addresses[p->upstream];
    for (int i = 0; i < kMaxDatagramsPerEvent; ++i) {
      sockaddr_storage from{};
      socklen_t from_len = sizeof from;
      ssize_t n = recvfrom(p->fd, buf_, sizeof buf_, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        return TryFailed(p);  // e.g. ECONNREFUSED from an ICMP port unreachable
      }
      if (!SameAddress(from, upstream)) {
        f_.ignored_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      if (Consider(p, buf_, static_cast<size_t>(n)) == Verdict::kHandled) return;
    }
  }

  void OnTcpEvent(Pending* p, uint32_t events) {
    if (p->tcp_sent < p->tcp_out.size()) {
      if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
      ssize_t n = send(p->fd, p->tcp_out.data() + p->tcp_sent, p->tcp_out.size() - p->tcp_sent,
                       MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        return TryFailed(p);
      }
      p->tcp_sent += static_cast<size_t>(n);
      if (p->tcp_sent < p->tcp_out.size()) return;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = p->id;
      epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, p->fd, &ev);
    }
    while (true) {
      ssize_t n = recv(p->fd, buf_, sizeof buf_, 0);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        return TryFailed(p);
      }
      if (n == 0) return TryFailed(p);  // closed before a whole answer arrived
      p->tcp_in.append(reinterpret_cast<const char*>(buf_), static_cast<size_t>(n));
      if (p->tcp_in.size() < 2) continue;
      size_t len = static_cast<uint8_t>(p->tcp_in[0]) << 8 | static_cast<uint8_t>(p->tcp_in[1]);
      if (p->tcp_in.size() < 2 + len) continue;
      // One query per connection: the first whole message is the answer or the try failed.
      const auto* msg = reinterpret_cast<const uint8_t*>(p->tcp_in.data()) + 2;
      if (Consider(p, msg, len) == Verdict::kIgnored) TryFailed(p);
      return;
    }
  }

  // Checks an answer against the question in flight and acts on it. kIgnored: not ours.
  Verdict Consider(Pending* p, const uint8_t* msg, size_t len) {
    auto info = AnalyzeResponse(msg, len);
    uint16_t qid = static_cast<uint16_t>(static_cast<uint8_t>(p->query[0]) << 8 |
                                         static_cast<uint8_t>(p->query[1]));
    if (!info.ok() || info->id != qid || ((info->flags >> 11) & 0xF) != opcode::kQuery ||
        !QuestionMatches(msg, *info, p->req.qname, p->req.qtype, p->req.qclass)) {
      f_.ignored_.fetch_add(1, std::memory_order_relaxed);
      return Verdict::kIgnored;
    }
    UpstreamOf(p).answers.fetch_add(1, std::memory_order_relaxed);
    if ((info->flags & flag::kTC) && !p->tcp) {
      p->tcp = true;  // same upstream, over TCP
      StartTry(p);
      return Verdict::kHandled;
    }
    switch (info->rcode) {
      case rcode::kServFail:
        ++p->servfails;
        p->last_servfail.assign(reinterpret_cast<const char*>(msg), len);
        [[fallthrough]];
      case rcode::kRefused:
      case rcode::kFormErr:
      case rcode::kNotImp:
        TryFailed(p);
        return Verdict::kHandled;
      default:
        // Extended rcodes (BADVERS...) concern our EDNS, not the question.
        if (info->rcode > 0xF) {
          TryFailed(p);
          return Verdict::kHandled;
        }
    }
    Finish(p, std::string_view(reinterpret_cast<const char*>(msg), len), info->rcode, true);
    return Verdict::kHandled;
  }

  // Every upstream failed. When all of them said SERVFAIL, that answer is cached briefly.
  void FailAll(Pending* p) {
    f_.failures_.fetch_add(1, std::memory_order_relaxed);
    if (f_.options_.cache && p->servfails == p->upstreams->addresses.size()) {
      (void)f_.options_.cache->Insert(
          CacheKey::Make(p->req.qname, p->req.qtype, p->req.qclass, p->req.dnssec_ok),
          p->last_servfail, Clock::now());
    }
    Finish(p, {}, rcode::kServFail, false);
  }

  // Removes the question and runs its callbacks (`wire` may point into `p`: it lives until
  // they return).
  void Finish(Pending* p, std::string_view wire, uint16_t rc, bool cache) {
    CloseSocket(p);
    by_key_.erase(p->key);
    auto node = by_id_.extract(p->id);
    std::unique_ptr<Pending> owned = std::move(node.mapped());
    if (cache && f_.options_.cache) {
      (void)f_.options_.cache->Insert(
          CacheKey::Make(p->req.qname, p->req.qtype, p->req.qclass, p->req.dnssec_ok), wire,
          Clock::now());
    }
    f_.in_flight_.fetch_sub(owned->waiters.size(), std::memory_order_relaxed);
    for (auto& done : owned->waiters) done(wire, rc);
  }

  uint16_t RandomId() {
    if (random_pos_ + 2 > sizeof random_) {
      // A CSPRNG, so IDs cannot be predicted from earlier ones (RFC 5452).
      if (RAND_bytes(random_, sizeof random_) != 1) {
        [[maybe_unused]] ssize_t r = getentropy(random_, sizeof random_);
      }
      random_pos_ = 0;
    }
    uint16_t id = static_cast<uint16_t>(random_[random_pos_] << 8 | random_[random_pos_ + 1]);
    random_pos_ += 2;
    return id;
  }

  Forwarder& f_;
  std::shared_ptr<UpstreamSet> upstreams_;  // the newest list, taken with each batch
  int epoll_fd_ = -1;
  std::unordered_map<uint64_t, std::unique_ptr<Pending>> by_id_;
  std::unordered_map<std::string, Pending*> by_key_;
  std::deque<Deadline> deadlines_;  // one timeout for all tries, so appending keeps it sorted
  uint64_t next_id_ = 1;
  uint8_t random_[256];
  size_t random_pos_ = sizeof random_;
  uint8_t buf_[65536];  // one datagram or TCP read; callbacks may see views into it
};

namespace {

Status ValidateUpstreams(const std::vector<sockaddr_storage>& upstreams) {
  if (upstreams.empty()) return InvalidArgument("no upstream resolvers");
  for (const auto& u : upstreams)
    if (u.ss_family != AF_INET && u.ss_family != AF_INET6)
      return InvalidArgument("upstream address is neither IPv4 nor IPv6");
  return Status::Ok();
}

}  // namespace

Forwarder::Forwarder(ForwarderOptions options)
    : options_(std::move(options)), upstreams_(std::make_shared<UpstreamSet>(std::move(options_.upstreams))) {}

Result<std::unique_ptr<Forwarder>> Forwarder::Start(ForwarderOptions options) {
  RETURN_IF_ERROR(ValidateUpstreams(options.upstreams));
  std::unique_ptr<Forwarder> f(new Forwarder(std::move(options)));
  f->wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (f->wake_fd_ < 0) return IoError("eventfd", errno);
  f->loop_ = std::make_unique<Loop>(*f);
  RETURN_IF_ERROR(f->loop_->Init());
  Loop* loop = f->loop_.get();
  f->thread_ = std::thread([loop] { loop->Run(); });
  return f;
}

Forwarder::~Forwarder() {
  Stop();
  loop_.reset();
  if (wake_fd_ >= 0) close(wake_fd_);
}

void Forwarder::Resolve(ForwardRequest req, Callback done) {
  requests_.fetch_add(1, std::memory_order_relaxed);
  if (in_flight_.fetch_add(1, std::memory_order_relaxed) >= options_.max_in_flight) {
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
    rejected_.fetch_add(1, std::memory_order_relaxed);
    done({}, rcode::kServFail);
    return;
  }
  bool wake;
  {
    std::unique_lock lock(mu_);
    if (stopped_) {
      lock.unlock();
      in_flight_.fetch_sub(1, std::memory_order_relaxed);
      rejected_.fetch_add(1, std::memory_order_relaxed);
      done({}, rcode::kServFail);
      return;
    }
    // The loop drains the whole queue per wakeup, so only the first submission must wake it.
    wake = queue_.empty();
    queue_.push_back({std::move(req), std::move(done)});
  }
  if (wake) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t r = write(wake_fd_, &one, sizeof one);
  }
}

void Forwarder::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  uint64_t one = 1;
  [[maybe_unused]] ssize_t r = write(wake_fd_, &one, sizeof one);
  if (thread_.joinable()) thread_.join();
}

Status Forwarder::SetUpstreams(std::vector<sockaddr_storage> upstreams) {
  RETURN_IF_ERROR(ValidateUpstreams(upstreams));
  auto set = std::make_shared<UpstreamSet>(std::move(upstreams));
  std::lock_guard lock(mu_);
  upstreams_ = std::move(set);  // the loop takes it with its next batch of submissions
  return Status::Ok();
}

ForwarderStats Forwarder::Stats() const {
  ForwarderStats st;
  st.requests = requests_.load(std::memory_order_relaxed);
  st.coalesced = coalesced_.load(std::memory_order_relaxed);
  st.rejected = rejected_.load(std::memory_order_relaxed);
  st.failures = failures_.load(std::memory_order_relaxed);
  st.ignored = ignored_.load(std::memory_order_relaxed);
  std::shared_ptr<UpstreamSet> set;
  {
    std::lock_guard lock(mu_);
    set = upstreams_;
  }
  for (size_t i = 0; i < set->addresses.size(); ++i) {
    const Counters& c = set->counters[i];
    st.upstreams.push_back({c.queries.load(std::memory_order_relaxed),
                            c.answers.load(std::memory_order_relaxed),
                            c.timeouts.load(std::memory_order_relaxed),
                            c.errors.load(std::memory_order_relaxed)});
  }
  return st;
}

}  // namespace berth::dns
