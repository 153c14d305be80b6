// AnswerCache: upstream responses in wire form keyed by (lower-cased qname, qtype, qclass, DO),
// served by copying bytes and patching ID, question case and TTLs (no allocation on a hit).
// Thread-safe: shards by key hash, each with its own mutex, hash chains and LRU list; memory is
// bounded per shard by an entry count and a byte budget.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "core/status.h"
#include "dns/forward/response.h"
#include "dns/wire/types.h"

namespace berth::dns {

// What a cached answer is looked up by. A fixed-size value so building one never allocates.
struct CacheKey {
  uint8_t name[kMaxNameWire];  // lower-cased uncompressed wire name
  uint8_t name_len = 0;
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  bool dnssec_ok = false;
  // Not part of the identity: whether the client sent EDNS and so gets an OPT record back.
  bool client_edns = false;
  uint64_t hash = 0;

  // Builds a key from an uncompressed wire name (any case; at most 255 bytes).
  static CacheKey Make(std::string_view name_wire, uint16_t qtype, uint16_t qclass,
                       bool dnssec_ok, bool client_edns = false);
  // Builds the key of a query parsed by ParseQuery.
  static CacheKey FromQuery(const uint8_t* query, const QueryInfo& info);
  std::string_view name_view() const {
    return std::string_view(reinterpret_cast<const char*>(name), name_len);
  }
};

struct AnswerCacheOptions {
  size_t shards = 64;                    // rounded up to a power of two
  size_t max_entries = 100000;           // over all shards
  size_t max_bytes = 64u << 20;          // over all shards, wire + bookkeeping
  uint32_t max_ttl = 86400;              // positive answers: 1 day at most
  uint32_t max_negative_ttl = 10800;     // NXDOMAIN / NODATA (RFC 2308 §5): 3 h at most
  // SERVFAIL from every upstream is kept this long so a broken domain does not cost N upstream
  // queries per client query (RFC 9520 asks for >= 1 s); 0 disables.
  uint32_t servfail_ttl = 5;
};

struct AnswerCacheStats {
  uint64_t hits = 0, misses = 0, inserts = 0, evictions = 0, entries = 0, bytes = 0;
};

class AnswerCache {
 public:
  using Clock = std::chrono::steady_clock;

  explicit AnswerCache(AnswerCacheOptions options = {});
  ~AnswerCache();
  AnswerCache(const AnswerCache&) = delete;
  AnswerCache& operator=(const AnswerCache&) = delete;

  // On a hit writes the answer for `query` into `out` and returns its size; 0 on a miss or an
  // expired entry. `out_cap` is what the client may receive (its UDP size, 65535 over TCP): a
  // larger answer comes back truncated (header + question, TC=1). `query` must be the one the
  // key was built from (its question name bytes are copied to keep the client's case).
  size_t Lookup(const CacheKey& key, const uint8_t* query, size_t query_len, uint8_t* out,
                size_t out_cap, Clock::time_point now);

  // Stores an upstream response for `key`, replacing any older one, evicting LRU entries to
  // stay within budget. kInvalidArgument: malformed, truncated, question not the key's;
  // kFailedPrecondition: not cacheable (TTL 0, other rcodes, negative answer without SOA);
  // kResourceExhausted: larger than a shard's byte budget.
  Status Insert(const CacheKey& key, std::string_view response_wire, Clock::time_point now);

  // Drops every entry (e.g. after the upstream list changed).
  void Clear();
  // A new entry budget (berthd's SIGHUP): shards over it drop their least recently used
  // entries at once, and their hash tables are resized to it.
  void SetMaxEntries(size_t max_entries);

  // Counters summed over shards (for /metrics).
  AnswerCacheStats Stats() const;

 private:
  struct Entry;
  struct Shard;
  Shard& ShardFor(uint64_t hash) const;

  AnswerCacheOptions options_;
  size_t shard_mask_;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace berth::dns
