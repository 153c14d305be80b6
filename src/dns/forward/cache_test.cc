// GCC sees malloc/free under the replaced operators as mismatched; they are not.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include "dns/forward/cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include <thread>

#include "dns/forward/test_util.h"

// Counts every allocation in this binary so a test can prove the hit path makes none.
static std::atomic<size_t> g_allocations{0};
void* operator new(size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace berth::dns {
namespace {

using namespace std::chrono_literals;
using namespace forward_test;
using Clock = AnswerCache::Clock;

CacheKey KeyFor(const std::string& query) {
  auto info = ParseQuery(Bytes(query), query.size());
  EXPECT_TRUE(info.ok());
  return CacheKey::FromQuery(Bytes(query), *info);
}

// An upstream answer for name/A with two records of different TTLs.
std::string Answer(std::string_view name, uint32_t ttl1, uint32_t ttl2, bool edns = true) {
  Message r = ResponseTo(QueryMsg(0x4242, name, type::kA, edns));
  r.answers.push_back(Rr(name, type::kA, ttl1, A(192, 0, 2, 1)));
  r.answers.push_back(Rr(name, type::kA, ttl2, A(192, 0, 2, 2)));
  return r.Build();
}

std::string Query(std::string_view name, uint16_t qtype = type::kA, uint16_t id = 1,
                  bool edns = false, bool dnssec_ok = false) {
  return QueryMsg(id, name, qtype, edns, dnssec_ok).Build();
}

class AnswerCacheTest : public ::testing::Test {
 protected:
  void Reset(AnswerCacheOptions opt) { cache_ = std::make_unique<AnswerCache>(opt); }
  AnswerCache& cache() { return *cache_; }
  Status Put(const std::string& query, const std::string& response) {
    return cache_->Insert(KeyFor(query), response, t0_);
  }
  // Size of the answer to `query` at t0 + age, 0 on a miss.
  size_t Lookup(const std::string& query, Clock::duration age, size_t cap = kOutSize) {
    return cache_->Lookup(KeyFor(query), Bytes(query), query.size(), out_, cap, t0_ + age);
  }
  bool Hits(const std::string& query, Clock::duration age) { return Lookup(query, age) > 0; }
  // The parsed answer to `query` at t0 + age (a hit is expected).
  Message Hit(const std::string& query, Clock::duration age, size_t cap = kOutSize) {
    size_t n = Lookup(query, age, cap);
    EXPECT_GT(n, 0u);
    auto m = Message::Parse(out_, n);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? *m : Message{};
  }

  static constexpr size_t kOutSize = 4096;
  std::unique_ptr<AnswerCache> cache_ = std::make_unique<AnswerCache>();
  Clock::time_point t0_{};
  uint8_t out_[kOutSize];
};

TEST_F(AnswerCacheTest, HitRewritesIdCaseAndTtls) {
  ASSERT_TRUE(Put(Query("www.example.", type::kA, 1, true), Answer("www.example.", 300, 100)).ok());
  Message m = Hit(Query("WwW.eXample.", type::kA, 0xABCD, true), 42s + 900ms);
  EXPECT_EQ(m.id, 0xABCD);
  EXPECT_EQ(m.questions[0].name.ToText(), "WwW.eXample.");
  EXPECT_TRUE(m.has(flag::kQR));
  EXPECT_TRUE(m.has(flag::kRA));
  ASSERT_EQ(m.answers.size(), 2u);
  EXPECT_EQ(m.answers[0].ttl, 300u - 42);
  EXPECT_EQ(m.answers[1].ttl, 100u - 42);
  ASSERT_TRUE(m.edns);
  EXPECT_EQ(m.edns->udp_size, kDefaultEdnsSize);

  AnswerCacheStats st = cache().Stats();
  EXPECT_EQ(st.hits, 1u);
  EXPECT_EQ(st.inserts, 1u);
  EXPECT_EQ(st.entries, 1u);
}

TEST_F(AnswerCacheTest, KeyIncludesTypeAndDoBit) {
  ASSERT_TRUE(Put(Query("www.example.", type::kA, 1, true), Answer("www.example.", 300, 300)).ok());
  EXPECT_FALSE(Hits(Query("www.example.", type::kA, 2, true, true), 0s));
  EXPECT_FALSE(Hits(Query("www.example.", type::kAAAA, 3, true), 0s));
  EXPECT_TRUE(Hits(Query("WWW.example.", type::kA, 4, false), 0s));  // EDNS itself is no key
  EXPECT_EQ(cache().Stats().misses, 2u);
}

TEST_F(AnswerCacheTest, ExpiresAtShortestTtl) {
  std::string q = Query("www.example.");
  ASSERT_TRUE(Put(q, Answer("www.example.", 300, 100, false)).ok());
  EXPECT_TRUE(Hits(q, 99s));
  EXPECT_FALSE(Hits(q, 100s));
  EXPECT_EQ(cache().Stats().entries, 0u);  // the expired entry was dropped
}

TEST_F(AnswerCacheTest, CapsTtlAtMax) {
  Reset({.max_ttl = 60});
  std::string q = Query("www.example.");
  ASSERT_TRUE(Put(q, Answer("www.example.", 604800, 604800, false)).ok());
  EXPECT_EQ(Hit(q, 10s).answers[0].ttl, 50u);
  EXPECT_FALSE(Hits(q, 60s));
}

TEST_F(AnswerCacheTest, NegativeTtlFromSoa) {
  Message q = QueryMsg(1, "nope.example.", type::kA);
  Message r = ResponseTo(q, rcode::kNXDomain);
  r.authority.push_back(Soa("example.", 3600, 30));  // MINIMUM 30 < SOA TTL
  ASSERT_TRUE(Put(q.Build(), r.Build()).ok());
  Message m = Hit(q.Build(), 10s);
  EXPECT_EQ(m.rcode(), rcode::kNXDomain);
  ASSERT_EQ(m.authority.size(), 1u);
  EXPECT_EQ(m.authority[0].ttl, 20u);  // RFC 2308 §3: min(SOA TTL, MINIMUM), decremented
  EXPECT_FALSE(Hits(q.Build(), 30s));

  // NODATA with an SOA TTL below MINIMUM uses the TTL.
  Message q2 = QueryMsg(1, "www.example.", type::kAAAA);
  Message r2 = ResponseTo(q2);
  r2.authority.push_back(Soa("example.", 15, 3600));
  ASSERT_TRUE(Put(q2.Build(), r2.Build()).ok());
  EXPECT_TRUE(Hits(q2.Build(), 14s));
  EXPECT_FALSE(Hits(q2.Build(), 15s));
}

TEST_F(AnswerCacheTest, RefusesUncacheableResponses) {
  Message q = QueryMsg(1, "nope.example.", type::kA);
  std::string query = q.Build();
  EXPECT_FALSE(Put(query, ResponseTo(q, rcode::kNXDomain).Build()).ok());  // no SOA
  EXPECT_FALSE(Put(query, ResponseTo(q, rcode::kRefused).Build()).ok());
  std::string truncated = Answer("nope.example.", 60, 60);
  truncated[2] |= 0x02;  // TC
  EXPECT_FALSE(Put(query, truncated).ok());
  EXPECT_FALSE(Put(query, Answer("other.example.", 60, 60)).ok());
  EXPECT_FALSE(Put(query, Answer("nope.example.", 0, 60)).ok());
  EXPECT_FALSE(Put(query, "garbage").ok());
  EXPECT_EQ(cache().Stats().entries, 0u);

  // SERVFAIL is kept for servfail_ttl only.
  ASSERT_TRUE(Put(query, ResponseTo(q, rcode::kServFail).Build()).ok());
  EXPECT_TRUE(Hits(query, 4s));
  EXPECT_FALSE(Hits(query, 5s));
}

TEST_F(AnswerCacheTest, TruncatesWhenClientBufferIsSmall) {
  Message q = QueryMsg(1, "big.example.", type::kA);
  Message r = ResponseTo(q);
  for (int i = 0; i < 40; ++i) r.answers.push_back(Rr("big.example.", type::kA, 60, A(10, 0, 0, i)));
  std::string wire = r.Build();
  ASSERT_GT(wire.size(), 512u);
  ASSERT_TRUE(Put(q.Build(), wire).ok());
  Message m = Hit(q.Build(), 0s, 512);
  EXPECT_TRUE(m.has(flag::kTC));
  EXPECT_EQ(m.id, 1);
  EXPECT_TRUE(m.answers.empty());
}

TEST_F(AnswerCacheTest, EvictsLeastRecentlyUsed) {
  Reset({.shards = 1, .max_entries = 3});
  auto name = [](int i) { return "h" + std::to_string(i) + ".example."; };
  auto insert = [&](int i) {
    ASSERT_TRUE(Put(Query(name(i)), Answer(name(i), 60, 60, false)).ok());
  };
  auto hit = [&](int i) { return Hits(Query(name(i)), 0s); };
  insert(0);
  insert(1);
  insert(2);
  EXPECT_TRUE(hit(0));  // 0 becomes the most recent, 1 the least
  insert(3);
  EXPECT_FALSE(hit(1));
  EXPECT_TRUE(hit(0));
  EXPECT_TRUE(hit(2));
  EXPECT_TRUE(hit(3));
  EXPECT_EQ(cache().Stats().entries, 3u);
  EXPECT_EQ(cache().Stats().evictions, 1u);

  for (int i = 4; i < 100; ++i) insert(i);
  EXPECT_EQ(cache().Stats().entries, 3u);
}

TEST_F(AnswerCacheTest, SetMaxEntriesShrinksByLruAndGrowsLater) {
  Reset({.shards = 1, .max_entries = 8});
  auto name = [](int i) { return "s" + std::to_string(i) + ".example."; };
  auto insert = [&](int i) { ASSERT_TRUE(Put(Query(name(i)), Answer(name(i), 60, 60, false)).ok()); };
  auto hit = [&](int i) { return Hits(Query(name(i)), 0s); };
  for (int i = 0; i < 8; ++i) insert(i);
  EXPECT_TRUE(hit(0));  // the most recent now; 1 and 2 are the least recent
  cache().SetMaxEntries(6);
  EXPECT_EQ(cache().Stats().entries, 6u);
  EXPECT_FALSE(hit(1));
  EXPECT_FALSE(hit(2));
  for (int i : {0, 3, 4, 5, 6, 7}) EXPECT_TRUE(hit(i)) << i;  // found through the rehashed table

  cache().SetMaxEntries(100);
  for (int i = 8; i < 100; ++i) insert(i);
  EXPECT_EQ(cache().Stats().entries, 98u);  // 6 kept + 92 new: nothing evicted
  EXPECT_EQ(cache().Stats().evictions, 2u);
  for (int i = 8; i < 100; ++i) EXPECT_TRUE(hit(i)) << i;
}

TEST_F(AnswerCacheTest, ByteBudgetBoundsMemory) {
  Reset({.shards = 4, .max_bytes = 16 * 1024});
  for (int i = 0; i < 1000; ++i) {
    std::string name = "n" + std::to_string(i) + ".example.";
    ASSERT_TRUE(Put(Query(name), Answer(name, 60, 60, false)).ok());
  }
  AnswerCacheStats st = cache().Stats();
  EXPECT_LE(st.bytes, 16u * 1024);
  EXPECT_GT(st.evictions, 0u);
  EXPECT_GT(st.entries, 0u);
}

TEST_F(AnswerCacheTest, HitDoesNotAllocate) {
  std::string query = Query("Www.Example.", type::kA, 7, true);
  ASSERT_TRUE(Put(query, Answer("www.example.", 300, 300)).ok());
  auto info = ParseQuery(Bytes(query), query.size());
  ASSERT_TRUE(info.ok());
  size_t before = g_allocations.load();
  size_t total = 0;
  for (int i = 0; i < 100; ++i) {
    auto parsed = ParseQuery(Bytes(query), query.size());
    CacheKey k = CacheKey::FromQuery(Bytes(query), *parsed);
    total += cache().Lookup(k, Bytes(query), query.size(), out_, kOutSize, t0_ + 1s);
  }
  EXPECT_EQ(g_allocations.load(), before);
  EXPECT_EQ(total, 100 * (Answer("www.example.", 300, 300).size()));
}

TEST_F(AnswerCacheTest, ConcurrentHitsAndInserts) {
  Reset({.shards = 4, .max_entries = 64});
  std::atomic<size_t> bad{0};
  auto work = [&](int seed) {
    uint8_t out[1024];
    for (int i = 0; i < 20000; ++i) {
      std::string name = "c" + std::to_string((i * 7 + seed) % 200) + ".example.";
      std::string q = Query(name, type::kA, static_cast<uint16_t>(i));
      CacheKey key = KeyFor(q);
      size_t len = cache().Lookup(key, Bytes(q), q.size(), out, sizeof out, t0_);
      if (len == 0) {
        if (!cache().Insert(key, Answer(name, 60, 60, false), t0_).ok()) ++bad;
        continue;
      }
      auto m = Message::Parse(out, len);
      if (!m.ok() || m->id != static_cast<uint16_t>(i) || m->answers.size() != 2 ||
          !(m->questions[0].name == N(name)))
        ++bad;
    }
  };
  std::thread a(work, 0), b(work, 3);
  a.join();
  b.join();
  EXPECT_EQ(bad.load(), 0u);
  AnswerCacheStats st = cache().Stats();
  EXPECT_EQ(st.hits + st.misses, 40000u);
  EXPECT_GT(st.hits, 0u);
  EXPECT_LE(st.entries, 64u);
}

}  // namespace
}  // namespace berth::dns
