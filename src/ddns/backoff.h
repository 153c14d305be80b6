// Retry delays after failures: exponential with full jitter (AWS architecture blog's
// "full jitter"), capped, and never below a floor so that a failing job cannot spin.
// Pure function: thread-safe.
#pragma once

#include <chrono>
#include <cstdint>

namespace berth::ddns {

// The delay before retry number `failures` (1 = first retry): a uniform draw `u` in [0, 1)
// times min(cap, base * 2^(failures-1)), raised to at least min(base, 1 s).
std::chrono::milliseconds BackoffDelay(uint32_t failures, std::chrono::milliseconds base, std::chrono::milliseconds cap,
                                       double u);

}  // namespace berth::ddns
