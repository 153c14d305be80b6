// ForwardingRecursor: connects the DNS server's Recursor interface to the answer cache and
// the upstream forwarder. Thread-safe (both parts are).
#pragma once

#include "dns/forward/cache.h"
#include "dns/forward/forwarder.h"
#include "dns/server/server.h"

namespace berth::daemon {

class ForwardingRecursor : public dns::Recursor {
 public:
  ForwardingRecursor(dns::AnswerCache& cache, dns::Forwarder& forwarder) : cache_(cache), forwarder_(forwarder) {}

  size_t FromCache(const dns::ParsedQuery& q, const uint8_t* query, size_t len, uint16_t max_size, uint8_t* out,
                   size_t out_cap) override;
  void Resolve(const dns::ParsedQuery& q, const uint8_t* query, size_t len, uint16_t max_size,
               std::function<void(std::string response)> done) override;

 private:
  dns::AnswerCache& cache_;
  dns::Forwarder& forwarder_;
};

}  // namespace berth::daemon
