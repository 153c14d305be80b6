#include "dns/forward/response.h"

#include <algorithm>
#include <cstring>

#include "dns/wire/name.h"
#include "dns/wire/reader.h"

namespace berth::dns {
namespace {

struct Header {
  uint16_t id, flags, qdcount, ancount, nscount, arcount;
};

struct Rr {
  size_t name_pos;
  size_t ttl_pos;
  uint16_t type;
  uint16_t cls;
  uint32_t ttl;
  uint16_t rdlength;
  size_t rdata_pos;
};

Header ReadHeader(WireReader& r) {
  Header h;
  h.id = r.U16();
  h.flags = r.U16();
  h.qdcount = r.U16();
  h.ancount = r.U16();
  h.nscount = r.U16();
  h.arcount = r.U16();
  return h;
}

// Reads the single question, whose name must be literal at offset 12 (no pointer): then the
// name bytes can be compared and replaced in place. Scanning label lengths directly is the
// hit path's cheapest way to find its end. Returns false on anything else.
bool ReadQuestion(WireReader& r, const Header& h, uint8_t* qname_len, uint16_t* qtype,
                  uint16_t* qclass) {
  if (h.qdcount != 1 || !r.ok()) return false;
  const uint8_t* msg = r.message();
  size_t len = r.message_size();
  size_t p = kHeaderSize;
  while (true) {
    if (p >= len || p - kHeaderSize >= kMaxNameWire) return false;
    uint8_t label = msg[p];
    if (label & 0xC0) return false;
    p += label + 1u;
    if (label == 0) break;
  }
  if (p - kHeaderSize > kMaxNameWire) return false;
  *qname_len = static_cast<uint8_t>(p - kHeaderSize);
  r = WireReader(msg, len, p);
  *qtype = r.U16();
  *qclass = r.U16();
  return r.ok();
}

// Reads one resource record's header and skips its RDATA.
bool ReadRr(WireReader& r, Rr* rr) {
  rr->name_pos = r.pos();
  r.SkipName();
  rr->type = r.U16();
  rr->cls = r.U16();
  rr->ttl_pos = r.pos();
  rr->ttl = r.U32();
  rr->rdlength = r.U16();
  rr->rdata_pos = r.pos();
  r.Skip(rr->rdlength);
  return r.ok();
}

// RFC 2181 §8: a TTL with the top bit set is treated as zero.
uint32_t EffectiveTtl(uint32_t ttl) { return (ttl & 0x80000000u) ? 0 : ttl; }

}  // namespace

Result<QueryInfo> ParseQuery(const uint8_t* query, size_t len) {
  WireReader r(query, len);
  Header h = ReadHeader(r);
  if (!r.ok()) return InvalidArgument("query shorter than a header");
  QueryInfo q;
  q.id = h.id;
  q.flags = h.flags;
  if ((h.flags & flag::kQR) || ((h.flags >> 11) & 0xF) != opcode::kQuery)
    return InvalidArgument("not a query");
  if (!ReadQuestion(r, h, &q.qname_len, &q.qtype, &q.qclass))
    return InvalidArgument("query without a single literal question");
  unsigned total = unsigned{h.ancount} + h.nscount + h.arcount;
  for (unsigned i = 0; i < total; ++i) {
    Rr rr;
    if (!ReadRr(r, &rr)) return InvalidArgument("malformed record in query");
    if (rr.type != type::kOPT) continue;
    if (i < unsigned{h.ancount} + h.nscount || q.has_edns) return InvalidArgument("misplaced OPT");
    q.has_edns = true;
    q.dnssec_ok = rr.ttl & 0x8000;
    q.udp_size = std::max<uint16_t>(rr.cls, kMinUdpSize);
  }
  return q;
}

Result<ResponseInfo> AnalyzeResponse(const uint8_t* msg, size_t len) {
  if (len > 65535) return InvalidArgument("response larger than a DNS message");
  WireReader r(msg, len);
  Header h = ReadHeader(r);
  if (!r.ok()) return InvalidArgument("response shorter than a header");
  if (!(h.flags & flag::kQR)) return InvalidArgument("QR not set");
  ResponseInfo info;
  info.id = h.id;
  info.flags = h.flags;
  info.rcode = h.flags & 0xF;
  info.ancount = h.ancount;
  if (!ReadQuestion(r, h, &info.qname_len, &info.qtype, &info.qclass))
    return InvalidArgument("response without a single literal question");
  const uint16_t counts[3] = {h.ancount, h.nscount, h.arcount};
  info.ttl_offsets.reserve(unsigned{h.ancount} + h.nscount + h.arcount);
  for (int s = 0; s < 3; ++s) {
    for (uint16_t i = 0; i < counts[s]; ++i) {
      Rr rr;
      if (!ReadRr(r, &rr)) return InvalidArgument("malformed record in response");
      if (rr.type == type::kOPT) {
        if (s != 2 || i + 1 != counts[s] || msg[rr.name_pos] != 0)
          return InvalidArgument("OPT not the last record");
        info.has_opt = true;
        info.rcode = static_cast<uint16_t>(info.rcode | (rr.ttl >> 24) << 4);
        info.body_len = rr.name_pos;
        continue;
      }
      uint32_t ttl = EffectiveTtl(rr.ttl);
      info.ttl_offsets.push_back(static_cast<uint16_t>(rr.ttl_pos));
      info.min_ttl = std::min(info.min_ttl, ttl);
      // SOA RDATA ends with MINIMUM; 22 bytes is the smallest SOA (two root names + 5 x u32).
      if (s == 1 && rr.type == type::kSOA && !info.has_soa && rr.rdlength >= 22) {
        info.has_soa = true;
        info.soa_negative_ttl = std::min(ttl, LoadU32(msg + rr.rdata_pos + rr.rdlength - 4));
      }
    }
  }
  if (r.remaining() != 0) return InvalidArgument("trailing bytes after the response");
  if (!info.has_opt) info.body_len = len;
  return info;
}

void CopyBody(const uint8_t* msg, const ResponseInfo& info, uint8_t* out) {
  std::memcpy(out, msg, info.body_len);
  if (info.has_opt) StoreU16(out + 10, static_cast<uint16_t>(Get16(out + 10) - 1));
}

bool QuestionMatches(const uint8_t* msg, const ResponseInfo& info, std::string_view qname_wire,
                     uint16_t qtype, uint16_t qclass) {
  return info.qtype == qtype && info.qclass == qclass &&
         WireNamesEqual(std::string_view(reinterpret_cast<const char*>(msg) + kHeaderSize,
                                         info.qname_len),
                        qname_wire);
}

size_t FinishClientAnswer(uint8_t* out, size_t body_len, const uint8_t* query, uint8_t qname_len,
                          bool client_edns, bool dnssec_ok) {
  constexpr uint16_t kFromQuery = flag::kRD | flag::kCD;
  uint16_t qflags = Get16(query + 2);
  // AA is cleared: we answer from a resolver's data, not with authority over the zone.
  uint16_t f = static_cast<uint16_t>((Get16(out + 2) & ~(kFromQuery | flag::kAA)) |
                                     (qflags & kFromQuery) | flag::kQR | flag::kRA);
  // RFC 6840 §5.8: AD only for clients that asked for DNSSEC data or AD itself.
  if (!dnssec_ok && !(qflags & flag::kAD)) f &= static_cast<uint16_t>(~flag::kAD);
  std::memcpy(out, query, 2);
  StoreU16(out + 2, f);
  std::memcpy(out + kHeaderSize, query + kHeaderSize, qname_len);
  if (!client_edns) return body_len;
  static constexpr uint8_t kOptNoDo[kOptSize] = {0, 0, 41, kDefaultEdnsSize >> 8,
                                                 kDefaultEdnsSize & 0xFF, 0, 0, 0, 0, 0, 0};
  uint8_t* opt = out + body_len;
  std::memcpy(opt, kOptNoDo, kOptSize);
  if (dnssec_ok) opt[7] = 0x80;
  StoreU16(out + 10, static_cast<uint16_t>(Get16(out + 10) + 1));
  return body_len + kOptSize;
}

size_t WriteTruncatedAnswer(const uint8_t* body, const uint8_t* query, uint8_t qname_len,
                            bool client_edns, bool dnssec_ok, uint8_t* out, size_t out_cap) {
  size_t question_end = kHeaderSize + qname_len + 4;
  if (question_end + (client_edns ? kOptSize : 0) > out_cap) return 0;
  std::memcpy(out, body, question_end);
  StoreU16(out + 2, Get16(out + 2) | flag::kTC);
  StoreU16(out + 4, 1);
  StoreU16(out + 6, 0);
  StoreU16(out + 8, 0);
  StoreU16(out + 10, 0);
  return FinishClientAnswer(out, question_end, query, qname_len, client_edns, dnssec_ok);
}

std::string RewriteForClient(std::string_view upstream_response, const uint8_t* query,
                             size_t query_len, uint16_t client_udp_size) {
  auto q = ParseQuery(query, query_len);
  if (!q.ok()) return {};
  const auto* msg = reinterpret_cast<const uint8_t*>(upstream_response.data());
  auto info = AnalyzeResponse(msg, upstream_response.size());
  if (!info.ok()) return {};
  std::string_view qname(reinterpret_cast<const char*>(query) + kHeaderSize, q->qname_len);
  if (!QuestionMatches(msg, *info, qname, q->qtype, q->qclass)) return {};
  size_t limit = client_udp_size ? client_udp_size : 65535;
  std::string out(info->body_len + kOptSize, '\0');
  auto* p = reinterpret_cast<uint8_t*>(out.data());
  CopyBody(msg, *info, p);
  size_t n;
  if (info->body_len + (q->has_edns ? kOptSize : 0) > limit) {
    n = WriteTruncatedAnswer(msg, query, q->qname_len, q->has_edns, q->dnssec_ok, p, out.size());
  } else {
    n = FinishClientAnswer(p, info->body_len, query, q->qname_len, q->has_edns, q->dnssec_ok);
  }
  out.resize(n);
  return out;
}

}  // namespace berth::dns
