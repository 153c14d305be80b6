// DnsControl: berthd's handler for what the DNS fast path hands off — RFC 2136 UPDATE, zone
// transfers (AXFR/IXFR), NOTIFY and TSIG-signed queries. It verifies TSIG (RFC 8945), asks
// the access policy who may change or transfer what, routes changes through ZoneService
// (durable before answered) and signs its answers. Thread-safe: all DNS workers call it.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include "core/net_address.h"
#include "daemon/zone_service.h"
#include "dns/server/server.h"
#include "dns/tsig/tsig.h"
#include "dns/zone/zone_table.h"

namespace berth::daemon {

// The access decisions DnsControl needs, supplied by the auth layer. Each may be called
// concurrently from any thread.
struct DnsControlPolicy {
  // The TSIG keys in force now (the snapshot is kept alive while a message is handled).
  std::function<std::shared_ptr<const dns::TsigKeyring>()> keyring;
  // May the holder of TSIG key `key` change owner/type in zone? (type ANY: every type)
  std::function<bool(const dns::Name& key, const dns::Name& zone, const dns::Name& owner, uint16_t type)> may_update;
  // May this client (and verified key, or null) transfer the zone?
  std::function<bool(const dns::Name& zone, const IpAddress& client, const dns::Name* key)> may_transfer;
};

// Counters for /metrics.
struct DnsControlStats {
  std::atomic<uint64_t> updates{0}, updates_refused{0}, updates_failed{0};
  std::atomic<uint64_t> transfers{0}, transfers_refused{0};
  std::atomic<uint64_t> tsig_failures{0};
};

class DnsControl : public dns::MessageHandler {
 public:
  DnsControl(ZoneService& zones, const dns::ZoneTable& table, DnsControlPolicy policy, uint16_t edns_udp_size);
  // Waits for transfer threads still running (each is bounded by its zone's size).
  ~DnsControl() override;
  void WaitForTransfers();

  void Handle(const dns::ParsedQuery& q, std::string message, const Client& client,
              std::function<void(std::vector<std::string>)> done) override;

  const DnsControlStats& stats() const { return stats_; }
  // The EDNS UDP size of answers to messages handled from now on (berthd's SIGHUP).
  void SetEdnsUdpSize(uint16_t size) { edns_udp_size_.store(size, std::memory_order_relaxed); }

 private:
  struct Request;
  void HandleUpdate(std::shared_ptr<Request> req);
  void HandleTransfer(std::shared_ptr<Request> req);
  void HandleQuery(std::shared_ptr<Request> req);

  ZoneService& zones_;
  const dns::ZoneTable& table_;
  DnsControlPolicy policy_;
  std::atomic<uint16_t> edns_udp_size_;
  DnsControlStats stats_;
  std::atomic<int> running_transfers_{0};
};

}  // namespace berth::daemon
