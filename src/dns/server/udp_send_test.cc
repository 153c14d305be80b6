// SendUdpAnswers and UdpSendBatch over real loopback sockets: every answer arrives once, intact,
// as its own datagram, whether or not it travelled inside a GSO send.
#include "dns/server/udp_send.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace berth::dns {
namespace {

// A bound loopback UDP socket.
struct Endpoint {
  Endpoint() {
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    int buf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  }
  ~Endpoint() { close(fd); }
  // Every datagram waiting (after `wait_ms` for the first), in arrival order.
  std::vector<std::string> Drain(int wait_ms = 1000) {
    std::vector<std::string> out;
    for (;;) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, out.empty() ? wait_ms : 50) != 1) return out;
      char buf[65536];
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n < 0) return out;
      out.emplace_back(buf, static_cast<size_t>(n));
    }
  }
  int fd;
  sockaddr_storage addr{};
  socklen_t len;
};

std::string Answer(int i, size_t size) {
  std::string s = std::to_string(i) + ":";
  s.resize(size, static_cast<char>('a' + i % 26));
  return s;
}

class UdpSendTest : public ::testing::Test {
 protected:
  std::shared_ptr<UdpSocket> server_ = std::make_shared<UdpSocket>(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), true);
  std::atomic<uint64_t> gso_{0};
};

TEST_F(UdpSendTest, WithoutABatchAnswersLeaveAtOnce) {
  Endpoint client;
  UdpSendBatch::Send(server_, client.addr, client.len, nullptr, 0, "hello", &gso_);
  EXPECT_EQ(client.Drain(), std::vector<std::string>{"hello"});
  EXPECT_EQ(gso_, 0u);
}

TEST_F(UdpSendTest, ABatchHoldsAnswersUntilItCloses) {
  Endpoint a, b;
  std::map<std::string, int> want_a, want_b;
  {
    UdpSendBatch batch;
    {
      UdpSendBatch nested;  // joins the outer batch: closing it sends nothing yet
      UdpSendBatch::Send(server_, a.addr, a.len, nullptr, 0, Answer(0, 100), &gso_);
    }
    ++want_a[Answer(0, 100)];
    // 150 equal-size answers to one client (more than one GSO send holds), others mixed in.
    for (int i = 1; i <= 150; ++i) {
      std::string x = Answer(i, 100);
      UdpSendBatch::Send(server_, a.addr, a.len, nullptr, 0, x, &gso_);
      ++want_a[x];
      std::string y = Answer(i, i % 3 == 0 ? 1400 : 60 + i % 2);
      UdpSendBatch::Send(server_, b.addr, b.len, nullptr, 0, y, &gso_);
      ++want_b[y];
    }
    EXPECT_TRUE(a.Drain(100).empty());
    EXPECT_TRUE(b.Drain(100).empty());
  }
  std::map<std::string, int> got_a, got_b;
  for (auto& s : a.Drain()) ++got_a[s];
  for (auto& s : b.Drain()) ++got_b[s];
  EXPECT_EQ(got_a, want_a);
  EXPECT_EQ(got_b, want_b);
  // Client a's 151 answers of 100 bytes left in GSO sends, and so did b's 100 answers of 60 and
  // 61 bytes; its 50 answers of 1400 bytes were sent alone.
  EXPECT_EQ(gso_.load(), 151u + 100u);
}

TEST_F(UdpSendTest, ARefusedGroupIsSentOneAnswerAtATime) {
  // Without UDP checksums the kernel refuses every GSO send (EINVAL), as a route without
  // checksum offload would: the answers still arrive, and repeated refusals turn GSO off.
  int one = 1;
  ASSERT_EQ(setsockopt(server_->fd, SOL_SOCKET, SO_NO_CHECK, &one, sizeof one), 0);
  Endpoint client;
  std::map<std::string, int> want;
  for (int round = 0; round < 10; ++round) {
    UdpSendBatch batch;
    for (int i = 0; i < 5; ++i) {
      std::string x = Answer(round * 10 + i, 80);
      UdpSendBatch::Send(server_, client.addr, client.len, nullptr, 0, x, &gso_);
      ++want[x];
    }
  }
  std::map<std::string, int> got;
  for (auto& s : client.Drain()) ++got[s];
  EXPECT_EQ(got, want);
  EXPECT_EQ(gso_, 0u);
  EXPECT_FALSE(server_->gso.load());
}

TEST_F(UdpSendTest, SendUdpAnswersGroupsOnlyEqualSizesToOneClient) {
  Endpoint a, b;
  std::vector<std::string> bodies;
  std::vector<UdpAnswer> answers(40);
  for (int i = 0; i < 40; ++i) bodies.push_back(Answer(i, i % 4 == 3 ? 70 : 50));
  for (int i = 0; i < 40; ++i) {
    Endpoint& to = i % 2 ? b : a;
    answers[i].data = reinterpret_cast<const uint8_t*>(bodies[i].data());
    answers[i].size = bodies[i].size();
    answers[i].peer = &to.addr;
    answers[i].peer_len = to.len;
    answers[i].control_len = 0;
  }
  size_t grouped = SendUdpAnswers(*server_, answers, 0);
  // a: 20 answers of 50 bytes; b: 10 of 50 and 10 of 70.
  EXPECT_EQ(grouped, 40u);
  std::vector<std::string> got_a = a.Drain(), got_b = b.Drain();
  std::vector<std::string> want_a, want_b;
  for (int i = 0; i < 40; ++i) (i % 2 ? want_b : want_a).push_back(bodies[i]);
  std::sort(got_a.begin(), got_a.end());
  std::sort(got_b.begin(), got_b.end());
  std::sort(want_a.begin(), want_a.end());
  std::sort(want_b.begin(), want_b.end());
  EXPECT_EQ(got_a, want_a);
  EXPECT_EQ(got_b, want_b);
}

}  // namespace
}  // namespace berth::dns
