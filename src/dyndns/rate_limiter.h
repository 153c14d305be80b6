// RateLimiter: token buckets keyed by a string (a user name, a client address), for the
// dyndns2 door's `abuse` answers. Time is passed in by the caller, so tests drive it.
// Memory is bounded: buckets that have refilled are forgotten, and past `max_keys` the least
// recently used go first. Thread-safe: one mutex around the table and the limit.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace berth::dyndns {

using Clock = std::chrono::steady_clock;

struct RateLimit {
  double burst = 10;                                 // tokens a fresh key holds
  std::chrono::milliseconds refill{5000};            // time to earn one token back; 0: no limit
  size_t max_keys = 10000;                           // keys remembered at most
};

class RateLimiter {
 public:
  explicit RateLimiter(RateLimit limit) : limit_(limit) {}

  // True when `key` holds at least one token at `now` (nothing is taken).
  bool Allowed(std::string_view key, Clock::time_point now) const;
  // Takes one token from `key`; false (and nothing taken) when it has none.
  bool Take(std::string_view key, Clock::time_point now);
  // Replaces the limit; buckets keep their tokens, capped at the new burst.
  void SetLimit(RateLimit limit);
  // Keys currently remembered (for tests and metrics).
  size_t size() const;

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };
  double TokensAt(const Bucket& b, Clock::time_point now) const;
  Bucket& Refill(std::string_view key, Clock::time_point now);
  void Prune(Clock::time_point now);

  RateLimit limit_;  // guarded by mu_
  mutable std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace berth::dyndns
