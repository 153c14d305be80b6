#include "dns/server/metrics.h"

#include <fmt/format.h>

#include "core/histogram.h"
#include "dns/wire/types.h"

namespace berth::dns {

size_t DnsMetrics::TypeSlot(uint16_t qtype) {
  for (size_t i = 0; i < kTypes.size(); ++i)
    if (kTypes[i] == qtype) return i;
  return kTypes.size();
}

void DnsMetrics::Block::CountQuery(uint16_t qtype, uint16_t rcode, bool tcp_query) {
  Bump(by_type[TypeSlot(qtype)]);
  Bump(by_rcode[rcode < kRcodeSlots - 1 ? rcode : kRcodeSlots - 1]);
  Bump(tcp_query ? tcp : udp);
}

void DnsMetrics::Block::CountLatency(uint64_t ns, uint64_t queries) {
  Bump(latency[HistogramBucket(kLatencyBoundsUs, ns / 1000)], queries);
  Bump(latency_sum_ns, ns * queries);
}

DnsMetrics::Block* DnsMetrics::NewBlock() {
  blocks_.push_back(std::make_unique<Block>());
  return blocks_.back().get();
}

std::string DnsMetrics::Render() const {
  auto sum = [&](auto field) {
    uint64_t total = 0;
    for (const auto& b : blocks_) total += field(*b).load(std::memory_order_relaxed);
    return total;
  };
  std::string out;
  out += "# HELP berth_dns_queries_total DNS queries answered, by query type.\n";
  out += "# TYPE berth_dns_queries_total counter\n";
  for (size_t i = 0; i < kTypeSlots; ++i) {
    std::string name = i < kTypes.size() ? TypeToText(kTypes[i]) : "other";
    out += fmt::format("berth_dns_queries_total{{type=\"{}\"}} {}\n", name,
                       sum([&](const Block& b) -> const std::atomic<uint64_t>& { return b.by_type[i]; }));
  }
  out += "# HELP berth_dns_responses_total DNS responses sent, by rcode.\n";
  out += "# TYPE berth_dns_responses_total counter\n";
  for (size_t i = 0; i < kRcodeSlots; ++i) {
    uint64_t v = sum([&](const Block& b) -> const std::atomic<uint64_t>& { return b.by_rcode[i]; });
    if (v == 0 && i > 5) continue;  // keep the output short; common rcodes always shown
    std::string name = i < kRcodeSlots - 1 ? RcodeToText(static_cast<uint16_t>(i)) : "other";
    out += fmt::format("berth_dns_responses_total{{rcode=\"{}\"}} {}\n", name, v);
  }
  std::array<uint64_t, kLatencyBoundsUs.size() + 1> latency_counts;
  for (size_t i = 0; i < latency_counts.size(); ++i)
    latency_counts[i] = sum([&](const Block& b) -> const std::atomic<uint64_t>& { return b.latency[i]; });
  out += RenderHistogram("berth_dns_query_duration_seconds", "Time from receiving a query batch to sending its answers.",
                         kLatencyBoundsUs, latency_counts,
                         sum([](const Block& b) -> const std::atomic<uint64_t>& { return b.latency_sum_ns; }) / 1e9);
  struct Plain {
    const char* name;
    const char* help;
    std::atomic<uint64_t> Block::*field;
  };
  static const Plain kPlain[] = {
      {"berth_dns_udp_queries_total", "Queries received over UDP.", &Block::udp},
      {"berth_dns_tcp_queries_total", "Queries received over TCP.", &Block::tcp},
      {"berth_dns_dropped_total", "Packets dropped without an answer.", &Block::dropped},
      {"berth_dns_cache_hits_total", "Forwardable queries answered from the cache.", &Block::cache_hits},
      {"berth_dns_forwarded_total", "Queries sent on to upstream resolvers.", &Block::forwarded},
      {"berth_dns_upstream_errors_total", "Forwarded queries that failed (SERVFAIL sent).", &Block::forward_failures},
      {"berth_dns_tcp_connections_total", "TCP connections accepted.", &Block::tcp_connections},
      {"berth_dns_tcp_rejected_total", "TCP connections refused at the connection limit.", &Block::tcp_rejected},
      {"berth_dns_udp_gso_answers_total", "UDP answers sent in GSO sends (several to one client at once).", &Block::udp_gso},
  };
  for (const auto& p : kPlain) {
    out += fmt::format("# HELP {} {}\n# TYPE {} counter\n{} {}\n", p.name, p.help, p.name, p.name,
                       sum([&](const Block& b) -> const std::atomic<uint64_t>& { return b.*p.field; }));
  }
  for (const auto& extra : extra_) out += extra();
  return out;
}

}  // namespace berth::dns
