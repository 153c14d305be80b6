// RFC 2136 dynamic update, TSIG-signed (RFC 8945) when a key is configured, over TCP to any
// standard primary (Knot, BIND, berthd itself). Reads the current RRset with a plain query to
// the same server; writes "delete the RRset, add our record" in one UPDATE so that the name
// ends up with exactly our address. Answers to signed requests must verify.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <ctime>

#include "auth/secret.h"
#include "ddns/provider.h"
#include "dns/tsig/tsig.h"
#include "dns/wire/message.h"
#include "dns/wire/types.h"

namespace berth::ddns {
namespace {

using Clock = std::chrono::steady_clock;

// Closes the fd on scope exit.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

// Waits until `fd` is ready for `events` or the deadline passes.
Status WaitFor(int fd, short events, Clock::time_point deadline, const std::string& what) {
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return DeadlineExceeded(what + ": no answer in time");
    pollfd p{fd, events, 0};
    int n = poll(&p, 1, static_cast<int>(left));
    if (n > 0) return Status::Ok();
    if (n < 0 && errno != EINTR) return IoError(what, errno);
  }
}

// One DNS exchange over TCP (RFC 1035 §4.2.2 length prefix), bounded by `timeout` as a whole.
Result<std::string> ExchangeTcp(const SocketAddress& server, const std::string& request, std::chrono::milliseconds timeout) {
  std::string what = "DNS server " + server.ToString();
  auto deadline = Clock::now() + timeout;
  sockaddr_storage sa{};
  socklen_t len = server.ToSockaddr(&sa);
  Fd s{socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
  if (s.fd < 0) return IoError("socket", errno);
  if (connect(s.fd, reinterpret_cast<sockaddr*>(&sa), len) != 0) {
    if (errno != EINPROGRESS) return Unavailable("cannot reach " + what + ": " + std::strerror(errno));
    RETURN_IF_ERROR(WaitFor(s.fd, POLLOUT, deadline, what));
    int err = 0;
    socklen_t elen = sizeof err;
    getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &elen);
    if (err != 0) return Unavailable("cannot reach " + what + ": " + std::strerror(err));
  }
  std::string out;
  out.push_back(static_cast<char>(request.size() >> 8));
  out.push_back(static_cast<char>(request.size() & 0xff));
  out += request;
  size_t sent = 0;
  while (sent < out.size()) {
    RETURN_IF_ERROR(WaitFor(s.fd, POLLOUT, deadline, what));
    ssize_t n = send(s.fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) return Unavailable(what + ": " + std::strerror(errno));
    if (n > 0) sent += static_cast<size_t>(n);
  }
  std::string in;
  size_t want = 2;
  while (in.size() < want) {
    RETURN_IF_ERROR(WaitFor(s.fd, POLLIN, deadline, what));
    char buf[4096];
    ssize_t n = recv(s.fd, buf, std::min(sizeof buf, want - in.size()), 0);
    if (n == 0) return Unavailable(what + " closed the connection before answering");
    if (n < 0 && errno != EAGAIN && errno != EINTR) return Unavailable(what + ": " + std::strerror(errno));
    if (n > 0) in.append(buf, static_cast<size_t>(n));
    if (in.size() == 2 && want == 2) {
      want = 2 + ((static_cast<uint8_t>(in[0]) << 8) | static_cast<uint8_t>(in[1]));
      if (want < 2 + dns::kHeaderSize) return Unavailable(what + " sent a message shorter than a DNS header");
    }
  }
  return in.substr(2);
}

uint64_t UnixNow() { return static_cast<uint64_t>(std::time(nullptr)); }

uint16_t RandomId() {
  auto bytes = auth::RandomBytes(2);
  if (!bytes.ok()) return static_cast<uint16_t>(Clock::now().time_since_epoch().count());
  return static_cast<uint16_t>((static_cast<uint8_t>((*bytes)[0]) << 8) | static_cast<uint8_t>((*bytes)[1]));
}

std::string Rdata(const IpAddress& ip) { return std::string(reinterpret_cast<const char*>(ip.bytes().data()), ip.size()); }

class Rfc2136 : public RecordProvider {
 public:
  explicit Rfc2136(ProviderConfig c) : c_(std::move(c)) {}

 protected:
  Result<std::vector<ExistingRecord>> Get(const Desired& want) override {
    dns::Message q;
    q.id = RandomId();
    q.questions.push_back({want.name, want.type, dns::cls::kIN});
    ASSIGN_OR_RETURN(dns::Message answer, Send(q, "query " + want.name.ToText() + " " + dns::TypeToText(want.type)));
    uint16_t rc = answer.rcode();
    if (rc != dns::rcode::kNoError && rc != dns::rcode::kNXDomain) {
      return Unavailable("rfc2136: " + c_.server->ToString() + " answered the query for " + want.name.ToText() + " with " +
                         dns::RcodeToText(rc));
    }
    std::vector<ExistingRecord> out;
    for (const auto& r : answer.answers) {
      if (!(r.name == want.name) || r.type != want.type) continue;  // e.g. a CNAME chain: not ours to read
      auto bytes = r.rdata;
      IpAddress ip;
      if (r.type == dns::type::kA && bytes.size() == 4) {
        std::array<uint8_t, 4> b;
        std::copy(bytes.begin(), bytes.end(), b.begin());
        ip = IpAddress::V4(b);
      } else if (r.type == dns::type::kAAAA && bytes.size() == 16) {
        std::array<uint8_t, 16> b;
        std::copy(bytes.begin(), bytes.end(), b.begin());
        ip = IpAddress::V6(b);
      } else {
        continue;
      }
      out.push_back({"", ip.ToString(), r.ttl});
    }
    return out;
  }
  Status Create(const Desired& want) override { return Replace(want); }
  Status Update(const Desired& want, const ExistingRecord&) override { return Replace(want); }

 private:
  Status Replace(const Desired& want) {
    dns::Message u;
    u.id = RandomId();
    u.set_opcode(dns::opcode::kUpdate);
    u.questions.push_back({want.zone, dns::type::kSOA, dns::cls::kIN});  // the zone section
    // RFC 2136 §2.5.2: class ANY, TTL 0, no RDATA deletes the RRset; then §2.5.1 adds ours.
    u.authority.push_back({want.name, want.type, dns::cls::kANY, 0, ""});
    u.authority.push_back({want.name, want.type, dns::cls::kIN, want.ttl, Rdata(want.address)});
    ASSIGN_OR_RETURN(dns::Message answer, Send(u, "UPDATE " + want.name.ToText() + " " + dns::TypeToText(want.type)));
    if (answer.rcode() != dns::rcode::kNoError) {
      return Status(answer.rcode() == dns::rcode::kNotAuth || answer.rcode() == dns::rcode::kRefused
                        ? Code::kPermissionDenied
                        : Code::kUnavailable,
                    "rfc2136: " + c_.server->ToString() + " refused the UPDATE of " + want.name.ToText() + ": " +
                        dns::RcodeToText(answer.rcode()));
    }
    return Status::Ok();
  }

  // Sends a message (signed when a key is configured) and returns the verified answer.
  Result<dns::Message> Send(const dns::Message& m, const std::string& what) {
    std::string wire = m.Build();
    std::string request_mac;
    if (c_.tsig) {
      uint64_t now = UnixNow();
      RETURN_IF_ERROR(dns::SignRequest(wire, *c_.tsig, now));
      // Our own MAC, read back through the verifier: the answer's MAC must cover it.
      auto ring = dns::TsigKeyring::Make({*c_.tsig});
      if (!ring.ok()) return ring.status();
      dns::TsigVerifyResult self =
          dns::VerifyRequest(reinterpret_cast<const uint8_t*>(wire.data()), wire.size(), *ring, now);
      if (self.status != dns::TsigStatus::kNoError) return Internal("rfc2136: cannot read back our own TSIG");
      request_mac = self.mac;
    }
    ASSIGN_OR_RETURN(std::string answer, ExchangeTcp(*c_.server, wire, c_.timeout));
    const auto* bytes = reinterpret_cast<const uint8_t*>(answer.data());
    if (c_.tsig) {
      dns::TsigVerifyResult v = dns::VerifyResponse(bytes, answer.size(), *c_.tsig, request_mac, UnixNow());
      if (v.status != dns::TsigStatus::kNoError) {
        return Unauthenticated("rfc2136: " + what + ": the answer of " + c_.server->ToString() + " fails TSIG with key " +
                               c_.tsig->name.ToText() + " (" + std::string(dns::TsigStatusName(v.status)) + ")");
      }
    }
    auto parsed = dns::Message::Parse(bytes, answer.size());
    if (!parsed.ok()) return Unavailable("rfc2136: " + what + ": malformed answer: " + parsed.status().message());
    if (parsed->id != m.id || !parsed->has(dns::flag::kQR)) return Unavailable("rfc2136: " + what + ": answer does not match");
    return parsed;
  }

  ProviderConfig c_;
};

}  // namespace

std::unique_ptr<Provider> MakeRfc2136Provider(const ProviderConfig& config) { return std::make_unique<Rfc2136>(config); }

}  // namespace berth::ddns
