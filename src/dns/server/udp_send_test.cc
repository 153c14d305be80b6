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

// Sends `sizes[i]`-byte answers to clients[i % clients.size()] in one SendUdpAnswers call;
// checks that each client gets exactly its answers and returns how many travelled in groups.
size_t SendAndCheck(UdpSocket& server, std::vector<Endpoint*> clients, const std::vector<size_t>& sizes) {
  std::vector<std::string> bodies;
  std::vector<UdpAnswer> answers(sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i) bodies.push_back(Answer(static_cast<int>(i), sizes[i]));
  for (size_t i = 0; i < sizes.size(); ++i) {
    Endpoint& to = *clients[i % clients.size()];
    answers[i].data = reinterpret_cast<const uint8_t*>(bodies[i].data());
    answers[i].size = bodies[i].size();
    answers[i].peer = &to.addr;
    answers[i].peer_len = to.len;
    answers[i].control_len = 0;
  }
  size_t grouped = SendUdpAnswers(server, answers, 0);
  for (size_t c = 0; c < clients.size(); ++c) {
    std::vector<std::string> got = clients[c]->Drain(), want;
    for (size_t i = c; i < sizes.size(); i += clients.size()) want.push_back(bodies[i]);
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(got, want) << "client " << c;
  }
  for (const UdpAnswer& a : answers) EXPECT_EQ(a.size, 0u);
  return grouped;
}

TEST_F(UdpSendTest, AGroupHoldsOneSizeToOneClientAndOneShorterAnswerLast) {
  Endpoint a, b;
  // a: 20 answers of 50 bytes; b: 10 of 50 and 10 of 70 (one group of the 70s ending with a 50,
  // and one of the other nine 50s).
  std::vector<size_t> sizes;
  for (int i = 0; i < 40; ++i) sizes.push_back(i % 4 == 3 ? 70 : 50);
  EXPECT_EQ(SendAndCheck(*server_, {&a, &b}, sizes), 40u);
  // A shorter answer ahead of a longer one still ends the longer one's group.
  EXPECT_EQ(SendAndCheck(*server_, {&a}, {40, 60}), 2u);
  // Only one shorter answer fits a group: 61, 61, 50 go together, 45 alone.
  EXPECT_EQ(SendAndCheck(*server_, {&a}, {45, 61, 50, 61}), 3u);
  // Answers too big to group (over 1232 bytes) go alone, and the rest still group.
  EXPECT_EQ(SendAndCheck(*server_, {&a, &b}, {1400, 1400, 1300, 1200, 100, 100}), 2u);
  // Two clients never share a group, whatever the sizes.
  EXPECT_EQ(SendAndCheck(*server_, {&a, &b}, {80, 80}), 0u);
}

}  // namespace
}  // namespace berth::dns
