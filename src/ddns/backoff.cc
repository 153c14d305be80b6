#include "ddns/backoff.h"

#include <algorithm>

namespace berth::ddns {

std::chrono::milliseconds BackoffDelay(uint32_t failures, std::chrono::milliseconds base, std::chrono::milliseconds cap,
                                       double u) {
  using std::chrono::milliseconds;
  if (failures == 0) failures = 1;
  int64_t ceiling = base.count();
  for (uint32_t i = 1; i < failures && ceiling < cap.count(); ++i) ceiling *= 2;  // no overflow: stops at cap
  ceiling = std::min(ceiling, cap.count());
  u = std::clamp(u, 0.0, 1.0);
  int64_t floor = std::min<int64_t>(base.count(), 1000);
  return milliseconds(std::max<int64_t>(floor, static_cast<int64_t>(u * static_cast<double>(ceiling))));
}

}  // namespace berth::ddns
