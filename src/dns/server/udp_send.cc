#include "dns/server/udp_send.h"

#include <netinet/udp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <spdlog/spdlog.h>

namespace berth::dns {
namespace {

// Answers up to this size are grouped: 1232 + IPv6/UDP headers fit the IPv6 minimum MTU, so a
// group never fails for want of path MTU (bigger answers are rare).
constexpr size_t kGsoMaxSegment = 1232;
// Linux takes at most 64 segments per GSO send (UDP_MAX_SEGMENTS) and 64 KiB of payload.
constexpr size_t kGsoMaxSegments = 64;
constexpr size_t kGsoMaxBytes = 65000;
constexpr int kGsoMaxRefusals = 8;
// One sendmmsg call carries at most this many messages and answers.
constexpr size_t kMaxMessages = 64;
constexpr size_t kMaxIov = 256;

thread_local UdpSendBatch* open_batch = nullptr;

// To the same client from the same local address.
bool SameDestination(const UdpAnswer& a, const UdpAnswer& b) {
  return b.peer_len == a.peer_len && b.control_len == a.control_len && std::memcmp(b.peer, a.peer, a.peer_len) == 0 &&
         std::memcmp(b.control, a.control, a.control_len) == 0;
}

// The answers one GSO send can carry: every pending answer to the destination of `answers[first]`
// that is as big as the biggest of them (the segment size), and then one smaller answer, since a
// GSO send's last segment may be short. Answers too big to group go alone. Appends their indexes
// to `group` (room for kGsoMaxSegments), the biggest first, and returns how many; `max_answers`
// bounds that.
size_t PickGroup(std::span<const UdpAnswer> answers, size_t first, size_t max_answers, size_t* group) {
  const UdpAnswer& a = answers[first];
  group[0] = first;
  if (a.size > kGsoMaxSegment) return 1;
  size_t lead = first;
  for (size_t j = first + 1; j < answers.size(); ++j) {
    const UdpAnswer& b = answers[j];
    if (b.size > answers[lead].size && b.size <= kGsoMaxSegment && SameDestination(a, b)) lead = j;
  }
  const size_t segment = answers[lead].size;
  const size_t limit = std::min({kGsoMaxSegments, kGsoMaxBytes / segment, max_answers});
  group[0] = lead;
  size_t n = 1;
  size_t tail = answers.size();
  for (size_t j = first; j < answers.size(); ++j) {
    const UdpAnswer& b = answers[j];
    if (j == lead || b.size == 0 || !SameDestination(a, b)) continue;
    if (b.size == segment) {
      if (n < limit) group[n++] = j;
    } else if (b.size < segment && (tail == answers.size() || b.size > answers[tail].size)) {
      tail = j;
    }
  }
  if (tail != answers.size() && n < limit) group[n++] = tail;
  return n;
}

// Resends a refused GSO message one answer at a time (its pktinfo, if any, comes first in the
// control buffer, the UDP_SEGMENT message after it).
void SendOneByOne(int fd, const msghdr& group, int flags) {
  size_t pktinfo_len = group.msg_controllen - CMSG_SPACE(sizeof(uint16_t));
  for (size_t i = 0; i < group.msg_iovlen; ++i) {
    msghdr one = group;
    one.msg_iov = &group.msg_iov[i];
    one.msg_iovlen = 1;
    one.msg_control = pktinfo_len ? group.msg_control : nullptr;
    one.msg_controllen = pktinfo_len;
    sendmsg(fd, &one, flags);
  }
}

}  // namespace

UdpSocket::~UdpSocket() {
  if (fd >= 0) close(fd);
}

size_t SendUdpAnswers(UdpSocket& socket, std::span<UdpAnswer> answers, int flags) {
  // The stack below the socket (route lookup, IP output, the loopback or driver transmit, the
  // receiving side's IP and socket lookup) runs once per GSO send; the client still receives one
  // datagram per answer, cut apart by the NIC, by the kernel before the driver, or on loopback at
  // the receiving socket. Groups form when one client socket has several answers at once.
  mmsghdr msgs[kMaxMessages];
  iovec iov[kMaxIov];
  alignas(cmsghdr) uint8_t control[kMaxMessages][kPktinfoSpace + CMSG_SPACE(sizeof(uint16_t))];
  size_t in_groups = 0;
  size_t next = 0;
  size_t group[kGsoMaxSegments];
  while (next < answers.size()) {
    size_t m = 0, v = 0;
    const bool gso = socket.gso.load(std::memory_order_relaxed);
    while (next < answers.size() && m < kMaxMessages && v < kMaxIov) {
      if (answers[next].size == 0) {  // already sent in an earlier group
        ++next;
        continue;
      }
      size_t grouped = 1;
      group[0] = next;
      if (gso) grouped = PickGroup(answers, next, kMaxIov - v, group);
      const UdpAnswer& lead = answers[group[0]];
      msghdr& h = msgs[m].msg_hdr;
      h = {};
      h.msg_name = const_cast<sockaddr_storage*>(lead.peer);
      h.msg_namelen = lead.peer_len;
      h.msg_iov = &iov[v];
      h.msg_iovlen = grouped;
      size_t clen = lead.control_len;
      if (clen) std::memcpy(control[m], lead.control, clen);
      if (grouped > 1) {
        auto* c = reinterpret_cast<cmsghdr*>(control[m] + clen);
        c->cmsg_level = SOL_UDP;
        c->cmsg_type = UDP_SEGMENT;
        c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
        uint16_t segment = static_cast<uint16_t>(lead.size);
        std::memcpy(CMSG_DATA(c), &segment, sizeof segment);
        clen += CMSG_SPACE(sizeof(uint16_t));
      }
      h.msg_control = clen ? control[m] : nullptr;
      h.msg_controllen = clen;
      for (size_t i = 0; i < grouped; ++i) {
        UdpAnswer& g = answers[group[i]];
        iov[v++] = {const_cast<uint8_t*>(g.data), g.size};
        g.size = 0;
      }
      ++m;
    }
    for (size_t sent = 0; sent < m;) {
      int k = sendmmsg(socket.fd, msgs + sent, static_cast<unsigned>(m - sent), flags);
      if (k > 0) {
        for (size_t i = sent; i < sent + static_cast<size_t>(k); ++i) {
          if (msgs[i].msg_hdr.msg_iovlen > 1) {
            in_groups += msgs[i].msg_hdr.msg_iovlen;
            socket.gso_refusals.store(0, std::memory_order_relaxed);
          }
        }
        sent += static_cast<size_t>(k);
        continue;
      }
      int err = k < 0 ? errno : EIO;
      if (err == EINTR) continue;
      const msghdr& failed = msgs[sent].msg_hdr;
      if (failed.msg_iovlen > 1) {
        // Never lose answers to grouping. When the refusal is about GSO itself (no UDP_SEGMENT
        // before Linux 4.18, no checksum offload, IPsec, answer + headers over the path MTU),
        // several in a row stop grouping on this socket.
        if ((err == EIO || err == EINVAL || err == EMSGSIZE || err == ENOPROTOOPT || err == EOPNOTSUPP) &&
            socket.gso_refusals.fetch_add(1, std::memory_order_relaxed) + 1 == kGsoMaxRefusals) {
          socket.gso.store(false, std::memory_order_relaxed);
          spdlog::info("dns: UDP GSO refused ({}); answers are sent one by one", std::strerror(err));
        }
        SendOneByOne(socket.fd, failed, flags);
      }
      ++sent;  // skip the message that failed (e.g. unreachable peer) and go on with the rest
    }
  }
  return in_groups;
}

UdpSendBatch::UdpSendBatch() : outermost_(open_batch == nullptr) {
  if (outermost_) open_batch = this;
}

UdpSendBatch::~UdpSendBatch() {
  if (!outermost_) return;
  open_batch = nullptr;
  Flush();
}

void UdpSendBatch::Send(const std::shared_ptr<UdpSocket>& socket, const sockaddr_storage& peer,
                        socklen_t peer_len, const uint8_t* control, size_t control_len, std::string_view answer,
                        std::atomic<uint64_t>* gso_answers) {
  if (answer.empty()) return;
  control_len = std::min(control_len, kPktinfoSpace);
  if (UdpSendBatch* b = open_batch) {
    Held& h = b->held_.emplace_back();
    h.socket = socket;
    h.gso_answers = gso_answers;
    h.offset = b->bytes_.size();
    b->bytes_.append(answer);
    h.peer = peer;
    h.answer.size = answer.size();
    h.answer.peer_len = peer_len;
    h.answer.control_len = control_len;
    if (control_len) std::memcpy(h.answer.control, control, control_len);
    return;
  }
  UdpAnswer a;
  a.data = reinterpret_cast<const uint8_t*>(answer.data());
  a.size = answer.size();
  a.peer = &peer;
  a.peer_len = peer_len;
  a.control_len = control_len;
  if (control_len) std::memcpy(a.control, control, control_len);
  SendUdpAnswers(*socket, {&a, 1}, MSG_DONTWAIT);
}

void UdpSendBatch::Flush() {
  if (held_.empty()) return;
  // Answers of one socket (and metrics counter) go out together; the committer's usually all
  // share one.
  auto key = [](const Held& h) { return std::make_pair(h.socket.get(), h.gso_answers); };
  std::stable_sort(held_.begin(), held_.end(), [&](const Held& a, const Held& b) { return key(a) < key(b); });
  std::vector<UdpAnswer> answers;
  answers.reserve(held_.size());
  for (size_t i = 0; i < held_.size();) {
    size_t end = i;
    answers.clear();
    for (; end < held_.size() && key(held_[end]) == key(held_[i]); ++end) {
      Held& h = held_[end];
      h.answer.data = reinterpret_cast<const uint8_t*>(bytes_.data()) + h.offset;
      h.answer.peer = &h.peer;
      answers.push_back(h.answer);
    }
    size_t grouped = SendUdpAnswers(*held_[i].socket, answers, MSG_DONTWAIT);
    if (grouped && held_[i].gso_answers) held_[i].gso_answers->fetch_add(grouped, std::memory_order_relaxed);
    i = end;
  }
  held_.clear();
  bytes_.clear();
}

}  // namespace berth::dns
