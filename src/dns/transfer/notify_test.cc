#include "dns/transfer/notify.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "dns/wire/message.h"

namespace berth::dns::transfer {
namespace {

using namespace std::chrono_literals;

Name N(const char* t) { return *Name::FromText(t); }

// A stand-in secondary on a loopback UDP port: hands every datagram to `reply`, which returns
// the answer to send (or nothing). Bounded: the thread polls with a short timeout.
class FakeSecondary {
 public:
  using ReplyFn = std::function<std::optional<std::string>(const std::string& request, int n)>;

  explicit FakeSecondary(ReplyFn reply) : reply_(std::move(reply)) {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    socklen_t len = sizeof sa;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    address_ = SocketAddress(*IpAddress::Parse("127.0.0.1"), ntohs(sa.sin_port));
    thread_ = std::thread([this] { Loop(); });
  }
  ~FakeSecondary() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }

  const SocketAddress& address() const { return address_; }
  int received() const { return received_.load(); }

 private:
  void Loop() {
    char buf[4096];
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      sockaddr_storage peer{};
      socklen_t plen = sizeof peer;
      ssize_t n = recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&peer), &plen);
      if (n <= 0) continue;
      int count = ++received_;
      if (auto answer = reply_(std::string(buf, static_cast<size_t>(n)), count)) {
        sendto(fd_, answer->data(), answer->size(), 0, reinterpret_cast<sockaddr*>(&peer), plen);
      }
    }
  }

  ReplyFn reply_;
  int fd_ = -1;
  SocketAddress address_;
  std::atomic<bool> stop_{false};
  std::atomic<int> received_{0};
  std::thread thread_;
};

Message ParseMsg(const std::string& w) {
  auto m = Message::Parse(reinterpret_cast<const uint8_t*>(w.data()), w.size());
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? *m : Message{};
}

// The answer a secondary gives: the request with QR set and `rc`, TSIG stripped.
std::string Ack(const std::string& request, uint16_t rc = rcode::kNoError, int id_delta = 0) {
  Message m = ParseMsg(request);
  m.additional.clear();
  m.id = static_cast<uint16_t>(m.id + id_delta);
  m.flags |= flag::kQR;
  m.set_rcode(rc);
  return m.Build();
}

NotifierOptions Fast(int tries = 3) { return NotifierOptions{tries, 40ms}; }

// Starts `n` and notifies example. (serial 1) to `sec`.
void StartAndNotify(Notifier& n, const FakeSecondary& sec, const TsigKey* key = nullptr) {
  ASSERT_TRUE(n.Start().ok());
  n.ZoneChanged(N("example."), 1, {sec.address()}, key);
}

// Bounded wait for a condition.
bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds limit = 3000ms) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return cond();
}

TEST(Notifier, SendsNotifyAndStopsOnTheAck) {
  std::string seen;
  FakeSecondary sec([&](const std::string& req, int) {
    seen = req;
    return Ack(req);
  });
  Notifier n(Fast());
  ASSERT_TRUE(n.Start().ok());
  n.ZoneChanged(N("example."), 42, {sec.address()});
  ASSERT_TRUE(WaitFor([&] { return n.counters().acked == 1; }));
  std::this_thread::sleep_for(200ms);  // no retry after the ack
  EXPECT_EQ(sec.received(), 1);
  NotifyCounters c = n.counters();
  EXPECT_EQ(c.sent, 1u);
  EXPECT_EQ(c.failed, 0u);
  EXPECT_EQ(n.pending(), 0u);
  Message m = ParseMsg(seen);
  EXPECT_EQ(m.opcode(), opcode::kNotify);
  EXPECT_TRUE(m.has(flag::kAA));
  EXPECT_FALSE(m.has(flag::kQR));
  ASSERT_EQ(m.questions.size(), 1u);
  EXPECT_EQ(m.questions[0].name, N("example."));
  EXPECT_EQ(m.questions[0].type, type::kSOA);
  EXPECT_EQ(m.questions[0].cls, cls::kIN);
}

TEST(Notifier, RetriesWithBackoffUntilAnswered) {
  std::vector<std::chrono::steady_clock::time_point> times;
  FakeSecondary sec([&](const std::string& req, int count) -> std::optional<std::string> {
    times.push_back(std::chrono::steady_clock::now());
    if (count < 3) return std::nullopt;
    return Ack(req);
  });
  Notifier n(Fast(5));
  StartAndNotify(n, sec);
  ASSERT_TRUE(WaitFor([&] { return n.counters().acked == 1; }));
  EXPECT_EQ(n.counters().sent, 3u);
  ASSERT_EQ(times.size(), 3u);
  // Sent 40 ms then 80 ms apart. The times are taken on receipt, and a receipt delayed by a
  // busy machine shortens the gap after it: bounds with room for that, still far from the
  // immediate retries a missing back-off would give.
  EXPECT_GE(times[1] - times[0], 25ms);
  EXPECT_GE(times[2] - times[1], 60ms);
  EXPECT_GT(times[2] - times[1], times[1] - times[0]);  // doubling
}

TEST(Notifier, GivesUpAfterMaxTries) {
  FakeSecondary sec([](const std::string&, int) { return std::nullopt; });
  Notifier n(Fast(3));
  StartAndNotify(n, sec);
  ASSERT_TRUE(WaitFor([&] { return n.counters().failed == 1; }));
  EXPECT_EQ(n.counters().sent, 3u);
  EXPECT_EQ(n.counters().acked, 0u);
  EXPECT_EQ(sec.received(), 3);
  EXPECT_EQ(n.pending(), 0u);
}

TEST(Notifier, IgnoresAnswersThatDoNotMatch) {
  FakeSecondary sec([](const std::string& req, int count) -> std::optional<std::string> {
    if (count == 1) return Ack(req, rcode::kNoError, /*id_delta=*/1);  // wrong id
    if (count == 2) {
      Message m = ParseMsg(req);  // right id, but not a response
      return m.Build();
    }
    return Ack(req);
  });
  Notifier n(Fast(5));
  StartAndNotify(n, sec);
  ASSERT_TRUE(WaitFor([&] { return n.counters().acked == 1; }));
  EXPECT_EQ(n.counters().sent, 3u);
}

TEST(Notifier, ErrorAnswerEndsTheNotifyAsFailed) {
  FakeSecondary sec([](const std::string& req, int) { return Ack(req, rcode::kNotAuth); });
  Notifier n(Fast(5));
  StartAndNotify(n, sec);
  ASSERT_TRUE(WaitFor([&] { return n.counters().failed == 1; }));
  std::this_thread::sleep_for(150ms);
  EXPECT_EQ(n.counters().sent, 1u);
  EXPECT_EQ(sec.received(), 1);
}

TsigKey Key(const char* secret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ1Ng==") {
  return *TsigKey::Make("notify-key.", "hmac-sha256", secret);
}

// A secondary that verifies the signed NOTIFY and answers signed with `answer_key`.
std::optional<std::string> SignedAck(const std::string& req, const TsigKey& key, const TsigKey& answer_key,
                                     std::atomic<int>* verified) {
  auto ring = TsigKeyring::Make({key});
  uint64_t now = static_cast<uint64_t>(std::time(nullptr));
  TsigVerifyResult v = VerifyRequest(reinterpret_cast<const uint8_t*>(req.data()), req.size(), *ring, now);
  if (v.status != TsigStatus::kNoError) return std::nullopt;
  ++*verified;
  std::string answer = Ack(req);
  if (!SignResponse(answer, answer_key, v.mac, now).ok()) return std::nullopt;
  return answer;
}

TEST(Notifier, SignsAndVerifiesTheAnswer) {
  TsigKey key = Key();
  std::atomic<int> verified{0};
  FakeSecondary sec([&](const std::string& req, int) { return SignedAck(req, key, key, &verified); });
  Notifier n(Fast());
  StartAndNotify(n, sec, &key);
  ASSERT_TRUE(WaitFor([&] { return n.counters().acked == 1; }));
  EXPECT_EQ(verified.load(), 1);
  EXPECT_EQ(n.counters().sent, 1u);
}

TEST(Notifier, RejectsAnAnswerSignedWithAnotherKey) {
  TsigKey key = Key();
  TsigKey other = *TsigKey::Make("notify-key.", "hmac-sha256", "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldA==");
  std::atomic<int> verified{0};
  FakeSecondary sec([&](const std::string& req, int) { return SignedAck(req, key, other, &verified); });
  Notifier n(Fast(2));
  StartAndNotify(n, sec, &key);
  ASSERT_TRUE(WaitFor([&] { return n.counters().failed == 1; }));
  EXPECT_EQ(n.counters().acked, 0u);
  EXPECT_EQ(verified.load(), 2);  // both tries were signed correctly
}

TEST(Notifier, NewChangeReplacesThePendingNotify) {
  std::atomic<bool> answer{false};
  FakeSecondary sec([&](const std::string& req, int) -> std::optional<std::string> {
    if (!answer) return std::nullopt;
    return Ack(req);
  });
  FakeSecondary other([](const std::string& req, int) { return Ack(req); });
  Notifier n(NotifierOptions{5, 500ms});
  StartAndNotify(n, sec);
  n.ZoneChanged(N("other."), 1, {other.address()});
  ASSERT_TRUE(WaitFor([&] { return sec.received() == 1 && n.counters().acked == 1; }));
  answer = true;
  n.ZoneChanged(N("example."), 2, {sec.address()});  // sent at once, not after the back-off
  ASSERT_TRUE(WaitFor([&] { return n.counters().acked == 2; }, 400ms));
  EXPECT_EQ(sec.received(), 2);
  EXPECT_EQ(n.pending(), 0u);
  EXPECT_EQ(n.counters().failed, 0u);  // the replaced notify is not a failure
}

TEST(Notifier, SeveralTargetsAndCleanStop) {
  FakeSecondary a([](const std::string& req, int) { return Ack(req); });
  FakeSecondary silent([](const std::string&, int) { return std::nullopt; });
  auto n = std::make_unique<Notifier>(NotifierOptions{5, 10000ms});
  ASSERT_TRUE(n->Start().ok());
  EXPECT_EQ(n->Start().code(), Code::kFailedPrecondition);
  n->ZoneChanged(N("example."), 1, {a.address(), silent.address()});
  ASSERT_TRUE(WaitFor([&] { return n->counters().acked == 1 && silent.received() == 1; }));
  EXPECT_EQ(n->pending(), 1u);
  auto t0 = std::chrono::steady_clock::now();
  n->Stop();
  n->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1000ms);
  n->ZoneChanged(N("example."), 2, {a.address()});  // ignored after Stop
  EXPECT_EQ(n->pending(), 0u);
  n.reset();
}

TEST(Notifier, UnstartedNotifierIgnoresChanges) {
  Notifier n;
  n.ZoneChanged(N("example."), 1, {SocketAddress(*IpAddress::Parse("127.0.0.1"), 9)});
  EXPECT_EQ(n.pending(), 0u);
  EXPECT_EQ(n.counters().sent, 0u);
}

}  // namespace
}  // namespace berth::dns::transfer
