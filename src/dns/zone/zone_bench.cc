// Zone::Patch against Zone::Build: a batch of changed A RRsets (plus the SOA serial bump every
// committed batch carries) on zones of 1k, 100k and 1M records, and lookups on a built vs a
// long-patched zone; and the ZoneContent edit every dynamic update makes before patching.
// Run by hand: flock /tmp/berth-bench.lock build/bin/bench_dns_zone
#include <benchmark/benchmark.h>

#include <chrono>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "dns/zone/test_records.h"
#include "dns/zone/zone.h"
#include "dns/zone/zone_content.h"

namespace berth::dns {
namespace {

using test::N;
using test::R;
using test::Soa;


std::string Addr(uint32_t v) { return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)}; }
std::string Host(size_t i) { return "host" + std::to_string(i) + ".example."; }

// `n` records: SOA, NS, one A per host.
struct Fixture {
  std::vector<Record> records;
  std::shared_ptr<const Zone> zone;
  explicit Fixture(size_t n) {
    records.push_back(Record{N("example."), type::kSOA, cls::kIN, 3600, Soa(1)});
    records.push_back(Record{N("example."), type::kNS, cls::kIN, 3600, std::string(N("ns.example.").wire())});
    for (size_t i = 0; records.size() < n; ++i) records.push_back(Record{N(Host(i)), type::kA, cls::kIN, 300, Addr(static_cast<uint32_t>(i))});
    zone = *Zone::Build(N("example."), records);
  }
  size_t hosts() const { return records.size() - 2; }
};

Fixture& Shared(size_t n) {
  static std::map<size_t, Fixture*> fixtures;
  Fixture*& f = fixtures[n];
  if (!f) f = new Fixture(n);
  return *f;
}

// A ring of batches, made before timing: `k` random hosts get a new address, and the SOA a new
// serial. With `churn`, half the batch adds fresh names and half removes them again.
std::vector<std::vector<Zone::RRsetChange>> Batches(const Fixture& f, size_t k, bool churn, size_t count = 64) {
  std::mt19937 rng(42);
  std::vector<std::vector<Zone::RRsetChange>> out(count);
  for (size_t b = 0; b < count; ++b) {
    for (size_t j = 0; j < k; ++j) {
      Name owner = N(Host(rng() % f.hosts()));
      if (churn) owner = N("new" + std::to_string(j) + ".sub" + std::to_string(j % 7) + ".example.");
      Zone::RRsetChange c{owner, type::kA, {}};
      if (!churn || b % 2 == 0) c.records.push_back(Record{owner, type::kA, cls::kIN, 300, Addr(static_cast<uint32_t>(rng()))});
      out[b].push_back(std::move(c));
    }
    Name apex = N("example.");
    out[b].push_back({apex, type::kSOA, {Record{apex, type::kSOA, cls::kIN, 3600, Soa(static_cast<uint32_t>(b + 2))}}});
  }
  return out;
}

void BM_Build(benchmark::State& state) {
  Fixture& f = Shared(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<Record> copy = f.records;
    state.ResumeTiming();
    auto z = Zone::Build(N("example."), std::move(copy));
    benchmark::DoNotOptimize(z);
  }
}

void RunPatch(benchmark::State& state, bool churn) {
  Fixture& f = Shared(static_cast<size_t>(state.range(0)));
  auto batches = Batches(f, static_cast<size_t>(state.range(1)), churn);
  std::shared_ptr<const Zone> zone = f.zone;
  size_t i = 0;
  double max_ms = 0;  // the slowest batch: one that compacts, if any did
  for (auto _ : state) {
    auto start = std::chrono::steady_clock::now();
    auto next = Zone::Patch(*zone, batches[i++ % batches.size()]);
    if (!next.ok()) state.SkipWithError(next.status().ToString().c_str());
    zone = *next;  // the old snapshot is freed here, as when the last reader lets go
    max_ms = std::max(max_ms, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  state.counters["MB"] = static_cast<double>(zone->MemoryBytes()) / 1e6;
  state.counters["max_ms"] = max_ms;
}
void BM_Patch(benchmark::State& state) { RunPatch(state, false); }
void BM_PatchChurn(benchmark::State& state) { RunPatch(state, true); }

// Lookups of existing names (the query path's Find + FindRRset), on the built zone and on one
// patched `range(1)` times with batches of 500.
void BM_Find(benchmark::State& state) {
  Fixture& f = Shared(static_cast<size_t>(state.range(0)));
  std::shared_ptr<const Zone> zone = f.zone;
  auto batches = Batches(f, 500, false, 16);
  for (int64_t b = 0; b < state.range(1); ++b) zone = *Zone::Patch(*zone, batches[b % batches.size()]);
  std::mt19937 rng(7);
  std::vector<std::string> keys;
  for (int i = 0; i < 4096; ++i) keys.emplace_back(N(Host(rng() % f.hosts())).wire());
  size_t i = 0;
  for (auto _ : state) {
    const Zone::Node* n = zone->Find(keys[i++ & 4095]);
    benchmark::DoNotOptimize(zone->FindRRset(*n, type::kA));
  }
}

// One durable update as the committer runs it (dnsperf -u: "delete hN A; add hN 60 A x"):
// Begin, the edit, the serial bump, the rule check, the journal diff, Commit. Zone of
// range(0) records (SOA, NS, A hosts); hosts taken round-robin.
void BM_ContentEdit(benchmark::State& state) {
  Fixture& f = Shared(static_cast<size_t>(state.range(0)));
  ZoneContent content(N("example."), f.records);
  std::vector<Record> adds;
  for (size_t i = 0; i < f.hosts(); ++i) adds.push_back(f.records[i + 2]);
  uint32_t serial = content.serial();
  size_t i = 0;
  for (auto _ : state) {
    Record& add = adds[i++ % adds.size()];
    add.ttl = 60;
    add.rdata[3] = static_cast<char>(add.rdata[3] + 1);
    content.Begin();
    content.RemoveRRset(add.name, type::kA);
    content.Add(add);
    if (Status s = content.SetSerial(++serial); !s.ok()) state.SkipWithError(s.ToString().c_str());
    if (Status s = content.CheckTouched(); !s.ok()) state.SkipWithError(s.ToString().c_str());
    benchmark::DoNotOptimize(content.Diff());
    content.Commit();
  }
}

// A bulk REST PATCH: range(1) RRsets replaced in one edit, then check, diff and commit.
void BM_ContentBulkEdit(benchmark::State& state) {
  Fixture& f = Shared(static_cast<size_t>(state.range(0)));
  ZoneContent content(N("example."), f.records);
  const size_t k = static_cast<size_t>(state.range(1));
  std::vector<Record> sets;
  for (size_t j = 0; j < k; ++j) sets.push_back(f.records[2 + j * (f.hosts() / k)]);
  uint32_t serial = content.serial();
  for (auto _ : state) {
    content.Begin();
    for (auto& r : sets) {
      r.rdata[3] = static_cast<char>(r.rdata[3] + 1);
      content.ReplaceRRset(r.name, type::kA, {r});
    }
    if (Status s = content.SetSerial(++serial); !s.ok()) state.SkipWithError(s.ToString().c_str());
    if (Status s = content.CheckTouched(); !s.ok()) state.SkipWithError(s.ToString().c_str());
    benchmark::DoNotOptimize(content.Diff());
    content.Commit();
  }
}

void Sizes(benchmark::internal::Benchmark* b) {
  for (int64_t n : {1000, 100000, 1000000}) b->Arg(n);
  b->Unit(benchmark::kMillisecond);
}
void PatchSizes(benchmark::internal::Benchmark* b) {
  for (int64_t n : {1000, 100000, 1000000})
    for (int64_t k : {1, 50, 500}) b->Args({n, k});
  b->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_Build)->Apply(Sizes);
BENCHMARK(BM_Patch)->Apply(PatchSizes);
// Long enough to include the compactions (every ~170 batches at 100k, ~1700 at 1M).
BENCHMARK(BM_Patch)->Args({100000, 500})->Iterations(1000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Patch)->Args({1000000, 500})->Iterations(4000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PatchChurn)->Apply(PatchSizes);
BENCHMARK(BM_Find)->ArgsProduct({{1000, 100000, 1000000}, {0, 300}});
BENCHMARK(BM_ContentEdit)->Arg(1002)->Arg(100000);
BENCHMARK(BM_ContentBulkEdit)->Args({100000, 1000})->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace berth::dns

BENCHMARK_MAIN();
