// The dyndns2 door's settings: record TTL, host limit, trusted proxies and rate limits. The
// config file's `dyndns:` section fills it directly (config/config.h); the door reads a
// published copy per request, so berthd's SIGHUP can replace it. A plain value type.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/net_address.h"
#include "dyndns/rate_limiter.h"

namespace berth::dyndns {

struct Options {
  uint32_t ttl = 60;        // TTL of the A/AAAA records written
  size_t max_hosts = 20;    // more hosts in one request: `numhost` (dyn.com's limit)
  // Peers whose X-Forwarded-For is believed (a reverse proxy in front of berthd). Empty: the
  // header is ignored and the client address is always the TCP peer.
  std::vector<Cidr> trusted_proxies;
  // Per user, two buckets: requests that change DNS (a burst of 10, then one per 5 s), and all
  // requests, `nochg` included (a burst of 60, then one per second). So a client repeating its
  // address every few seconds or minutes (ddclient: 300 s) never gets `abuse`, while one that
  // hammers, or keeps changing addresses, does. A zero refill: no limit.
  RateLimit per_user_changes{10, std::chrono::seconds(5)};
  RateLimit per_user_requests{60, std::chrono::seconds(1)};
  // Failed logins per client address: a burst of 5, then one per minute. While exhausted the
  // address gets `abuse` without its credentials being checked.
  RateLimit bad_auth_per_client{5, std::chrono::seconds(60)};
  // How long a request waits for its zone edits to commit before answering 911.
  std::chrono::milliseconds commit_wait = std::chrono::seconds(30);
  // null: steady_clock::now. Tests inject one; read once, when the door is made.
  std::function<Clock::time_point()> clock;
};

}  // namespace berth::dyndns
