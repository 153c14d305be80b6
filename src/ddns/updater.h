// Updater: runs the DDNS jobs of a DdnsConfig on one thread — detect the address, push it to
// the job's provider when it changed (or every recheck_every runs, or after a failure), retry
// failures with capped exponential backoff and full jitter, notify hooks on change and on
// repeated failure. Interface jobs also run within a second of a netlink address event.
// Thread-safety: Start/Stop/Reconfigure from one owner thread; Jobs() and RunNow() from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/net_address.h"
#include "core/status.h"
#include "ddns/ddns_config.h"
#include "ddns/provider.h"
#include "ddns/source.h"

namespace berth::ddns {

// What the updater needs from the outside world; tests substitute parts of it.
struct UpdaterEnv {
  // Addresses for interface sources; null: interface jobs fail with a clear error.
  InterfaceAddresses interfaces;
  // Starts watching address changes, calling on_change (from any thread) on each; the returned
  // handle stops the watch when destroyed. Null: interface jobs follow the timer only.
  std::function<Result<std::shared_ptr<void>>(std::function<void()> on_change)> watch;
  // Builds a provider; null: MakeProvider.
  std::function<Result<std::unique_ptr<Provider>>(const ProviderConfig&)> make_provider;
  // A uniform draw in [0, 1) for backoff jitter; null: a seeded std::mt19937_64.
  std::function<double()> random;
};

// One job as the API shows it (no credentials in here).
struct JobStatus {
  std::string job;
  std::string provider;
  std::string provider_type;
  std::string type;  // "A" / "AAAA"
  std::vector<std::string> names;
  std::string source;  // "cmd", "interface eth0", "urls"
  std::optional<IpAddress> address;  // last detected and pushed successfully
  std::optional<std::chrono::system_clock::time_point> last_run, last_push, last_change;
  std::string last_result;  // per name: "home.example.: updated", ...
  std::string last_error;   // "" after a success
  uint32_t consecutive_failures = 0;
  uint64_t runs = 0;
  std::chrono::system_clock::time_point next_run;
};

class Updater {
 public:
  // Builds every provider and source. kInvalidArgument as MakeProvider.
  static Result<std::unique_ptr<Updater>> Make(DdnsConfig config, UpdaterEnv env = {});
  ~Updater();  // Stop()
  Updater(const Updater&) = delete;
  Updater& operator=(const Updater&) = delete;

  // Starts the worker thread (every job runs at once) and the interface watch when a job
  // needs one. kFailedPrecondition when already started; the watch's error (kIo).
  Status Start();
  // Wakes and joins the worker; a request in flight finishes first (bounded by its timeout).
  // Idempotent.
  void Stop();

  // Replaces the jobs with those of `config` (berthd's SIGHUP): builds them all first (errors as
  // Make; nothing changes then), stops the worker (a push in flight finishes; RunNow waiters
  // get kFailedPrecondition), swaps, and starts again if it was running: every job runs at
  // once. A job whose record and provider settings are unchanged keeps its status and last
  // address, so an address that did not move is not pushed again. Owner thread, as Start.
  Status Reconfigure(DdnsConfig config);

  // A snapshot of every job, in config order.
  std::vector<JobStatus> Jobs() const;
  // Runs `job` now, checking the provider even when the address did not change, and waits for
  // it to finish (up to `wait`). kNotFound for an unknown job; kDeadlineExceeded when it did
  // not finish in time (it still runs); kFailedPrecondition when not started.
  Result<JobStatus> RunNow(std::string_view job, std::chrono::milliseconds wait = std::chrono::seconds(60));

 private:
  struct Job;
  Updater(DdnsConfig config, UpdaterEnv env);
  void Loop();
  // Runs one job without holding mu_ (only the worker touches job internals then).
  void RunJob(Job& job, bool forced);
  void Notify(const Job& job, std::string_view event, const std::string& previous, const std::string& error);
  void OnInterfaceChange();

  DdnsConfig config_;
  UpdaterEnv env_;
  std::vector<std::unique_ptr<Job>> jobs_;
  std::vector<std::unique_ptr<Provider>> providers_;  // one per config provider, same order

  mutable std::mutex mu_;
  std::condition_variable wake_;   // worker: run-now, interface change, stop
  std::condition_variable done_;   // RunNow callers: a job finished
  Job* current_ = nullptr;  // the job the worker is running now
  bool running_ = false;
  bool stopping_ = false;
  std::shared_ptr<void> watch_;
  std::thread worker_;
};

}  // namespace berth::ddns
