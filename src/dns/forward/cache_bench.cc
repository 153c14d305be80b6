// Microbenchmark of the AnswerCache hit path (what a forwarded query costs once cached):
// parse the query, build the key, copy + patch the answer. Run bin/bench_dns_cache.
#include <benchmark/benchmark.h>

#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "dns/forward/cache.h"
#include "dns/forward/test_util.h"

namespace berth::dns {
namespace {

using namespace forward_test;

std::string NameOf(int i) { return "host" + std::to_string(i) + ".Example.COM."; }

// A typical answer: two A records plus an OPT record, for an EDNS client.
std::string Answer(const std::string& name) {
  Message r = ResponseTo(QueryMsg(1, name, type::kA, true));
  r.answers.push_back(Rr(name, type::kA, 3600, A(192, 0, 2, 1)));
  r.answers.push_back(Rr(name, type::kA, 3600, A(192, 0, 2, 2)));
  return r.Build();
}

// A cache holding `n` answers, plus the queries that hit them.
struct Fixture {
  AnswerCache cache;
  // Queries packed at a fixed stride, like packets in a receive ring, so the benchmark measures
  // the cache's memory traffic rather than scattered std::string heap blocks.
  static constexpr size_t kStride = 64;
  std::vector<uint8_t> queries;
  std::vector<uint8_t> lengths;
  AnswerCache::Clock::time_point t0 = AnswerCache::Clock::now();

  // Room for twice the entries: shards are not filled evenly.
  explicit Fixture(int n) : cache(AnswerCacheOptions{.max_entries = 2 * static_cast<size_t>(n)}) {
    for (int i = 0; i < n; ++i) {
      std::string q = QueryMsg(static_cast<uint16_t>(i), NameOf(i), type::kA, true).Build();
      auto info = ParseQuery(Bytes(q), q.size());
      if (!cache.Insert(CacheKey::FromQuery(Bytes(q), *info), Answer(NameOf(i)), t0).ok()) abort();
      if (q.size() > kStride) abort();
      queries.resize((static_cast<size_t>(i) + 1) * kStride);
      std::memcpy(&queries[static_cast<size_t>(i) * kStride], q.data(), q.size());
      lengths.push_back(static_cast<uint8_t>(q.size()));
    }
  }
  size_t size() const { return lengths.size(); }
  const uint8_t* query(size_t i) const { return &queries[i * kStride]; }
};

// One fixture per size, shared by a benchmark's threads and built once.
Fixture* Shared(int n) {
  static std::mutex mu;
  static std::map<int, Fixture*> fixtures;
  std::lock_guard lock(mu);
  Fixture*& f = fixtures[n];
  if (!f) f = new Fixture(n);
  return f;
}

// Full hit over n cached names: ParseQuery + CacheKey + Lookup, as the server does per packet.
void BM_CacheHit(benchmark::State& state) {
  Fixture* fixture = Shared(static_cast<int>(state.range(0)));
  uint8_t out[1232];
  size_t i = static_cast<size_t>(state.thread_index()) * 7919;
  auto now = fixture->t0 + std::chrono::seconds(5);
  for (auto _ : state) {
    size_t k = i++ % fixture->size();
    const uint8_t* q = fixture->query(k);
    auto info = ParseQuery(q, fixture->lengths[k]);
    CacheKey key = CacheKey::FromQuery(q, *info);
    size_t n = fixture->cache.Lookup(key, q, fixture->lengths[k], out, sizeof out, now);
    if (n == 0) state.SkipWithError("miss");
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CacheHit)->Arg(1000)->Arg(100000)->Threads(1)->Threads(2)->UseRealTime();

// Lookup alone with a prebuilt key (copy + TTL patch + ID/case rewrite).
void BM_CacheLookupOnly(benchmark::State& state) {
  Fixture fixture(1);
  const uint8_t* q = fixture.query(0);
  auto info = ParseQuery(q, fixture.lengths[0]);
  CacheKey key = CacheKey::FromQuery(q, *info);
  uint8_t out[1232];
  auto now = fixture.t0 + std::chrono::seconds(5);
  for (auto _ : state) {
    benchmark::DoNotOptimize(fixture.cache.Lookup(key, q, fixture.lengths[0], out, sizeof out, now));
  }
}
BENCHMARK(BM_CacheLookupOnly);

}  // namespace
}  // namespace berth::dns

BENCHMARK_MAIN();
