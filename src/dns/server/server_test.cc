#include "dns/server/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <dirent.h>
#include <sys/socket.h>

#include <map>
#include <thread>

#include "dns/wire/message.h"
#include "dns/zonefile/zonefile.h"

namespace berth::dns {
namespace {

Name N(std::string_view t) { return *Name::FromText(t); }

// Answers every forwarded question with one A record, on another thread, after a delay.
class FakeRecursor : public Recursor {
 public:
  size_t FromCache(const ParsedQuery&, const uint8_t*, size_t, uint16_t, uint8_t*, size_t) override { return 0; }
  void Resolve(const ParsedQuery& q, const uint8_t* query, size_t len, uint16_t, std::function<void(std::string)> done) override {
    auto parsed = Message::Parse(query, len);
    std::thread([m = *parsed, done, fail = fail_]() mutable {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (fail) return done({});
      m.flags |= flag::kQR | flag::kRA;
      m.answers.push_back({m.questions[0].name, type::kA, cls::kIN, 60, std::string("\x0a\0\0\x07", 4)});
      done(m.Build());
    }).detach();
  }
  bool fail_ = false;
};

// Answers every handed-off message on another thread: `copies` copies of the request turned
// into a response (several = a zone transfer stream over TCP).
class FakeHandler : public MessageHandler {
 public:
  void Handle(const ParsedQuery&, std::string message, const Client& client,
              std::function<void(std::vector<std::string>)> done) override {
    ++calls;
    last_tcp = client.tcp;
    int copies = copies_;
    std::thread([message, done, copies]() mutable {
      message[2] = static_cast<char>(message[2] | 0x80);  // QR
      done(std::vector<std::string>(static_cast<size_t>(copies), message));
    }).detach();
  }
  std::atomic<int> calls{0};
  std::atomic<bool> last_tcp{false};
  int copies_ = 1;
};

class DnsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto records = ParseZoneText("$TTL 300\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\nwww A 192.0.2.80\n",
                                 N("example."), "test");
    table_.Publish(std::make_shared<ZoneSet>(std::vector<std::shared_ptr<const Zone>>{*Zone::Build(N("example."), *records)}));
  }

  void StartServer(int max_conns = 100, std::chrono::milliseconds idle = std::chrono::milliseconds(10000),
                   const std::function<void(DnsServerOptions&)>& tweak = nullptr) {
    DnsServerOptions opts;
    opts.listen.push_back(*SocketAddress::Parse("127.0.0.1:0"));
    opts.workers = 2;
    opts.tuning.tcp_max_connections = max_conns;
    opts.tuning.tcp_idle_timeout = idle;
    opts.tuning.allow_recursion.push_back(*Cidr::Parse("127.0.0.0/8"));
    if (tweak) tweak(opts);
    server_ = std::make_unique<DnsServer>(opts, table_, &recursor_, &metrics_);
    server_->SetMessageHandler(&handler_);
    ASSERT_TRUE(server_->Start().ok());
    port_ = server_->bound()[0].port();
    ASSERT_NE(port_, 0);
  }

  sockaddr_in Addr() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port_);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
  }

  static std::string Query(std::string_view name, uint16_t id) {
    Message m;
    m.id = id;
    m.flags = flag::kRD;
    m.questions.push_back({N(name), type::kA, cls::kIN});
    return m.Build();
  }

  Message Udp(const std::string& query) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a = Addr();
    sendto(fd, query.data(), query.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
    pollfd p{fd, POLLIN, 0};
    char buf[4096];
    ssize_t n = poll(&p, 1, 3000) == 1 ? recv(fd, buf, sizeof buf, 0) : -1;
    close(fd);
    if (n <= 0) return Message{};
    return *Message::Parse(reinterpret_cast<uint8_t*>(buf), static_cast<size_t>(n));
  }

  int TcpConnect() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a = Addr();
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    return fd;
  }

  // Reads one framed message (or returns nullopt on EOF/timeout).
  static std::optional<Message> ReadFramed(int fd, int timeout_ms = 3000) {
    std::string buf;
    size_t need = 2;
    while (buf.size() < need) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, timeout_ms) != 1) return std::nullopt;
      char c[4096];
      ssize_t n = recv(fd, c, std::min(sizeof c, need - buf.size()), 0);
      if (n <= 0) return std::nullopt;
      buf.append(c, static_cast<size_t>(n));
      if (buf.size() == 2 && need == 2) need = 2 + (static_cast<uint8_t>(buf[0]) << 8 | static_cast<uint8_t>(buf[1]));
    }
    return *Message::Parse(reinterpret_cast<const uint8_t*>(buf.data() + 2), buf.size() - 2);
  }

  static std::string Framed(const std::string& m) {
    std::string out(2, '\0');
    out[0] = static_cast<char>(m.size() >> 8);
    out[1] = static_cast<char>(m.size());
    return out + m;
  }

  // A counter from the metrics text (0 when absent).
  uint64_t Metric(std::string_view name) {
    std::string text = metrics_.Render();
    std::string key = std::string(name) + " ";
    size_t at = text.find("\n" + key);
    return at == std::string::npos ? 0 : std::stoull(text.substr(at + 1 + key.size()));
  }

  // From one socket, sends `count` queries in one burst (names taken in turn from `names`, so
  // that answers of equal and of different sizes mix) to `to`, then reads every answer:
  // each must arrive once, from `to`, with its ID and the answer for its own name.
  void Burst(const SocketAddress& to, const std::vector<std::string>& names, int count, uint16_t first_id) {
    sockaddr_storage dst;
    socklen_t dst_len = to.ToSockaddr(&dst);
    int fd = socket(dst.ss_family, SOCK_DGRAM, 0);
    ASSERT_GE(fd, 0);
    std::map<uint16_t, std::string> asked;
    for (int i = 0; i < count; ++i) {
      uint16_t id = static_cast<uint16_t>(first_id + i);
      asked[id] = names[static_cast<size_t>(i) % names.size()];
      std::string q = Query(asked[id], id);
      ASSERT_EQ(sendto(fd, q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&dst), dst_len),
                static_cast<ssize_t>(q.size()));
    }
    for (int i = 0; i < count; ++i) {
      pollfd p{fd, POLLIN, 0};
      ASSERT_EQ(poll(&p, 1, 3000), 1) << "answer " << i << " of " << count << " missing";
      char buf[4096];
      sockaddr_storage from{};
      socklen_t from_len = sizeof from;
      ssize_t n = recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
      ASSERT_GT(n, 0);
      auto from_addr = SocketAddress::FromSockaddr(from);
      ASSERT_TRUE(from_addr.ok());
      EXPECT_EQ(from_addr->ToString(), to.ToString());
      auto m = Message::Parse(reinterpret_cast<uint8_t*>(buf), static_cast<size_t>(n));
      ASSERT_TRUE(m.ok());
      auto it = asked.find(m->id);
      ASSERT_NE(it, asked.end()) << "unexpected or repeated ID " << m->id;
      ASSERT_EQ(m->questions.size(), 1u);
      EXPECT_EQ(m->questions[0].name, N(it->second));
      if (it->second == "www.example.") {
        ASSERT_EQ(m->answers.size(), 1u);
        EXPECT_EQ(m->answers[0].rdata, std::string("\xc0\x00\x02\x50", 4));
      } else if (it->second == "ns.example.") {
        ASSERT_EQ(m->answers.size(), 1u);
        EXPECT_EQ(m->answers[0].rdata, std::string("\xc0\x00\x02\x01", 4));
      } else {
        EXPECT_EQ(m->rcode(), rcode::kNXDomain);
      }
      asked.erase(it);
    }
    close(fd);
  }

  ZoneTable table_;
  FakeHandler handler_;
  FakeRecursor recursor_;
  DnsMetrics metrics_;
  std::unique_ptr<DnsServer> server_;
  uint16_t port_ = 0;
};

TEST_F(DnsServerTest, AnswersOverUdpAndForwards) {
  StartServer();
  Message r = Udp(Query("www.example.", 11));
  EXPECT_EQ(r.id, 11);
  ASSERT_EQ(r.answers.size(), 1u);
  EXPECT_TRUE(r.has(flag::kAA));
  Message f = Udp(Query("elsewhere.test.", 12));
  EXPECT_EQ(f.id, 12);
  ASSERT_EQ(f.answers.size(), 1u);
  EXPECT_TRUE(f.has(flag::kRA));
  recursor_.fail_ = true;
  Message sf = Udp(Query("broken.test.", 13));
  EXPECT_EQ(sf.rcode(), rcode::kServFail);
  server_->Stop();
  std::string metrics = metrics_.Render();
  EXPECT_NE(metrics.find("berth_dns_forwarded_total 2"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("berth_dns_upstream_errors_total 1"), std::string::npos);
}

TEST_F(DnsServerTest, TcpPipelinesAndReturnsForwardedAnswersLater) {
  StartServer();
  int fd = TcpConnect();
  std::string batch = Framed(Query("elsewhere.test.", 1)) + Framed(Query("www.example.", 2)) + Framed(Query("www.example.", 3));
  ASSERT_EQ(send(fd, batch.data(), batch.size(), 0), static_cast<ssize_t>(batch.size()));
  std::vector<uint16_t> ids;
  for (int i = 0; i < 3; ++i) {
    auto m = ReadFramed(fd);
    ASSERT_TRUE(m);
    ids.push_back(m->id);
  }
  // Local answers come first; the forwarded one follows when the upstream answers.
  EXPECT_EQ(ids, (std::vector<uint16_t>{2, 3, 1}));
  close(fd);
}

TEST_F(DnsServerTest, HandsOffUpdatesTransfersAndSignedMessages) {
  StartServer();
  Message update;
  update.id = 21;
  update.flags = static_cast<uint16_t>(opcode::kUpdate << 11);
  update.questions.push_back({N("example."), type::kSOA, cls::kIN});
  Message r = Udp(update.Build());
  EXPECT_EQ(r.id, 21);
  EXPECT_EQ(handler_.calls.load(), 1);
  EXPECT_FALSE(handler_.last_tcp.load());
  // A transfer over TCP: every message of the stream arrives, in order.
  handler_.copies_ = 3;
  Message axfr;
  axfr.id = 22;
  axfr.questions.push_back({N("example."), type::kAXFR, cls::kIN});
  int fd = TcpConnect();
  std::string q = Framed(axfr.Build()) + Framed(Query("www.example.", 23));
  ASSERT_EQ(send(fd, q.data(), q.size(), 0), static_cast<ssize_t>(q.size()));
  std::vector<uint16_t> ids;
  for (int i = 0; i < 4; ++i) {
    auto m = ReadFramed(fd);
    ASSERT_TRUE(m);
    ids.push_back(m->id);
  }
  EXPECT_EQ(ids, (std::vector<uint16_t>{23, 22, 22, 22}));
  EXPECT_TRUE(handler_.last_tcp.load());
  EXPECT_EQ(handler_.calls.load(), 2);
  close(fd);
  // Ordinary queries never reach the handler.
  EXPECT_EQ(Udp(Query("www.example.", 24)).answers.size(), 1u);
  EXPECT_EQ(handler_.calls.load(), 2);
}

TEST_F(DnsServerTest, TcpIdleTimeoutAndConnectionLimit) {
  StartServer(/*max_conns=*/2, std::chrono::milliseconds(200));
  int a = TcpConnect(), b = TcpConnect();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  int c = TcpConnect();  // over the limit: closed at once
  EXPECT_FALSE(ReadFramed(c, 1000));
  close(c);
  // Idle connections are closed after the timeout (checked once a second).
  EXPECT_FALSE(ReadFramed(a, 3000));
  close(a);
  close(b);
  int d = TcpConnect();
  std::string q = Framed(Query("www.example.", 9));
  send(d, q.data(), q.size(), 0);
  auto m = ReadFramed(d);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->id, 9);
  close(d);
}

TEST_F(DnsServerTest, RetuneTakesEffectAtTheNextQuery) {
  StartServer();
  EXPECT_EQ(Udp(Query("elsewhere.test.", 1)).answers.size(), 1u);  // 127/8 may recurse

  DnsServerTuning closed = server_->tuning();
  closed.allow_recursion.clear();
  server_->Retune(closed);
  EXPECT_EQ(Udp(Query("elsewhere.test.", 2)).rcode(), rcode::kRefused);
  EXPECT_EQ(Udp(Query("www.example.", 3)).answers.size(), 1u);  // authoritative answers stay
  int fd = TcpConnect();
  std::string q = Framed(Query("elsewhere.test.", 4));
  send(fd, q.data(), q.size(), 0);
  auto m = ReadFramed(fd);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->rcode(), rcode::kRefused);
  close(fd);

  // The connection limit, too: with one allowed, a second connection is closed at once.
  DnsServerTuning one = closed;
  one.tcp_max_connections = 1;
  one.allow_recursion.push_back(*Cidr::Parse("127.0.0.1/32"));
  server_->Retune(one);
  // The server counts `fd` until it has seen it close: retry until it has.
  int a = -1;
  m.reset();
  for (int attempt = 0; attempt < 10 && !m; ++attempt) {
    if (a >= 0) close(a);
    a = TcpConnect();
    q = Framed(Query("elsewhere.test.", 5));
    send(a, q.data(), q.size(), 0);
    m = ReadFramed(a, 500);
  }
  ASSERT_TRUE(m);
  EXPECT_EQ(m->answers.size(), 1u);  // recursion is back for 127.0.0.1
  int b = TcpConnect();
  EXPECT_FALSE(ReadFramed(b, 1000));
  close(b);
  close(a);

  // Out-of-range EDNS sizes are clamped as at construction.
  one.edns_udp_size = 100;
  server_->Retune(one);
  EXPECT_EQ(server_->tuning().edns_udp_size, kMinUdpSize);
}

TEST_F(DnsServerTest, SeesPublishedZonesAtOnce) {
  StartServer();
  EXPECT_EQ(Udp(Query("new.example.", 1)).rcode(), rcode::kNXDomain);
  auto records = ParseZoneText("$TTL 300\n@ SOA ns h 2 2 3 4 5\n@ NS ns\nnew A 192.0.2.9\n", N("example."), "test");
  table_.Update([&](const ZoneSet& s) { return s.With(*Zone::Build(N("example."), *records)); });
  EXPECT_EQ(Udp(Query("new.example.", 2)).answers.size(), 1u);
}

const std::vector<std::string> kBurstNames = {"www.example.", "www.example.", "ns.example.", "nothere.example."};

TEST_F(DnsServerTest, EqualSizeAnswersToOneClientGoOutAsGsoGroups) {
  StartServer();
  // Bursts from one socket: the worker reads several queries at once, and the equal-size
  // answers among them leave in GSO sends. Every answer still arrives on its own, intact.
  SocketAddress to = server_->bound()[0];
  for (int burst = 0; burst < 50 && Metric("berth_dns_udp_gso_answers_total") == 0; ++burst) {
    Burst(to, kBurstNames, 32, static_cast<uint16_t>(burst * 100));
  }
  EXPECT_GT(Metric("berth_dns_udp_gso_answers_total"), 0u);
  EXPECT_GE(Metric("berth_dns_udp_queries_total"), 32u);
}

TEST_F(DnsServerTest, WithoutGsoEveryAnswerIsSentAlone) {
  StartServer(100, std::chrono::milliseconds(10000), [](DnsServerOptions& o) { o.udp_gso = false; });
  for (int burst = 0; burst < 10; ++burst) Burst(server_->bound()[0], kBurstNames, 32, static_cast<uint16_t>(burst * 100));
  EXPECT_EQ(Metric("berth_dns_udp_gso_answers_total"), 0u);
}

TEST_F(DnsServerTest, RefusedGsoFallsBackToOneSendPerAnswer) {
  StartServer();
  // UDP without checksums (SO_NO_CHECK) makes the kernel refuse every GSO send (EINVAL), as a
  // route without checksum offload or over IPsec would: the answers must go out one by one.
  int found = 0;
  DIR* dir = opendir("/proc/self/fd");
  ASSERT_NE(dir, nullptr);
  while (dirent* e = readdir(dir)) {
    int fd = atoi(e->d_name);
    int type = 0;
    socklen_t type_len = sizeof type;
    sockaddr_storage local{};
    socklen_t local_len = sizeof local;
    if (fd <= 2 || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_len) != 0 || type != SOCK_DGRAM ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0 || local.ss_family != AF_INET ||
        ntohs(reinterpret_cast<sockaddr_in*>(&local)->sin_port) != port_) {
      continue;
    }
    int one = 1;
    ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_NO_CHECK, &one, sizeof one), 0);
    ++found;
  }
  closedir(dir);
  ASSERT_EQ(found, 2);  // one socket per UDP worker
  for (int burst = 0; burst < 20; ++burst) Burst(server_->bound()[0], kBurstNames, 32, static_cast<uint16_t>(burst * 100));
  EXPECT_EQ(Metric("berth_dns_udp_gso_answers_total"), 0u);
}

TEST_F(DnsServerTest, WildcardListenersAnswerFromTheAddressAsked) {
  // Answers carry IP_PKTINFO / IPV6_PKTINFO, also inside GSO sends: they leave from the local
  // address each query came to (127.0.0.2 is a second local address on lo).
  for (const char* any : {"0.0.0.0:0", "[::]:0"}) {
    SCOPED_TRACE(any);
    server_.reset();
    StartServer(100, std::chrono::milliseconds(10000), [any](DnsServerOptions& o) { o.listen = {*SocketAddress::Parse(any)}; });
    bool v6 = std::string_view(any)[0] == '[';
    for (const char* ip : v6 ? std::vector<const char*>{"::1"} : std::vector<const char*>{"127.0.0.1", "127.0.0.2"}) {
      auto to = SocketAddress::Parse(std::string(v6 ? "[" : "") + ip + (v6 ? "]:" : ":") + std::to_string(port_));
      ASSERT_TRUE(to.ok());
      for (int burst = 0; burst < 10; ++burst) Burst(*to, kBurstNames, 32, static_cast<uint16_t>(burst * 100));
    }
  }
  EXPECT_GT(Metric("berth_dns_udp_gso_answers_total"), 0u);
}

TEST_F(DnsServerTest, StopIsPromptAndFreesThePort) {
  StartServer();
  auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a = Addr();
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  close(fd);
}

}  // namespace
}  // namespace berth::dns
