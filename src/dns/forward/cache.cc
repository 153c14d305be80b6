#include "dns/forward/cache.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <mutex>
#include <new>


namespace berth::dns {
namespace {

// The murmur3 finalizer spreads every input bit over the bucket and shard bits.
uint64_t Mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

}  // namespace

CacheKey CacheKey::Make(std::string_view name_wire, uint16_t qtype, uint16_t qclass,
                        bool dnssec_ok, bool client_edns) {
  CacheKey k;
  size_t n = std::min(name_wire.size(), kMaxNameWire);
  for (size_t i = 0; i < n; ++i) {
    auto c = static_cast<uint8_t>(name_wire[i]);
    k.name[i] = static_cast<uint8_t>(c | (static_cast<uint8_t>(c - 'A') < 26) << 5);  // lower
  }
  // Eight bytes per step: names are short, so this is most of the key's cost.
  uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, k.name + i, 8);
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    h ^= h >> 29;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, k.name + i, n - i);
  h ^= tail;
  k.name_len = static_cast<uint8_t>(n);
  k.qtype = qtype;
  k.qclass = qclass;
  k.dnssec_ok = dnssec_ok;
  k.client_edns = client_edns;
  k.hash = Mix(h ^ (uint64_t{qtype} << 32 | uint64_t{qclass} << 16 | (dnssec_ok ? 1u : 0u)));
  return k;
}

CacheKey CacheKey::FromQuery(const uint8_t* query, const QueryInfo& info) {
  return Make(std::string_view(reinterpret_cast<const char*>(query) + kHeaderSize, info.qname_len),
              info.qtype, info.qclass, info.dnssec_ok, info.has_edns);
}

// One cached response in a single allocation: this header, then `n_offsets` TTL offsets, then
// `wire_len` bytes of body (without OPT, question name lower-cased so it doubles as the key's
// name). One block keeps a hit to about two cache misses (bucket slot, entry).
struct AnswerCache::Entry {
  Entry* chain = nullptr;  // next entry in the same hash bucket
  Entry* newer = nullptr;  // LRU neighbours
  Entry* older = nullptr;
  uint64_t hash = 0;
  Clock::time_point inserted;
  uint32_t ttl = 0;  // seconds the entry may be served
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  uint16_t wire_len = 0;
  uint16_t n_offsets = 0;
  uint8_t name_len = 0;
  bool dnssec_ok = false;

  static size_t Cost(size_t n_offsets, size_t wire_len) {
    return sizeof(Entry) + n_offsets * sizeof(uint16_t) + wire_len;
  }
  static Entry* Create(size_t n_offsets, size_t wire_len) {
    Entry* e = new (::operator new(Cost(n_offsets, wire_len))) Entry;
    e->n_offsets = static_cast<uint16_t>(n_offsets);
    e->wire_len = static_cast<uint16_t>(wire_len);
    return e;
  }
  static void Destroy(Entry* e) {
    e->~Entry();
    ::operator delete(e);
  }
  size_t cost() const { return Cost(n_offsets, wire_len); }
  uint16_t* offsets() { return reinterpret_cast<uint16_t*>(this + 1); }
  uint8_t* wire() { return reinterpret_cast<uint8_t*>(offsets() + n_offsets); }

  bool Matches(const CacheKey& k) {
    return hash == k.hash && qtype == k.qtype && qclass == k.qclass && dnssec_ok == k.dnssec_ok &&
           name_len == k.name_len && std::memcmp(wire() + kHeaderSize, k.name, name_len) == 0;
  }
};

// alignas keeps two shards' mutexes and counters off one cache line.
struct alignas(64) AnswerCache::Shard {
  std::mutex mu;
  std::vector<Entry*> buckets;  // power-of-two size, chained
  Entry* newest = nullptr;
  Entry* oldest = nullptr;
  size_t entries = 0;
  size_t bytes = 0;
  size_t max_entries = 0;
  size_t max_bytes = 0;
  // Written under `mu`; atomics so Stats() may read them without it.
  std::atomic<uint64_t> hits{0}, misses{0}, inserts{0}, evictions{0};

  Entry** Slot(uint64_t hash) { return &buckets[hash & (buckets.size() - 1)]; }

  Entry* Find(const CacheKey& k) {
    for (Entry* e = *Slot(k.hash); e; e = e->chain)
      if (e->Matches(k)) return e;
    return nullptr;
  }

  void LinkNewest(Entry* e) {
    e->older = newest;
    e->newer = nullptr;
    if (newest) newest->newer = e;
    newest = e;
    if (!oldest) oldest = e;
  }
  void UnlinkLru(Entry* e) {
    (e->newer ? e->newer->older : newest) = e->older;
    (e->older ? e->older->newer : oldest) = e->newer;
  }
  void Touch(Entry* e) {
    if (newest == e) return;
    UnlinkLru(e);
    LinkNewest(e);
  }

  void Add(Entry* e) {
    Entry** slot = Slot(e->hash);
    e->chain = *slot;
    *slot = e;
    LinkNewest(e);
    ++entries;
    bytes += e->cost();
  }
  void Remove(Entry* e) {
    Entry** p = Slot(e->hash);
    while (*p != e) p = &(*p)->chain;
    *p = e->chain;
    UnlinkLru(e);
    --entries;
    bytes -= e->cost();
    Entry::Destroy(e);
  }
  void Clear() {
    while (oldest) Remove(oldest);
  }
  // Rebuilds the chains over `size` buckets (a power of two); the LRU list is untouched.
  void Rehash(size_t size) {
    std::vector<Entry*> fresh(size, nullptr);
    buckets.swap(fresh);
    for (Entry* e = oldest; e; e = e->newer) {
      Entry** slot = Slot(e->hash);
      e->chain = *slot;
      *slot = e;
    }
  }
};

AnswerCache::AnswerCache(AnswerCacheOptions options)
    : options_(options),
      shard_mask_(std::bit_ceil(std::max<size_t>(options.shards, 1)) - 1),
      shards_(std::make_unique<Shard[]>(shard_mask_ + 1)) {
  size_t n = shard_mask_ + 1;
  size_t per_shard = std::max<size_t>(options_.max_entries / n, 1);
  for (size_t i = 0; i < n; ++i) {
    Shard& s = shards_[i];
    s.max_entries = per_shard;
    s.max_bytes = std::max<size_t>(options_.max_bytes / n, 1);
    s.buckets.assign(std::bit_ceil(per_shard), nullptr);
  }
}

AnswerCache::~AnswerCache() { Clear(); }

AnswerCache::Shard& AnswerCache::ShardFor(uint64_t hash) const {
  return shards_[(hash >> 40) & shard_mask_];
}

size_t AnswerCache::Lookup(const CacheKey& key, const uint8_t* query, size_t query_len,
                           uint8_t* out, size_t out_cap, Clock::time_point now) {
  Shard& s = ShardFor(key.hash);
  if (query_len < kHeaderSize + key.name_len + 4) {
    s.misses.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  size_t body_len;
  {
    std::lock_guard lock(s.mu);
    Entry* e = s.Find(key);
    if (!e) {
      s.misses.fetch_add(1, std::memory_order_relaxed);
      return 0;
    }
    auto age = std::chrono::duration_cast<std::chrono::seconds>(now - e->inserted).count();
    uint32_t elapsed = age <= 0 ? 0 : static_cast<uint32_t>(std::min<int64_t>(age, UINT32_MAX));
    if (elapsed >= e->ttl) {
      s.Remove(e);
      s.misses.fetch_add(1, std::memory_order_relaxed);
      return 0;
    }
    s.Touch(e);
    s.hits.fetch_add(1, std::memory_order_relaxed);
    body_len = e->wire_len;
    if (body_len + (key.client_edns ? kOptSize : 0) > out_cap) {
      return WriteTruncatedAnswer(e->wire(), query, key.name_len, key.client_edns, key.dnssec_ok,
                                  out, out_cap);
    }
    std::memcpy(out, e->wire(), body_len);
    const uint16_t* offsets = e->offsets();
    for (size_t i = 0; i < e->n_offsets; ++i) {
      uint32_t ttl = LoadU32(out + offsets[i]);
      StoreU32(out + offsets[i], ttl > elapsed ? ttl - elapsed : 0);
    }
  }
  return FinishClientAnswer(out, body_len, query, key.name_len, key.client_edns, key.dnssec_ok);
}

Status AnswerCache::Insert(const CacheKey& key, std::string_view response_wire,
                           Clock::time_point now) {
  const auto* msg = reinterpret_cast<const uint8_t*>(response_wire.data());
  ASSIGN_OR_RETURN(ResponseInfo info, AnalyzeResponse(msg, response_wire.size()));
  if (info.flags & flag::kTC) return InvalidArgument("truncated response");
  if (((info.flags >> 11) & 0xF) != opcode::kQuery) return InvalidArgument("not a QUERY response");
  if (!QuestionMatches(msg, info, key.name_view(), key.qtype, key.qclass))
    return InvalidArgument("response question differs from the key");

  // `ttl` is how long the entry lives; every RR's TTL is capped at `cap` so a client never
  // learns a longer lifetime than ours (negative answers: the SOA gets the negative TTL).
  uint32_t ttl = 0, cap = 0;
  bool positive = info.rcode == rcode::kNoError && info.ancount > 0;
  bool negative = !positive && (info.rcode == rcode::kNoError || info.rcode == rcode::kNXDomain);
  if (positive) {
    // Like unbound, the whole message lives as long as its shortest record.
    ttl = std::min(info.min_ttl, options_.max_ttl);
    cap = options_.max_ttl;
  } else if (negative) {
    if (!info.has_soa) return FailedPrecondition("negative answer without SOA");
    ttl = cap = std::min({info.min_ttl, info.soa_negative_ttl, options_.max_negative_ttl});
  } else if (info.rcode == rcode::kServFail) {
    ttl = cap = options_.servfail_ttl;
  } else {
    return FailedPrecondition("rcode not cached");
  }
  if (ttl == 0) return FailedPrecondition("zero TTL");

  size_t cost = Entry::Cost(info.ttl_offsets.size(), info.body_len);
  Shard& s = ShardFor(key.hash);
  if (cost > s.max_bytes) return ResourceExhausted("response larger than a cache shard");
  Entry* e = Entry::Create(info.ttl_offsets.size(), info.body_len);
  e->hash = key.hash;
  e->inserted = now;
  e->ttl = ttl;
  e->qtype = key.qtype;
  e->qclass = key.qclass;
  e->name_len = key.name_len;
  e->dnssec_ok = key.dnssec_ok;
  uint8_t* w = e->wire();
  CopyBody(msg, info, w);
  std::memcpy(w + kHeaderSize, key.name, key.name_len);
  std::copy(info.ttl_offsets.begin(), info.ttl_offsets.end(), e->offsets());
  for (uint16_t off : info.ttl_offsets) {
    uint32_t rr_ttl = LoadU32(w + off);
    StoreU32(w + off, (rr_ttl & 0x80000000u) ? 0 : std::min(rr_ttl, cap));
  }

  std::lock_guard lock(s.mu);
  if (Entry* old = s.Find(key)) s.Remove(old);
  s.Add(e);
  s.inserts.fetch_add(1, std::memory_order_relaxed);
  while (s.entries > s.max_entries || s.bytes > s.max_bytes) {
    s.Remove(s.oldest);
    s.evictions.fetch_add(1, std::memory_order_relaxed);
  }
  return Status::Ok();
}

void AnswerCache::SetMaxEntries(size_t max_entries) {
  size_t n = shard_mask_ + 1;
  size_t per_shard = std::max<size_t>(max_entries / n, 1);
  for (size_t i = 0; i < n; ++i) {
    Shard& s = shards_[i];
    std::lock_guard lock(s.mu);
    s.max_entries = per_shard;
    while (s.entries > s.max_entries) {
      s.Remove(s.oldest);
      s.evictions.fetch_add(1, std::memory_order_relaxed);
    }
    if (s.buckets.size() != std::bit_ceil(per_shard)) s.Rehash(std::bit_ceil(per_shard));
  }
}

void AnswerCache::Clear() {
  for (size_t i = 0; i <= shard_mask_; ++i) {
    std::lock_guard lock(shards_[i].mu);
    shards_[i].Clear();
  }
}

AnswerCacheStats AnswerCache::Stats() const {
  AnswerCacheStats st;
  for (size_t i = 0; i <= shard_mask_; ++i) {
    Shard& s = shards_[i];
    st.hits += s.hits.load(std::memory_order_relaxed);
    st.misses += s.misses.load(std::memory_order_relaxed);
    st.inserts += s.inserts.load(std::memory_order_relaxed);
    st.evictions += s.evictions.load(std::memory_order_relaxed);
    std::lock_guard lock(s.mu);
    st.entries += s.entries;
    st.bytes += s.bytes;
  }
  return st;
}

}  // namespace berth::dns
