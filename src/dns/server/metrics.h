// DnsMetrics: query counters by type and rcode, a latency histogram, and forwarding counts.
// Each worker writes only its own cache-line-aligned block (single writer, relaxed atomics,
// no lock prefix); the /metrics handler sums the blocks. Thread-safe as described.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace berth::dns {

class DnsMetrics {
 public:
  // Query types counted by name; all others land in "other".
  static constexpr std::array<uint16_t, 16> kTypes = {1, 2, 5, 6, 12, 15, 16, 28, 33, 35, 43, 48, 65, 255, 252, 251};
  static constexpr size_t kTypeSlots = kTypes.size() + 1;
  static constexpr size_t kRcodeSlots = 24;  // 0..22 by value, 23 = other
  // Upper bounds of the latency buckets in microseconds (then +Inf).
  static constexpr std::array<uint32_t, 10> kLatencyBoundsUs = {10, 25, 50, 100, 250, 500, 1000, 5000, 50000, 1000000};

  struct alignas(64) Block {
    std::array<std::atomic<uint64_t>, kTypeSlots> by_type{};
    std::array<std::atomic<uint64_t>, kRcodeSlots> by_rcode{};
    std::array<std::atomic<uint64_t>, kLatencyBoundsUs.size() + 1> latency{};
    std::atomic<uint64_t> latency_sum_ns{0};
    std::atomic<uint64_t> udp{0}, tcp{0}, dropped{0}, cache_hits{0}, forwarded{0}, forward_failures{0};
    std::atomic<uint64_t> tcp_connections{0}, tcp_rejected{0};
    std::atomic<uint64_t> udp_gso{0};  // UDP answers sent inside GSO sends (fetch_add outside workers)

    static void Bump(std::atomic<uint64_t>& c, uint64_t n = 1) {
      c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    void CountQuery(uint16_t qtype, uint16_t rcode, bool tcp_query);
    void CountLatency(uint64_t ns, uint64_t queries);
  };

  // A new block for one writer thread; owned by the metrics object. Call before the
  // writers start (not synchronized with Render).
  Block* NewBlock();

  // Adds a renderer of more metric families (complete "# HELP/# TYPE" text), appended by
  // Render(). Call before Render() can run (not synchronized with it); it must be thread-safe.
  void AddRenderer(std::function<std::string()> render) { extra_.push_back(std::move(render)); }

  // Prometheus text exposition of every counter, summed over blocks, then the added renderers.
  std::string Render() const;

 private:
  static size_t TypeSlot(uint16_t qtype);
  std::vector<std::unique_ptr<Block>> blocks_;
  std::vector<std::function<std::string()>> extra_;
};

}  // namespace berth::dns
