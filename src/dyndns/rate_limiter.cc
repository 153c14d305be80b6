#include "dyndns/rate_limiter.h"

#include <algorithm>
#include <vector>

namespace berth::dyndns {

double RateLimiter::TokensAt(const Bucket& b, Clock::time_point now) const {
  if (limit_.refill.count() <= 0) return limit_.burst;  // no limit
  if (now <= b.updated) return b.tokens;
  double earned = std::chrono::duration<double, std::milli>(now - b.updated).count() /
                  static_cast<double>(limit_.refill.count());
  return std::min(limit_.burst, b.tokens + earned);
}

RateLimiter::Bucket& RateLimiter::Refill(std::string_view key, Clock::time_point now) {
  auto it = buckets_.find(std::string(key));
  if (it == buckets_.end()) {
    if (buckets_.size() >= limit_.max_keys) Prune(now);
    it = buckets_.emplace(std::string(key), Bucket{limit_.burst, now}).first;
    return it->second;
  }
  Bucket& b = it->second;
  b.tokens = TokensAt(b, now);
  b.updated = std::max(b.updated, now);
  return b;
}

// Full buckets carry no state worth keeping; if that is not enough, the least recently used
// quarter goes (an attacker with that many addresses could reset limits anyway).
void RateLimiter::Prune(Clock::time_point now) {
  std::erase_if(buckets_, [&](const auto& kv) { return TokensAt(kv.second, now) >= limit_.burst; });
  if (buckets_.size() < limit_.max_keys) return;
  std::vector<Clock::time_point> times;
  times.reserve(buckets_.size());
  for (const auto& kv : buckets_) times.push_back(kv.second.updated);
  auto cut = times.begin() + static_cast<std::ptrdiff_t>(times.size() / 4);
  std::nth_element(times.begin(), cut, times.end());
  Clock::time_point oldest_kept = *cut;
  std::erase_if(buckets_, [&](const auto& kv) { return kv.second.updated <= oldest_kept; });
}

bool RateLimiter::Allowed(std::string_view key, Clock::time_point now) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = buckets_.find(std::string(key));
  return (it == buckets_.end() ? limit_.burst : TokensAt(it->second, now)) >= 1.0;
}

bool RateLimiter::Take(std::string_view key, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  Bucket& b = Refill(key, now);
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

void RateLimiter::SetLimit(RateLimit limit) {
  std::lock_guard<std::mutex> lock(mu_);
  limit_ = limit;
  for (auto& [key, bucket] : buckets_) bucket.tokens = std::min(bucket.tokens, limit_.burst);
}

size_t RateLimiter::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return buckets_.size();
}

}  // namespace berth::dyndns
