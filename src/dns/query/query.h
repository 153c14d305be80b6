// The query path: parse one query in place and answer it from the authoritative zones
// (RFC 1034 §4.3.2 with RFC 2308 negative answers, RFC 4592 wildcards, RFC 6891 EDNS,
// RFC 8482 minimal ANY), writing the response into a caller buffer. No allocation and no
// lock: safe to run concurrently on any number of threads, each with its own buffers.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dns/wire/types.h"
#include "dns/zone/zone_table.h"

namespace berth::dns {

// A query parsed in place. `qname` is the lower-cased question name.
struct ParsedQuery {
  uint16_t id = 0;
  uint16_t flags = 0;
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  uint8_t qname[kMaxNameWire];
  size_t qname_size = 0;
  size_t question_end = 0;  // offset just past the question in the query
  bool has_question = false;
  bool has_edns = false;
  uint8_t edns_version = 0;
  bool dnssec_ok = false;
  uint16_t udp_size = kMinUdpSize;  // the client's, at least 512
  bool has_tsig = false;

  uint8_t opcode() const { return (flags >> 11) & 0xF; }
  std::string_view qname_wire() const { return {reinterpret_cast<const char*>(qname), qname_size}; }
};

enum class ParseOutcome {
  kOk,       // a well-formed query
  kDrop,     // not worth an answer: too short, or a response (QR=1)
  kFormErr,  // answer FORMERR (question kept when it parsed)
};

// Parses a query. Never reads past `len`.
ParseOutcome ParseQuery(const uint8_t* query, size_t len, ParsedQuery* out);

// How the caller should treat a query.
enum class Disposition {
  kAnswered,  // `out` holds the response
  kForward,   // not in any zone and recursion is allowed: caller checks cache / forwards
  kHandOff,   // UPDATE, NOTIFY, AXFR/IXFR or a TSIG-signed message: for the message handler
  kDrop,      // send nothing
};

struct AnswerOptions {
  bool tcp = false;                       // no size limit but 65535; ANY answered in full
  bool recursion_allowed = false;         // client may recurse and forwarding is configured
  uint16_t edns_udp_size = kDefaultEdnsSize;  // our advertised and maximum UDP payload
  bool hand_off = false;  // a handler takes UPDATE/NOTIFY/transfers/TSIG (else NOTIMP/REFUSED)
};

struct AnswerResult {
  Disposition disposition = Disposition::kDrop;
  size_t size = 0;      // response bytes in `out`
  uint16_t rcode = 0;   // for metrics
  uint16_t qtype = 0;
};

// The largest response the client can take: 65535 over TCP, else its EDNS size capped by
// ours, or 512 without EDNS.
size_t ResponseLimit(const ParsedQuery& q, const AnswerOptions& opts);

// Answers `query` from `zones` into `out` (capacity `out_cap`, >= 512). Handles FORMERR,
// NOTIMP, BADVERS, REFUSED and truncation itself.
AnswerResult AnswerQuery(const ZoneSet& zones, const uint8_t* query, size_t len, const AnswerOptions& opts,
                         uint8_t* out, size_t out_cap, ParsedQuery* parsed);

// Builds an error response (header + question when parsed + OPT when the query had EDNS)
// with `rcode`; returns its size. Used for SERVFAIL after a failed forward, too.
size_t WriteErrorResponse(const uint8_t* query, const ParsedQuery& q, uint16_t rcode, const AnswerOptions& opts,
                          uint8_t* out, size_t out_cap);

}  // namespace berth::dns
