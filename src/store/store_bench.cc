// The store under the durable-update load of the update benchmark (dnsperf -u): a zone of 1000
// A hosts, ApplyChanges in batches of 32 changes (each: one host's A record swapped for a new
// one and the SOA serial bumped, as the zone service journals an UPDATE), and FoldRRsets over
// the touched RRsets once 10,000 changes are unfolded, keeping 1000 journal entries (the zone
// service's kFoldEvery and kJournalKeep). Reports thread CPU per change (user + system), split
// into the journal commits and the folds, and the system share; waiting for fsync is not CPU,
// but the kernel's work for it is (on a VM, most of an fdatasync's cost).
// Run by hand (not a test): flock /tmp/berth-bench.lock build/bin/bench_store
// The database lives under $TMPDIR (default /tmp, the filesystem the daemon's state uses;
// TMPDIR=/dev/shm leaves out the cost of fsync).
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <time.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "dns/wire/types.h"
#include "dns/zone/test_records.h"
#include "store/store.h"

namespace berth::store {
namespace {

using dns::test::N;
using dns::Record;

constexpr size_t kHosts = 1000;
constexpr size_t kBatch = 32;
constexpr size_t kFoldEvery = 10000;   // daemon::ZoneService::kFoldEvery
constexpr size_t kJournalKeep = 1000;  // daemon::ZoneService::kJournalKeep

// This thread's CPU seconds so far: exact (the clock), unlike getrusage's, which only moves when
// the scheduler accounts and splits user from system by sampling ticks.
double ThreadCpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}
// This thread's system CPU seconds so far (getrusage: right over a long run, not a short one).
double ThreadSysCpu() {
  rusage ru{};
  getrusage(RUSAGE_THREAD, &ru);
  return static_cast<double>(ru.ru_stime.tv_sec) + static_cast<double>(ru.ru_stime.tv_usec) / 1e6;
}

std::string Addr(uint32_t v) {
  return {static_cast<char>(10), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}
Record Host(size_t i, uint32_t addr) {
  return Record{N("host" + std::to_string(i) + ".example."), dns::type::kA, dns::cls::kIN, 300, Addr(addr)};
}
Record Soa(uint32_t serial) {
  return Record{N("example."), dns::type::kSOA, dns::cls::kIN, 3600, dns::test::Soa(serial)};
}

// The zone as the zone service holds it: what each host has now, the serial, and which RRsets
// the changes since the last fold touched.
class Load {
 public:
  explicit Load(Store& store) : store_(store) {
    std::vector<Record> records = {Soa(serial_),
                                   Record{N("example."), dns::type::kNS, dns::cls::kIN, 3600, std::string(N("ns.example.").wire())}};
    for (size_t i = 0; i < kHosts; ++i) {
      addr_.push_back(static_cast<uint32_t>(i));
      records.push_back(Host(i, addr_[i]));
    }
    Status s = store_.CreateZone(N("example."), ZoneSource::kStore, records);
    if (!s.ok()) std::abort();
  }

  // The next batch of kBatch changes (made outside the timing: the zone service's work).
  std::vector<Change> NextBatch() {
    std::vector<Change> changes;
    for (size_t j = 0; j < kBatch; ++j) {
      size_t h = rng_() % kHosts;
      uint32_t next = ++next_addr_;
      changes.push_back(Change{N("example."), {Host(h, addr_[h]), Soa(serial_)}, {Host(h, next), Soa(serial_ + 1)}, serial_ + 1});
      addr_[h] = next;
      ++serial_;
      touched_.insert(h);
    }
    return changes;
  }
  Status Apply(const std::vector<Change>& changes) {
    auto r = store_.ApplyChanges(changes);
    if (!r.ok()) return r.status();
    for (const auto& one : *r) RETURN_IF_ERROR(one.status());
    unfolded_ += changes.size();
    return Status::Ok();
  }
  bool FoldDue() const { return unfolded_ >= kFoldEvery; }
  // What FoldRRsets is given: every RRset touched since the last fold, as ZoneService::FoldDue.
  std::vector<Store::RRsetRecords> Touched() const {
    std::vector<Store::RRsetRecords> rrsets;
    for (size_t h : touched_) {
      Record r = Host(h, addr_[h]);
      rrsets.push_back({r.name, dns::type::kA, {r}});
    }
    rrsets.push_back({N("example."), dns::type::kSOA, {Soa(serial_)}});
    return rrsets;
  }
  Status Fold(const std::vector<Store::RRsetRecords>& rrsets) {
    RETURN_IF_ERROR(store_.FoldRRsets(N("example."), rrsets, kJournalKeep));
    touched_.clear();
    unfolded_ = 0;
    return Status::Ok();
  }

 private:
  Store& store_;
  std::mt19937 rng_{42};
  std::vector<uint32_t> addr_;
  uint32_t next_addr_ = kHosts;
  uint32_t serial_ = 1;
  std::set<size_t> touched_;
  size_t unfolded_ = 0;
};

struct TempDir {
  std::string path;
  TempDir() {
    const char* tmp = std::getenv("TMPDIR");
    path = std::string(tmp && *tmp ? tmp : "/tmp") + "/berth-store-bench-XXXXXX";
    if (mkdtemp(path.data()) == nullptr) std::abort();
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

// One iteration = one batch of kBatch changes, plus the fold when one is due. Runs one full
// fold cycle untimed first, so the journal is at its steady size (kJournalKeep kept entries).
void BM_DurableUpdates(benchmark::State& state) {
  TempDir dir;
  auto store = Store::Open(dir.path + "/state");
  if (!store.ok()) return state.SkipWithError(store.status().ToString().c_str());
  Load load(**store);
  for (size_t i = 0; i < kFoldEvery / kBatch + 1; ++i) {
    if (Status s = load.Apply(load.NextBatch()); !s.ok()) return state.SkipWithError(s.ToString().c_str());
  }
  if (Status s = load.Fold(load.Touched()); !s.ok()) return state.SkipWithError(s.ToString().c_str());

  double apply = 0, fold = 0, sys = 0;
  size_t folds = 0, fold_rrsets = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<Change> batch = load.NextBatch();
    state.ResumeTiming();
    double t0 = ThreadCpu(), s0 = ThreadSysCpu();
    Status s = load.Apply(batch);
    apply += ThreadCpu() - t0;
    if (s.ok() && load.FoldDue()) {
      state.PauseTiming();
      std::vector<Store::RRsetRecords> rrsets = load.Touched();
      state.ResumeTiming();
      fold_rrsets += rrsets.size();
      double t1 = ThreadCpu();
      s = load.Fold(rrsets);
      fold += ThreadCpu() - t1;
      ++folds;
    }
    sys += ThreadSysCpu() - s0;
    if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
  }
  double changes = static_cast<double>(state.iterations() * kBatch);
  state.counters["cpu_us/change"] = (apply + fold) * 1e6 / changes;
  state.counters["apply_us/change"] = apply * 1e6 / changes;
  state.counters["fold_us/change"] = fold * 1e6 / changes;
  state.counters["sys_us/change"] = sys * 1e6 / changes;
  if (folds > 0) {
    state.counters["fold_ms"] = fold * 1e3 / static_cast<double>(folds);
    state.counters["fold_rrsets"] = static_cast<double>(fold_rrsets) / static_cast<double>(folds);
  }
}

// 4 fold cycles: 40,064 changes.
BENCHMARK(BM_DurableUpdates)->Iterations(4 * (kFoldEvery / kBatch + 1))->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace berth::store

BENCHMARK_MAIN();
