#include "dns/transfer/notify.h"

#include <openssl/rand.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include <spdlog/spdlog.h>

#include "dns/wire/message.h"
#include "dns/wire/reader.h"

namespace berth::dns::transfer {
namespace {

using Clock = std::chrono::steady_clock;

uint16_t RandomId() {
  uint16_t id = 0;
  // Unpredictable, like a resolver's query ids: a forged answer must not stop our notifies.
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&id), sizeof id) != 1) {
    [[maybe_unused]] int r = getentropy(&id, sizeof id);
  }
  return id;
}

uint64_t UnixNow() { return static_cast<uint64_t>(std::time(nullptr)); }

}  // namespace

// One target of one zone's notify. Owned by pending_; its socket is connected to the target,
// so the kernel drops datagrams from anyone else.
struct Notifier::Pending {
  Name zone;
  uint32_t serial = 0;
  SocketAddress target;
  std::optional<TsigKey> key;
  int fd = -1;
  uint16_t id = 0;
  std::string request_mac;  // of the last signed send
  int tries = 0;
  Clock::time_point due;
  bool done = false;

  ~Pending() {
    if (fd >= 0) close(fd);
  }
};

Notifier::Notifier(NotifierOptions options) : options_(options) {}

Notifier::~Notifier() { Stop(); }

Status Notifier::Start() {
  std::lock_guard lock(mu_);
  if (running_ || thread_.joinable()) return FailedPrecondition("notifier already started");
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) return IoError("notifier eventfd", errno);
  running_ = true;
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void Notifier::Stop() {
  {
    std::lock_guard lock(mu_);
    if (!running_) return;
    running_ = false;
  }
  Wake();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  pending_.clear();
  close(wake_fd_);
  wake_fd_ = -1;
}

void Notifier::Wake() {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
}

void Notifier::ZoneChanged(const Name& zone, uint32_t serial, const std::vector<SocketAddress>& targets,
                           const TsigKey* key) {
  {
    std::lock_guard lock(mu_);
    if (!running_) return;
    // Superseded, not erased: the thread may be polling their sockets; it erases done entries.
    for (auto& p : pending_)
      if (p->zone == zone) p->done = true;
    for (const SocketAddress& target : targets) {
      auto p = std::make_unique<Pending>();
      p->zone = zone;
      p->serial = serial;
      p->target = target;
      if (key) p->key = *key;
      p->due = Clock::now();
      pending_.push_back(std::move(p));
    }
  }
  Wake();
}

NotifyCounters Notifier::counters() const {
  return {sent_.load(std::memory_order_relaxed), acked_.load(std::memory_order_relaxed),
          failed_.load(std::memory_order_relaxed)};
}

size_t Notifier::pending() const {
  std::lock_guard lock(mu_);
  return std::count_if(pending_.begin(), pending_.end(), [](const std::unique_ptr<Pending>& p) { return !p->done; });
}

void Notifier::Finish(Pending& p, bool acked) {
  (acked ? acked_ : failed_).fetch_add(1, std::memory_order_relaxed);
  p.done = true;
}

void Notifier::SendDue(Clock::time_point now) {
  for (auto& owned : pending_) {
    Pending& p = *owned;
    if (p.done || p.due > now) continue;
    if (p.tries >= options_.max_tries) {
      spdlog::warn("NOTIFY {} serial {} to {}: no answer after {} tries", p.zone.ToText(), p.serial,
                   p.target.ToString(), p.tries);
      Finish(p, false);
      continue;
    }
    if (p.fd < 0) {
      sockaddr_storage sa{};
      socklen_t len = p.target.ToSockaddr(&sa);
      p.fd = socket(sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (p.fd < 0 || connect(p.fd, reinterpret_cast<sockaddr*>(&sa), len) < 0) {
        spdlog::warn("NOTIFY {} to {}: {}", p.zone.ToText(), p.target.ToString(), IoError("socket", errno).message());
        Finish(p, false);
        continue;
      }
    }
    Message m;
    m.id = p.id = RandomId();
    m.flags = flag::kAA;
    m.set_opcode(opcode::kNotify);
    m.questions.push_back({p.zone, type::kSOA, cls::kIN});
    std::string wire = m.Build();
    if (p.key) {
      uint64_t t = UnixNow();
      Status s = SignRequest(wire, *p.key, t);
      // Our own MAC, read back through the verifier: the answer's MAC must cover it.
      auto ring = TsigKeyring::Make({*p.key});
      TsigVerifyResult v;
      if (s.ok() && ring.ok()) v = VerifyRequest(reinterpret_cast<const uint8_t*>(wire.data()), wire.size(), *ring, t);
      if (v.status != TsigStatus::kNoError) {
        spdlog::error("NOTIFY {}: signing with key {} failed: {}", p.zone.ToText(), p.key->name.ToText(),
                      s.ok() ? std::string(TsigStatusName(v.status)) : s.ToString());
        Finish(p, false);
        continue;
      }
      p.request_mac = v.mac;
    }
    // A send error (e.g. ECONNREFUSED from an earlier ICMP) is just a lost try: retry later.
    [[maybe_unused]] ssize_t n = send(p.fd, wire.data(), wire.size(), 0);
    sent_.fetch_add(1, std::memory_order_relaxed);
    p.due = now + options_.first_timeout * (1 << std::min(p.tries, 20));
    ++p.tries;
  }
}

void Notifier::Receive(Pending& p) {
  uint8_t buf[4096];
  while (!p.done) {
    ssize_t n = recv(p.fd, buf, sizeof buf, 0);
    if (n < 0) return;  // EAGAIN, or an ICMP error: the retry timer handles both
    WireReader r(buf, static_cast<size_t>(n));
    uint16_t id = r.U16(), flags = r.U16(), qdcount = r.U16();
    r.Skip(6);
    if (!r.ok() || id != p.id || !(flags & flag::kQR) || ((flags >> 11) & 0xF) != opcode::kNotify) continue;
    if (qdcount > 0) {
      uint8_t name[kMaxNameWire];
      size_t len = r.ReadName(name);
      if (!r.ok() || !WireNamesEqual({reinterpret_cast<char*>(name), len}, p.zone.wire())) continue;
    }
    if (p.key) {
      TsigVerifyResult v = VerifyResponse(buf, static_cast<size_t>(n), *p.key, p.request_mac, UnixNow());
      if (v.status != TsigStatus::kNoError) {
        spdlog::warn("NOTIFY {} to {}: answer failed TSIG ({})", p.zone.ToText(), p.target.ToString(),
                     TsigStatusName(v.status));
        continue;  // maybe forged: keep waiting for the real one
      }
    }
    uint16_t rc = flags & 0xF;
    if (rc != rcode::kNoError) {
      spdlog::warn("NOTIFY {} serial {} to {}: answered {}", p.zone.ToText(), p.serial, p.target.ToString(),
                   RcodeToText(rc));
    } else {
      spdlog::debug("NOTIFY {} serial {} acknowledged by {}", p.zone.ToText(), p.serial, p.target.ToString());
    }
    Finish(p, rc == rcode::kNoError);
  }
}

void Notifier::Run() {
  std::vector<pollfd> fds;
  std::vector<Pending*> owners;
  while (true) {
    int timeout_ms = -1;
    {
      std::lock_guard lock(mu_);
      if (!running_) return;
      Clock::time_point now = Clock::now();
      SendDue(now);
      std::erase_if(pending_, [](const std::unique_ptr<Pending>& p) { return p->done; });
      fds.assign(1, pollfd{wake_fd_, POLLIN, 0});
      owners.assign(1, nullptr);
      for (auto& p : pending_) {
        auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(p->due - now).count() + 1;
        timeout_ms = timeout_ms < 0 ? static_cast<int>(wait) : std::min(timeout_ms, static_cast<int>(wait));
        if (p->fd >= 0) {
          fds.push_back(pollfd{p->fd, POLLIN, 0});
          owners.push_back(p.get());
        }
      }
    }
    // pending_ may grow while we wait, but only this thread erases entries (Stop clears them
    // after joining us), so the fds and owners stay valid.
    if (poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) {
      spdlog::error("notifier: {}", IoError("poll", errno).message());
    }
    std::lock_guard lock(mu_);
    if (!running_) return;
    if (fds[0].revents) {
      uint64_t v;
      [[maybe_unused]] ssize_t n = read(wake_fd_, &v, sizeof v);
    }
    for (size_t i = 1; i < fds.size(); ++i) {
      if (fds[i].revents) Receive(*owners[i]);
    }
  }
}

}  // namespace berth::dns::transfer
