#include "dns/forward/forwarder.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "dns/forward/test_util.h"

namespace berth::dns {
namespace {

using namespace std::chrono_literals;
using namespace forward_test;

sockaddr_storage Loopback(uint16_t port) {
  sockaddr_storage ss{};
  auto& in = reinterpret_cast<sockaddr_in&>(ss);
  in.sin_family = AF_INET;
  in.sin_port = htons(port);
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ss;
}

int BoundSocket(int type, uint16_t port) {
  int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
  sockaddr_storage ss = Loopback(port);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&ss), sizeof(sockaddr_in)) < 0) {
    ADD_FAILURE() << "bind failed";
  }
  return fd;
}

uint16_t PortOf(int fd) {
  sockaddr_in in{};
  socklen_t len = sizeof in;
  getsockname(fd, reinterpret_cast<sockaddr*>(&in), &len);
  return ntohs(in.sin_port);
}

// One datagram (or TCP message) a fake upstream sends back.
struct Reply {
  std::string wire;
  bool from_other_socket = false;  // spoofed: sent from another port of the same host
};

// A fake resolver on 127.0.0.1 (UDP, and TCP on the same port when a TCP handler is given),
// answering from its own thread with whatever the handler returns for each query.
class FakeUpstream {
 public:
  using Handler = std::function<std::vector<Reply>(const Message& query)>;

  explicit FakeUpstream(Handler udp, Handler tcp = nullptr)
      : udp_handler_(std::move(udp)), tcp_handler_(std::move(tcp)) {
    spoof_fd_ = BoundSocket(SOCK_DGRAM, 0);
    // The kernel's free UDP port may be taken for TCP (tests run in parallel): pick again.
    for (int attempt = 0; attempt < 20; ++attempt) {
      udp_fd_ = BoundSocket(SOCK_DGRAM, 0);
      if (!tcp_handler_) break;
      tcp_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_storage ss = Loopback(PortOf(udp_fd_));
      if (bind(tcp_fd_, reinterpret_cast<sockaddr*>(&ss), sizeof(sockaddr_in)) == 0) {
        listen(tcp_fd_, 16);
        break;
      }
      close(tcp_fd_);
      close(udp_fd_);
      tcp_fd_ = -1;
    }
    if (tcp_handler_ && tcp_fd_ < 0) ADD_FAILURE() << "no port free for both UDP and TCP";
    thread_ = std::thread([this] { Run(); });
  }
  ~FakeUpstream() {
    stop_ = true;
    thread_.join();
    for (int fd : {udp_fd_, spoof_fd_, tcp_fd_})
      if (fd >= 0) close(fd);
  }

  sockaddr_storage address() const { return Loopback(PortOf(udp_fd_)); }
  int udp_queries() const { return udp_queries_; }
  int tcp_queries() const { return tcp_queries_; }

 private:
  void Run() {
    while (!stop_) {
      pollfd fds[2] = {{udp_fd_, POLLIN, 0}, {tcp_fd_, POLLIN, 0}};
      if (poll(fds, tcp_fd_ >= 0 ? 2 : 1, 20) <= 0) continue;
      if (fds[0].revents & POLLIN) ServeUdp();
      if (tcp_fd_ >= 0 && (fds[1].revents & POLLIN)) ServeTcp();
    }
  }

  void ServeUdp() {
    uint8_t buf[65536];
    sockaddr_storage from{};
    socklen_t from_len = sizeof from;
    ssize_t n = recvfrom(udp_fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n <= 0) return;
    ++udp_queries_;
    auto q = Message::Parse(buf, static_cast<size_t>(n));
    if (!q.ok()) return;
    for (const Reply& r : udp_handler_(*q)) {
      sendto(r.from_other_socket ? spoof_fd_ : udp_fd_, r.wire.data(), r.wire.size(), 0,
             reinterpret_cast<sockaddr*>(&from), from_len);
    }
  }

  void ServeTcp() {
    int c = accept4(tcp_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return;
    timeval tv{1, 0};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    uint8_t buf[65537];
    size_t got = 0;
    while (got < 2 || got < 2 + (size_t{buf[0]} << 8 | buf[1])) {
      ssize_t n = recv(c, buf + got, sizeof buf - got, 0);
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    ++tcp_queries_;
    auto q = Message::Parse(buf + 2, got >= 2 ? got - 2 : 0);
    if (q.ok()) {
      for (const Reply& r : tcp_handler_(*q)) {
        std::string framed{static_cast<char>(r.wire.size() >> 8), static_cast<char>(r.wire.size())};
        framed += r.wire;
        send(c, framed.data(), framed.size(), MSG_NOSIGNAL);
      }
    }
    close(c);
  }

  Handler udp_handler_, tcp_handler_;
  int udp_fd_ = -1, spoof_fd_ = -1, tcp_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<int> udp_queries_{0}, tcp_queries_{0};
  std::thread thread_;
};

// The answer a well-behaved upstream gives: one A record `addr` for the question.
std::string GoodAnswer(const Message& q, const std::string& addr = A(192, 0, 2, 1)) {
  Message r = ResponseTo(q);
  r.answers.push_back(Rr(q.questions[0].name.ToText(), type::kA, 300, addr));
  return r.Build();
}

std::vector<Reply> Answers(const Message& q) { return {{GoodAnswer(q)}}; }

struct Outcome {
  std::string wire;
  uint16_t rcode;
};

// Collects callbacks from the forwarder thread; waits are bounded.
class Results {
 public:
  Forwarder::Callback Callback() {
    return [this](std::string_view wire, uint16_t rc) {
      std::lock_guard lock(mu_);
      got_.push_back({std::string(wire), rc});
      cv_.notify_all();
    };
  }
  bool WaitFor(size_t n, std::chrono::milliseconds limit = 5000ms) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return got_.size() >= n; });
  }
  Outcome at(size_t i) {
    std::lock_guard lock(mu_);
    return got_.at(i);
  }
  size_t size() {
    std::lock_guard lock(mu_);
    return got_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Outcome> got_;
};

ForwardRequest Req(std::string_view name, uint16_t qtype = type::kA) {
  return ForwardRequest{std::string(N(name).wire()), qtype, cls::kIN, false};
}

std::unique_ptr<Forwarder> StartForwarder(std::vector<sockaddr_storage> upstreams,
                                          AnswerCache* cache = nullptr,
                                          std::chrono::milliseconds timeout = 300ms,
                                          size_t max_in_flight = 4096) {
  ForwarderOptions opt;
  opt.upstreams = std::move(upstreams);
  opt.timeout = timeout;
  opt.cache = cache;
  opt.max_in_flight = max_in_flight;
  auto f = Forwarder::Start(std::move(opt));
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  return f.ok() ? std::move(*f) : nullptr;
}

// Resolves one question and waits (bounded) for its callback; `elapsed` gets the time taken.
Outcome ResolveOne(Forwarder& f, std::string_view name,
                   std::chrono::steady_clock::duration* elapsed = nullptr) {
  Results r;
  auto start = std::chrono::steady_clock::now();
  f.Resolve(Req(name), r.Callback());
  if (!r.WaitFor(1)) {
    ADD_FAILURE() << "no callback for " << name;
    return {"", 0xFFFF};
  }
  if (elapsed) *elapsed = std::chrono::steady_clock::now() - start;
  return r.at(0);
}

// The first A record's address in an answer, or "" when there is none.
std::string FirstAddress(const Outcome& o) {
  auto m = Message::Parse(Bytes(o.wire), o.wire.size());
  if (!m.ok() || m->answers.empty()) return "";
  return m->answers[0].rdata;
}

TEST(ForwarderTest, ForwardsAndFillsCache) {
  FakeUpstream up(Answers);
  AnswerCache cache;
  auto f = StartForwarder({up.address()}, &cache);
  Outcome o = ResolveOne(*f, "WWW.example.");
  EXPECT_EQ(o.rcode, rcode::kNoError);
  EXPECT_EQ(FirstAddress(o), A(192, 0, 2, 1));

  std::string query = QueryMsg(77, "www.EXAMPLE.", type::kA).Build();
  std::string client = RewriteForClient(o.wire, Bytes(query), query.size(), 512);
  auto m = Message::Parse(Bytes(client), client.size());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->id, 77);

  auto info = ParseQuery(Bytes(query), query.size());
  uint8_t out[512];
  EXPECT_GT(cache.Lookup(CacheKey::FromQuery(Bytes(query), *info), Bytes(query), query.size(),
                         out, sizeof out, AnswerCache::Clock::now()),
            0u);
  ForwarderStats st = f->Stats();
  EXPECT_EQ(st.upstreams[0].queries, 1u);
  EXPECT_EQ(st.upstreams[0].answers, 1u);
}

TEST(ForwarderTest, SendsRdEdnsAndRandomIds) {
  std::mutex mu;
  std::vector<Message> seen;
  FakeUpstream up([&](const Message& q) {
    std::lock_guard lock(mu);
    seen.push_back(q);
    return Answers(q);
  });
  auto f = StartForwarder({up.address()});
  Results r;
  for (int i = 0; i < 8; ++i) f->Resolve(Req("n" + std::to_string(i) + ".example."), r.Callback());
  ASSERT_TRUE(r.WaitFor(8));
  std::lock_guard lock(mu);
  ASSERT_EQ(seen.size(), 8u);
  std::set<uint16_t> ids;
  for (const Message& q : seen) {
    EXPECT_TRUE(q.has(flag::kRD));
    ASSERT_TRUE(q.edns);
    EXPECT_EQ(q.edns->udp_size, kDefaultEdnsSize);
    ids.insert(q.id);
  }
  EXPECT_GT(ids.size(), 4u);  // eight 16-bit random IDs: a collision of many is not chance
}

TEST(ForwarderTest, IgnoresWrongIdAndWrongQuestion) {
  FakeUpstream up([](const Message& q) {
    Message wrong_id = q;
    wrong_id.id = static_cast<uint16_t>(q.id + 1);
    Message other = q;
    other.questions[0].name = N("evil.example.");
    return std::vector<Reply>{{GoodAnswer(wrong_id, A(6, 6, 6, 6))},
                              {GoodAnswer(other, A(6, 6, 6, 7))},
                              {"short"},
                              {GoodAnswer(q)}};
  });
  auto f = StartForwarder({up.address()});
  Outcome o = ResolveOne(*f, "www.example.");
  EXPECT_EQ(FirstAddress(o), A(192, 0, 2, 1));
  EXPECT_EQ(f->Stats().ignored, 3u);
}

TEST(ForwarderTest, IgnoresAnswerFromOtherAddress) {
  FakeUpstream up([](const Message& q) {
    return std::vector<Reply>{{GoodAnswer(q, A(6, 6, 6, 6)), true}, {GoodAnswer(q)}};
  });
  auto f = StartForwarder({up.address()});
  Outcome o = ResolveOne(*f, "www.example.");
  EXPECT_EQ(FirstAddress(o), A(192, 0, 2, 1));
}

TEST(ForwarderTest, TimeoutMovesToNextUpstream) {
  FakeUpstream silent([](const Message&) { return std::vector<Reply>{}; });
  FakeUpstream good(Answers);
  auto f = StartForwarder({silent.address(), good.address()}, nullptr, 200ms);
  std::chrono::steady_clock::duration elapsed{};
  Outcome o = ResolveOne(*f, "www.example.", &elapsed);
  EXPECT_GE(elapsed, 200ms);
  EXPECT_EQ(FirstAddress(o), A(192, 0, 2, 1));
  ForwarderStats st = f->Stats();
  EXPECT_EQ(st.upstreams[0].timeouts, 1u);
  EXPECT_EQ(st.upstreams[1].answers, 1u);
}

TEST(ForwarderTest, SetUpstreamsAppliesToTheNextQuestion) {
  FakeUpstream first([](const Message& q) { return std::vector<Reply>{{GoodAnswer(q, A(192, 0, 2, 11))}}; });
  FakeUpstream second([](const Message& q) { return std::vector<Reply>{{GoodAnswer(q, A(192, 0, 2, 22))}}; });
  auto f = StartForwarder({first.address()});
  EXPECT_EQ(FirstAddress(ResolveOne(*f, "a.example.")), A(192, 0, 2, 11));

  ASSERT_TRUE(f->SetUpstreams({second.address(), first.address()}).ok());
  EXPECT_EQ(FirstAddress(ResolveOne(*f, "b.example.")), A(192, 0, 2, 22));
  ForwarderStats st = f->Stats();
  ASSERT_EQ(st.upstreams.size(), 2u);  // the new list, counted from zero
  EXPECT_EQ(st.upstreams[0].answers, 1u);
  EXPECT_EQ(st.upstreams[1].queries, 0u);
  EXPECT_EQ(first.udp_queries(), 1);

  // A bad list changes nothing.
  EXPECT_EQ(f->SetUpstreams({}).code(), Code::kInvalidArgument);
  sockaddr_storage unix_address{};
  unix_address.ss_family = AF_UNIX;
  EXPECT_EQ(f->SetUpstreams({unix_address}).code(), Code::kInvalidArgument);
  EXPECT_EQ(FirstAddress(ResolveOne(*f, "c.example.")), A(192, 0, 2, 22));
}

TEST(ForwarderTest, ServfailAndRefusedMoveOnThenFail) {
  FakeUpstream servfail([](const Message& q) {
    return std::vector<Reply>{{ResponseTo(q, rcode::kServFail).Build()}};
  });
  FakeUpstream refused([](const Message& q) {
    return std::vector<Reply>{{ResponseTo(q, rcode::kRefused).Build()}};
  });
  auto f = StartForwarder({servfail.address(), refused.address()});
  Outcome o = ResolveOne(*f, "www.example.");
  EXPECT_TRUE(o.wire.empty());
  EXPECT_EQ(o.rcode, rcode::kServFail);
  EXPECT_EQ(servfail.udp_queries(), 1);
  EXPECT_EQ(refused.udp_queries(), 1);
  EXPECT_EQ(f->Stats().failures, 1u);
}

TEST(ForwarderTest, AllServfailIsCachedBriefly) {
  FakeUpstream servfail([](const Message& q) {
    return std::vector<Reply>{{ResponseTo(q, rcode::kServFail).Build()}};
  });
  AnswerCache cache;
  auto f = StartForwarder({servfail.address()}, &cache);
  Outcome o = ResolveOne(*f, "broken.example.");
  EXPECT_TRUE(o.wire.empty());
  EXPECT_EQ(cache.Stats().entries, 1u);
}

TEST(ForwarderTest, RefusedPortFailsOverWithoutWaiting) {
  int closed = BoundSocket(SOCK_DGRAM, 0);
  sockaddr_storage dead = Loopback(PortOf(closed));
  close(closed);
  FakeUpstream good(Answers);
  auto f = StartForwarder({dead, good.address()}, nullptr, 2000ms);
  std::chrono::steady_clock::duration elapsed{};
  Outcome o = ResolveOne(*f, "www.example.", &elapsed);
  EXPECT_LT(elapsed, 1500ms);
  EXPECT_EQ(FirstAddress(o), A(192, 0, 2, 1));
  EXPECT_EQ(f->Stats().upstreams[0].errors, 1u);
}

TEST(ForwarderTest, TruncatedAnswerRetriesOverTcp) {
  FakeUpstream up(
      [](const Message& q) {
        Message tc = ResponseTo(q);
        tc.flags |= flag::kTC;
        return std::vector<Reply>{{tc.Build()}};
      },
      [](const Message& q) {
        Message full = ResponseTo(q);
        for (int i = 0; i < 100; ++i)
          full.answers.push_back(Rr("big.example.", type::kA, 60, A(10, 0, 0, static_cast<uint8_t>(i))));
        return std::vector<Reply>{{full.Build()}};
      });
  AnswerCache cache;
  auto f = StartForwarder({up.address()}, &cache);
  Outcome o = ResolveOne(*f, "big.example.");
  auto m = Message::Parse(Bytes(o.wire), o.wire.size());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->answers.size(), 100u);
  EXPECT_FALSE(m->has(flag::kTC));
  EXPECT_EQ(up.udp_queries(), 1);
  EXPECT_EQ(up.tcp_queries(), 1);
  EXPECT_EQ(cache.Stats().entries, 1u);
}

TEST(ForwarderTest, CoalescesIdenticalQuestions) {
  FakeUpstream up([](const Message& q) {
    std::this_thread::sleep_for(150ms);  // keep the question in flight while others join
    return Answers(q);
  });
  auto f = StartForwarder({up.address()}, nullptr, 2000ms);
  Results r;
  constexpr int kClients = 10;
  for (int i = 0; i < kClients; ++i)
    f->Resolve(Req(i % 2 ? "WWW.example." : "www.EXAMPLE."), r.Callback());
  f->Resolve(Req("www.example.", type::kAAAA), r.Callback());  // another question
  ASSERT_TRUE(r.WaitFor(kClients + 1));
  for (int i = 0; i < kClients + 1; ++i) EXPECT_EQ(r.at(i).rcode, rcode::kNoError);
  EXPECT_EQ(up.udp_queries(), 2);
  EXPECT_EQ(f->Stats().coalesced, kClients - 1u);
}

TEST(ForwarderTest, BoundsInFlightAndStopFailsOutstanding) {
  FakeUpstream silent([](const Message&) { return std::vector<Reply>{}; });
  auto f = StartForwarder({silent.address()}, nullptr, 10000ms, 2);
  Results r;
  f->Resolve(Req("a.example."), r.Callback());
  f->Resolve(Req("b.example."), r.Callback());
  f->Resolve(Req("c.example."), r.Callback());  // over the bound: fails at once
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r.at(0).wire.empty());
  EXPECT_EQ(f->Stats().rejected, 1u);
  f->Stop();
  ASSERT_TRUE(r.WaitFor(3, 100ms));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(r.at(i).rcode, rcode::kServFail);
  f->Resolve(Req("d.example."), r.Callback());  // after Stop: fails at once
  EXPECT_EQ(r.size(), 4u);
}

TEST(ForwarderTest, RejectsBadOptions) {
  EXPECT_FALSE(Forwarder::Start(ForwarderOptions{}).ok());
  ForwarderOptions opt;
  opt.upstreams.push_back(sockaddr_storage{});
  EXPECT_FALSE(Forwarder::Start(std::move(opt)).ok());
}

}  // namespace
}  // namespace berth::dns
