#include "ddns/updater.h"

#include <random>

#include <spdlog/spdlog.h>

#include "ddns/backoff.h"
#include "ddns/hook.h"
#include "dns/wire/types.h"

namespace berth::ddns {

using SteadyClock = std::chrono::steady_clock;
using SystemClock = std::chrono::system_clock;

struct Updater::Job {
  const RecordConfig* config = nullptr;  // into config_.records, fixed for our lifetime
  Provider* provider = nullptr;
  std::unique_ptr<AddressSource> source;
  // Guarded by mu_ (the worker writes under it; readers copy under it).
  JobStatus status;
  bool force = false;       // RunNow asked for a checked run
  bool due_now = false;     // an interface changed
  uint64_t finished = 0;    // completed runs, for RunNow waiters
  SteadyClock::time_point next;
  // Worker thread only.
  uint32_t runs_since_check = 0;
  bool last_ok = false;
};

Updater::Updater(DdnsConfig config, UpdaterEnv env) : config_(std::move(config)), env_(std::move(env)) {}

Result<std::unique_ptr<Updater>> Updater::Make(DdnsConfig config, UpdaterEnv env) {
  std::unique_ptr<Updater> u(new Updater(std::move(config), std::move(env)));
  if (!u->env_.make_provider) u->env_.make_provider = MakeProvider;
  if (!u->env_.random) {
    auto rng = std::make_shared<std::mt19937_64>(std::random_device{}());
    u->env_.random = [rng] { return std::uniform_real_distribution<double>(0.0, 1.0)(*rng); };
  }
  for (const auto& p : u->config_.providers) {
    ASSIGN_OR_RETURN(auto provider, u->env_.make_provider(p));
    u->providers_.push_back(std::move(provider));
  }
  for (const auto& r : u->config_.records) {
    auto job = std::make_unique<Job>();
    job->config = &r;
    for (size_t i = 0; i < u->config_.providers.size(); ++i)
      if (u->config_.providers[i].name == r.provider) job->provider = u->providers_[i].get();
    if (job->provider == nullptr) return InvalidArgument("job " + r.job + ": unknown provider '" + r.provider + "'");
    auto family = r.type == dns::type::kAAAA ? IpAddress::Family::kV6 : IpAddress::Family::kV4;
    job->source = MakeSource(r.source, family, u->env_.interfaces);
    JobStatus& s = job->status;
    s.job = r.job;
    s.provider = r.provider;
    s.provider_type = std::string(ProviderTypeName(u->config_.FindProvider(r.provider)->type));
    s.type = dns::TypeToText(r.type);
    for (const auto& n : r.names) s.names.push_back(n.ToText());
    switch (r.source.kind) {
      case SourceConfig::Kind::kCmd: s.source = "cmd"; break;
      case SourceConfig::Kind::kUrls: s.source = "urls"; break;
      case SourceConfig::Kind::kInterface:
        s.source = "interface" + (r.source.interface.empty() ? std::string() : " " + r.source.interface);
        break;
    }
    u->jobs_.push_back(std::move(job));
  }
  return u;
}

Updater::~Updater() { Stop(); }

Status Updater::Start() {
  {
    std::lock_guard lock(mu_);
    if (running_ || stopping_) return FailedPrecondition("the DDNS updater was already started");
    auto now = SteadyClock::now();
    for (auto& j : jobs_) {
      j->next = now;
      j->status.next_run = SystemClock::now();
    }
  }
  bool follows = false;
  for (const auto& j : jobs_) follows |= j->source->follows_interfaces();
  if (follows && env_.watch) {
    auto w = env_.watch([this] { OnInterfaceChange(); });
    if (!w.ok()) return w.status().WithContext("DDNS interface watch");
    watch_ = std::move(*w);
  } else if (follows) {
    spdlog::warn("ddns: interface jobs follow the timer only (no address watch available)");
  }
  std::lock_guard lock(mu_);
  running_ = true;
  worker_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void Updater::Stop() {
  watch_.reset();  // no more callbacks into us
  {
    std::lock_guard lock(mu_);
    if (!running_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  done_.notify_all();
  if (worker_.joinable()) worker_.join();
  std::lock_guard lock(mu_);
  running_ = false;
}

Status Updater::Reconfigure(DdnsConfig config) {
  ASSIGN_OR_RETURN(std::unique_ptr<Updater> fresh, Make(std::move(config), env_));
  bool was_running;
  {
    std::lock_guard lock(mu_);
    was_running = running_;
  }
  Stop();
  {
    std::lock_guard lock(mu_);
    // Jobs keep pointing at their records and providers: moving the vectors moves their
    // buffers, not the elements.
    for (auto& job : fresh->jobs_) {
      for (const auto& old : jobs_) {
        if (old->status.job != job->status.job || !(*old->config == *job->config)) continue;
        const ProviderConfig* was = config_.FindProvider(old->config->provider);
        const ProviderConfig* now = fresh->config_.FindProvider(job->config->provider);
        if (!was || !now || !(*was == *now)) continue;
        job->status = old->status;
        job->last_ok = old->last_ok;
        job->runs_since_check = old->runs_since_check;
      }
    }
    config_ = std::move(fresh->config_);
    providers_ = std::move(fresh->providers_);
    jobs_ = std::move(fresh->jobs_);
    stopping_ = false;
  }
  spdlog::info("ddns: {} job(s) configured", jobs_.size());
  return was_running ? Start() : Status::Ok();
}

std::vector<JobStatus> Updater::Jobs() const {
  std::lock_guard lock(mu_);
  std::vector<JobStatus> out;
  for (const auto& j : jobs_) out.push_back(j->status);
  return out;
}

Result<JobStatus> Updater::RunNow(std::string_view name, std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  Job* job = nullptr;
  for (auto& j : jobs_)
    if (j->status.job == name) job = j.get();
  if (job == nullptr) return NotFound("no DDNS job '" + std::string(name) + "'");
  if (!running_ || stopping_) return FailedPrecondition("the DDNS updater is not running");
  // A run already under way started before this request: wait for the one after it.
  uint64_t target = job->finished + (current_ == job ? 2 : 1);
  job->force = true;
  wake_.notify_all();
  if (!done_.wait_for(lock, wait, [&] { return job->finished >= target || stopping_; })) {
    return DeadlineExceeded("DDNS job '" + std::string(name) + "' is still running");
  }
  if (job->finished < target) return FailedPrecondition("the DDNS updater stopped");
  return job->status;
}

void Updater::OnInterfaceChange() {
  {
    std::lock_guard lock(mu_);
    for (auto& j : jobs_)
      if (j->source->follows_interfaces()) j->due_now = true;
  }
  wake_.notify_all();
}

void Updater::Loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    auto now = SteadyClock::now();
    Job* pick = nullptr;
    auto earliest = SteadyClock::time_point::max();
    for (auto& j : jobs_) {
      if (j->force || j->due_now || j->next <= now) {
        pick = j.get();
        break;
      }
      earliest = std::min(earliest, j->next);
    }
    if (pick == nullptr) {
      // Every job has a next run in the future, so this sleeps: the loop cannot spin.
      if (earliest == SteadyClock::time_point::max()) wake_.wait(lock);
      else wake_.wait_until(lock, earliest);
      continue;
    }
    bool forced = pick->force;
    pick->force = pick->due_now = false;
    current_ = pick;
    lock.unlock();
    RunJob(*pick, forced);
    lock.lock();
    current_ = nullptr;
    ++pick->finished;
    done_.notify_all();
  }
}

void Updater::RunJob(Job& job, bool forced) {
  const RecordConfig& rc = *job.config;
  auto started = SystemClock::now();
  {
    std::lock_guard lock(mu_);
    ++job.status.runs;
    job.status.last_run = started;
  }
  auto schedule = [&](std::chrono::milliseconds delay) {
    // Under mu_.
    job.next = SteadyClock::now() + delay;
    job.status.next_run = SystemClock::now() + delay;
  };
  auto fail = [&](const Status& error) {
    uint32_t failures;
    std::string previous;
    {
      std::lock_guard lock(mu_);
      failures = ++job.status.consecutive_failures;
      job.status.last_error = error.message();
      previous = job.status.address ? job.status.address->ToString() : "";
      schedule(BackoffDelay(failures, config_.retry_base, config_.retry_max, env_.random()));
    }
    job.last_ok = false;
    spdlog::warn("ddns job {}: {} (failure {} in a row)", rc.job, error.message(), failures);
    if (failures == config_.failure_threshold) Notify(job, "failure", previous, error.message());
  };

  auto address = job.source->Detect();
  if (!address.ok()) return fail(address.status());
  // Only this thread writes status.address, so reading it without the lock is safe.
  std::optional<IpAddress> previous = job.status.address;
  bool changed = !previous || *previous != *address;
  bool check = forced || changed || !job.last_ok || ++job.runs_since_check >= config_.recheck_every;
  if (!check) {
    std::lock_guard lock(mu_);
    job.status.last_result = "address unchanged (" + address->ToString() + "); provider not asked";
    job.status.last_error.clear();
    schedule(config_.interval);
    return;
  }
  job.runs_since_check = 0;
  std::string result;
  bool pushed = false;
  for (const auto& name : rc.names) {
    Desired want{rc.job, rc.zone, name, rc.type, rc.ttl, *address};
    auto action = job.provider->Push(want);
    if (!action.ok()) return fail(action.status());
    pushed |= *action != Action::kUnchanged;
    result += (result.empty() ? "" : ", ") + name.ToText() + " " + std::string(ActionName(*action));
  }
  {
    std::lock_guard lock(mu_);
    job.status.address = *address;
    if (pushed) job.status.last_push = SystemClock::now();
    if (changed) job.status.last_change = SystemClock::now();
    job.status.last_result = result;
    job.status.last_error.clear();
    job.status.consecutive_failures = 0;
    schedule(config_.interval);
  }
  job.last_ok = true;
  if (pushed) {
    spdlog::info("ddns job {}: {} -> {} ({})", rc.job, previous ? previous->ToString() : "none", address->ToString(), result);
    Notify(job, "change", previous ? previous->ToString() : "", "");
  } else {
    spdlog::debug("ddns job {}: {} already published ({})", rc.job, address->ToString(), result);
  }
}

void Updater::Notify(const Job& job, std::string_view event, const std::string& previous, const std::string& error) {
  const RecordConfig& rc = *job.config;
  TemplateVars vars;
  {
    std::lock_guard lock(mu_);
    vars = {{"address", job.status.address ? job.status.address->ToString() : ""},
            {"names", ""},
            {"type", job.status.type},
            {"ttl", std::to_string(rc.ttl)},
            {"job", rc.job},
            {"event", std::string(event)},
            {"previous", previous},
            {"error", error},
            {"failures", std::to_string(job.status.consecutive_failures)}};
  }
  for (const auto& n : rc.names) vars["names"] += (vars["names"].empty() ? "" : ",") + n.ToText();
  for (const auto& hook : config_.notify) {
    if (event == "change" ? !hook.on_change : !hook.on_failure) continue;
    Status s = SendHook(hook.request, vars, std::chrono::seconds(10), "ddns notification");
    if (!s.ok()) spdlog::warn("ddns job {}: {}", rc.job, s.message());
  }
}

}  // namespace berth::ddns
