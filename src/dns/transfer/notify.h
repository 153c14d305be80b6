// Notifier: sends DNS NOTIFY (RFC 1996) for changed zones to their secondaries over UDP from its
// own thread, retrying with doubling back-off until a matching answer arrives (same id, QR,
// opcode NOTIFY, from the target, TSIG-verified when signed). A newer change of a zone replaces
// its pending notifies. Thread-safe: ZoneChanged and counters() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/net_address.h"
#include "core/status.h"
#include "dns/tsig/tsig.h"
#include "dns/wire/name.h"

namespace berth::dns::transfer {

struct NotifierOptions {
  int max_tries = 5;                                // sends per target before giving up
  std::chrono::milliseconds first_timeout{1000};    // wait after the first send; doubles
};

struct NotifyCounters {
  uint64_t sent = 0;    // NOTIFY messages sent, retries included
  uint64_t acked = 0;   // targets that answered NOERROR
  uint64_t failed = 0;  // targets that answered an error, timed out every try, or were unreachable
};

class Notifier {
 public:
  explicit Notifier(NotifierOptions options = {});
  ~Notifier();  // Stop()
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Starts the sending thread. kIo when its wake-up descriptor cannot be made;
  // kFailedPrecondition when already started.
  Status Start();
  // Drops pending notifies and joins the thread. Idempotent.
  void Stop();

  // Queues a NOTIFY for `zone` at `serial` to each target, signed with `key` when non-null (the
  // key is copied). Replaces whatever is still pending for the zone. Never blocks on the
  // network; ignored before Start and after Stop.
  void ZoneChanged(const Name& zone, uint32_t serial, const std::vector<SocketAddress>& targets,
                   const TsigKey* key = nullptr);

  NotifyCounters counters() const;
  // Targets still waiting for an answer (tests, /metrics).
  size_t pending() const;

 private:
  struct Pending;
  void Run();
  void SendDue(std::chrono::steady_clock::time_point now);
  void Receive(Pending& p);
  void Finish(Pending& p, bool acked);
  void Wake();

  const NotifierOptions options_;
  mutable std::mutex mu_;  // guards pending_, running_
  std::vector<std::unique_ptr<Pending>> pending_;
  bool running_ = false;
  int wake_fd_ = -1;
  std::thread thread_;
  std::atomic<uint64_t> sent_{0}, acked_{0}, failed_{0};
};

}  // namespace berth::dns::transfer
