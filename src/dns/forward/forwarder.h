// Forwarder: resolves questions for names outside local zones by asking upstream resolvers in
// order, over UDP (TCP when truncated), coalescing identical in-flight questions and filling the
// AnswerCache. One thread runs an epoll loop; Resolve() and Stats() are thread-safe.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/status.h"
#include "dns/forward/cache.h"

namespace berth::dns {

struct ForwardRequest {
  std::string qname;  // uncompressed wire form, any case
  uint16_t qtype = 0;
  uint16_t qclass = cls::kIN;
  bool dnssec_ok = false;  // ask upstream for DNSSEC records (EDNS DO)
};

struct ForwarderOptions {
  std::vector<sockaddr_storage> upstreams;  // tried in order; IPv4 and/or IPv6
  std::chrono::milliseconds timeout{1500};  // per try (UDP, or TCP after TC)
  size_t max_in_flight = 4096;              // accepted, unanswered Resolve() calls
  AnswerCache* cache = nullptr;             // filled on success when set; must outlive us
};

struct UpstreamStats {
  uint64_t queries = 0;   // UDP or TCP queries sent
  uint64_t answers = 0;   // accepted answers (final or SERVFAIL/REFUSED)
  uint64_t timeouts = 0;
  uint64_t errors = 0;    // socket errors, SERVFAIL/REFUSED/FORMERR/NOTIMP, TCP failures
};

struct ForwarderStats {
  uint64_t requests = 0;    // Resolve() calls
  uint64_t coalesced = 0;   // requests that joined an in-flight question
  uint64_t rejected = 0;    // failed fast: over max_in_flight or stopped
  uint64_t failures = 0;    // questions that got no usable answer from any upstream
  uint64_t ignored = 0;     // datagrams dropped: wrong source, ID, question, or malformed
  std::vector<UpstreamStats> upstreams;
};

class Forwarder {
 public:
  // Called with the upstream's answer (rcode = its 12-bit rcode), or with an empty view and
  // rcode SERVFAIL when every upstream failed, on overload, or at Stop().
  using Callback = std::function<void(std::string_view response_wire, uint16_t rcode)>;

  // Creates the loop's epoll/eventfd and starts its thread. kInvalidArgument: no upstreams or
  // an address that is neither IPv4 nor IPv6; kIo: epoll/eventfd/thread creation failed.
  static Result<std::unique_ptr<Forwarder>> Start(ForwarderOptions options);
  ~Forwarder();  // Stop()
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  // Queues a question; `done` runs once on the forwarder's thread. Fail-fast rejections
  // (over max_in_flight, already stopped) run `done` on the calling thread before returning.
  void Resolve(ForwardRequest req, Callback done);

  // Replaces the upstreams (berthd's SIGHUP): questions accepted afterwards use the new list;
  // those already in flight finish with the one they started on. Per-upstream counters start
  // again from zero. kInvalidArgument as Start, and nothing changes. Thread-safe.
  Status SetUpstreams(std::vector<sockaddr_storage> upstreams);

  // Joins the thread; outstanding requests get the failure callback. Idempotent.
  void Stop();

  ForwarderStats Stats() const;

 private:
  struct Submission {
    ForwardRequest req;
    Callback done;
  };
  struct Counters {
    std::atomic<uint64_t> queries{0}, answers{0}, timeouts{0}, errors{0};
  };
  // One generation of upstreams with its counters; a question keeps the one it started on.
  struct UpstreamSet {
    explicit UpstreamSet(std::vector<sockaddr_storage> a)
        : addresses(std::move(a)), counters(std::make_unique<Counters[]>(addresses.size())) {}
    std::vector<sockaddr_storage> addresses;
    std::unique_ptr<Counters[]> counters;
  };
  class Loop;

  explicit Forwarder(ForwarderOptions options);

  ForwarderOptions options_;  // options_.upstreams is moved into upstreams_ (the live list)
  int wake_fd_ = -1;
  mutable std::mutex mu_;              // guards queue_, stopped_ and upstreams_
  std::vector<Submission> queue_;
  bool stopped_ = false;
  std::shared_ptr<UpstreamSet> upstreams_;
  std::atomic<size_t> in_flight_{0};
  std::atomic<uint64_t> requests_{0}, coalesced_{0}, rejected_{0}, failures_{0}, ignored_{0};
  std::unique_ptr<Loop> loop_;
  std::thread thread_;
};

}  // namespace berth::dns
