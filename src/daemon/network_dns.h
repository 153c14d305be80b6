// NetworkDns: the DNS server container networks see on their gateway. For every bridge network
// it runs a small DnsServer on the gateway address(es), port 53, that answers the names of
// that network's endpoints (name and aliases: A, AAAA, and PTR for their IPv4 addresses),
// NXDOMAIN for other single-label names (so a name of another network is not found), and
// everything else like berthd's main listeners: local zones, then the forwarder.
// Thread-safe: the engine calls the observer methods under its lock; each network's name table
// is changed in place (one small update per attach) under a shared mutex that DNS workers
// take for reading.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dns/server/metrics.h"
#include "dns/server/server.h"
#include "dns/zone/zone_table.h"
#include "net/engine/network_engine.h"

namespace berth::daemon {

class NetworkDns : public net::NetworkObserver {
 public:
  // `upstream` answers names outside the networks and zones (null: SERVFAIL for those).
  NetworkDns(const dns::ZoneTable& zones, dns::Recursor* upstream, uint16_t edns_udp_size);
  ~NetworkDns() override;

  void NetworkUp(const net::Network& network) override;
  void NetworkDown(const net::Network& network) override;
  void NamesAdded(const net::Network& network, const std::vector<net::NetworkName>& names) override;
  void NamesRemoved(const net::Network& network, const std::vector<net::NetworkName>& names) override;
  // A new EDNS UDP size (berthd's SIGHUP) for every network's server, now and later.
  void SetEdnsUdpSize(uint16_t size);
  // Stops every per-network server.
  void Stop();

  class Resolver;  // per network: endpoint names first, then `upstream`

 private:
  struct PerNetwork;
  const dns::ZoneTable& zones_;
  dns::Recursor* upstream_;
  std::mutex mu_;
  uint16_t edns_udp_size_;  // guarded by mu_
  std::map<std::string, std::unique_ptr<PerNetwork>> networks_;  // by network id
};

}  // namespace berth::daemon
