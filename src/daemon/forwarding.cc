#include "daemon/forwarding.h"

#include <algorithm>

#include "dns/forward/response.h"

namespace berth::daemon {

size_t ForwardingRecursor::FromCache(const dns::ParsedQuery& q, const uint8_t* query, size_t len, uint16_t max_size,
                                     uint8_t* out, size_t out_cap) {
  auto key = dns::CacheKey::Make(q.qname_wire(), q.qtype, q.qclass, q.dnssec_ok, q.has_edns);
  return cache_.Lookup(key, query, len, out, std::min<size_t>(max_size, out_cap), dns::AnswerCache::Clock::now());
}

void ForwardingRecursor::Resolve(const dns::ParsedQuery& q, const uint8_t* query, size_t len, uint16_t max_size,
                                 std::function<void(std::string response)> done) {
  dns::ForwardRequest req;
  req.qname.assign(q.qname_wire());
  req.qtype = q.qtype;
  req.qclass = q.qclass;
  req.dnssec_ok = q.dnssec_ok;
  // max_size 65535 means TCP, which RewriteForClient spells 0.
  uint16_t udp_size = max_size == 65535 ? 0 : max_size;
  forwarder_.Resolve(std::move(req), [query_copy = std::string(reinterpret_cast<const char*>(query), len), udp_size,
                                      done = std::move(done)](std::string_view response, uint16_t) {
    if (response.empty()) return done({});
    done(dns::RewriteForClient(response, reinterpret_cast<const uint8_t*>(query_copy.data()), query_copy.size(),
                               udp_size));
  });
}

}  // namespace berth::daemon
