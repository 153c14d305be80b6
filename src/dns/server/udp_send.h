// Sending UDP answers, for the DNS workers and for the threads that finish forwarded or
// handed-off queries: answers leave with sendmmsg, and answers to one client from one local
// address as one UDP GSO (UDP_SEGMENT) send: those of one size, and one shorter one last. A UdpSendBatch holds what its thread sends
// until it closes, so the committer finishing a batch of updates sends all their answers at once.
// Thread-safety: a UdpSocket is shared (its GSO switch is atomic); a batch belongs to its thread.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace berth::dns {

// Room for the IP_PKTINFO / IPV6_PKTINFO control message that picks an answer's source address.
inline constexpr size_t kPktinfoSpace = CMSG_SPACE(sizeof(in6_pktinfo)) > CMSG_SPACE(sizeof(in_pktinfo))
                                            ? CMSG_SPACE(sizeof(in6_pktinfo))
                                            : CMSG_SPACE(sizeof(in_pktinfo));

// A UDP socket shared by its worker and by answers still to be sent; closed when the last user
// lets go.
struct UdpSocket {
  UdpSocket(int fd, bool gso) : fd(fd), gso(gso) {}
  ~UdpSocket();
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  const int fd;
  std::atomic<bool> gso;             // group equal-size answers into GSO sends
  std::atomic<int> gso_refusals{0};  // GSO sends refused in a row; enough of them clear `gso`
};

// One answer ready to send.
struct UdpAnswer {
  const uint8_t* data;
  size_t size;
  const sockaddr_storage* peer;
  socklen_t peer_len;
  alignas(cmsghdr) uint8_t control[kPktinfoSpace];  // the source address, when the socket is a wildcard
  size_t control_len;
};

// Sends `answers`, any number of them, with sendmmsg `flags`; returns how many left inside GSO
// sends. An answer the kernel refuses (unreachable peer, full buffer with MSG_DONTWAIT) is
// skipped; a GSO send refused as such is resent one answer at a time. Clears the answers' sizes.
size_t SendUdpAnswers(UdpSocket& socket, std::span<UdpAnswer> answers, int flags);

// While one is open on a thread, UdpSendBatch::Send holds that thread's answers; closing the
// batch sends them together. Nested batches join the outermost one.
class UdpSendBatch {
 public:
  UdpSendBatch();
  ~UdpSendBatch();
  UdpSendBatch(const UdpSendBatch&) = delete;
  UdpSendBatch& operator=(const UdpSendBatch&) = delete;

  // Sends `answer` without blocking, now or when this thread's open batch closes. Answers that
  // leave inside GSO sends are added to `gso_answers` (nullable).
  static void Send(const std::shared_ptr<UdpSocket>& socket, const sockaddr_storage& peer, socklen_t peer_len,
                   const uint8_t* control, size_t control_len, std::string_view answer,
                   std::atomic<uint64_t>* gso_answers);

 private:
  struct Held {
    std::shared_ptr<UdpSocket> socket;
    std::atomic<uint64_t>* gso_answers;
    size_t offset;  // of the answer in bytes_
    UdpAnswer answer;
    sockaddr_storage peer;
  };
  void Flush();

  bool outermost_;
  std::vector<Held> held_;
  std::string bytes_;
};

}  // namespace berth::dns
