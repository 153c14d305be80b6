// In-place views of the two messages forwarding handles: a client's query (ParseQuery) and an
// upstream's response (AnalyzeResponse), plus the rewrite of a cached/upstream answer for one
// client (ID, question case, RD/CD, our own OPT, truncation). Pure functions: thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "dns/wire/reader.h"
#include "dns/wire/types.h"

namespace berth::dns {

// Big-endian header and TTL fields, patched in place (dns/wire/reader.h Get16 reads them).
inline void StoreU16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline uint32_t LoadU32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | p[3];
}
inline void StoreU32(uint8_t* p, uint32_t v) {
  StoreU16(p, static_cast<uint16_t>(v >> 16));
  StoreU16(p + 2, static_cast<uint16_t>(v));
}

// A client's query: one question whose name is uncompressed at offset 12.
struct QueryInfo {
  uint16_t id = 0;
  uint16_t flags = 0;
  uint8_t qname_len = 0;  // the name's bytes are query[12, 12 + qname_len)
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  bool has_edns = false;
  bool dnssec_ok = false;
  uint16_t udp_size = kMinUdpSize;  // what the client accepts over UDP (>= 512)
};

// Parses a query header, its single question and its OPT record, without allocating.
// kInvalidArgument when it is not a QUERY with exactly one uncompressed question, or malformed.
Result<QueryInfo> ParseQuery(const uint8_t* query, size_t len);

// The structure of an upstream response, found by walking every record with WireReader.
struct ResponseInfo {
  uint16_t id = 0;
  uint16_t flags = 0;
  uint16_t rcode = 0;  // 12 bits: header rcode plus the OPT extension
  uint8_t qname_len = 0;  // the question name, uncompressed at offset 12
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  uint16_t ancount = 0;
  std::vector<uint16_t> ttl_offsets;  // every RR's TTL field except OPT's
  uint32_t min_ttl = UINT32_MAX;      // smallest TTL over all records but OPT
  bool has_soa = false;               // an SOA in the authority section
  uint32_t soa_negative_ttl = 0;      // min(SOA TTL, SOA MINIMUM) of the first such SOA
  bool has_opt = false;
  size_t body_len = 0;  // bytes before the OPT record (the whole message when there is none)
};

// Walks a response: header, one question (name uncompressed at offset 12), every RR, with
// bounds checks and no trailing bytes. kInvalidArgument when malformed, when it is not a
// response, when the question is not a single uncompressed name, or when OPT is not the last
// record (removing it must not move any byte a compression pointer refers to).
Result<ResponseInfo> AnalyzeResponse(const uint8_t* msg, size_t len);

// Copies the response without its OPT record (ARCOUNT adjusted) into out[0, info.body_len):
// the upstream's EDNS options and buffer size are its own, never the client's. `info` must
// come from AnalyzeResponse(msg).
void CopyBody(const uint8_t* msg, const ResponseInfo& info, uint8_t* out);

// True when the response's question is (qname_wire, qtype, qclass), ignoring name case.
bool QuestionMatches(const uint8_t* msg, const ResponseInfo& info, std::string_view qname_wire,
                     uint16_t qtype, uint16_t qclass);

// Size of the OPT record that ends every answer to an EDNS client (root, type, class, TTL, 0).
inline constexpr size_t kOptSize = 11;

// Turns `out[0, body_len)` (a response body without OPT, question at offset 12) into the answer
// for `query`: its ID, RD and CD bits and question name bytes (the client's 0x20 case), QR and
// RA set, AA clear (AD too unless the client asked for DNSSEC or AD), and our OPT (1232, client's DO bit) appended when `client_edns`. `out` must have room
// for body_len + kOptSize. Returns the final size.
size_t FinishClientAnswer(uint8_t* out, size_t body_len, const uint8_t* query, uint8_t qname_len,
                          bool client_edns, bool dnssec_ok);

// Writes header + question + (OPT) with TC=1 for an answer too big for the client: the client
// retries over TCP. Returns the size, or 0 when even that does not fit in out_cap.
size_t WriteTruncatedAnswer(const uint8_t* body, const uint8_t* query, uint8_t qname_len,
                            bool client_edns, bool dnssec_ok, uint8_t* out, size_t out_cap);

// The upstream response rewritten for the client who sent `query` (see FinishClientAnswer);
// if larger than client_udp_size (0 = TCP: 65535), the truncated form. Empty string when the
// response or the query is malformed or their questions differ.
std::string RewriteForClient(std::string_view upstream_response, const uint8_t* query,
                             size_t query_len, uint16_t client_udp_size);

}  // namespace berth::dns
