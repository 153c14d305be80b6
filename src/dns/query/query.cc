#include "dns/query/query.h"

#include <algorithm>
#include <cstring>

#include "dns/wire/rdata.h"
#include "dns/wire/reader.h"
#include "dns/wire/writer.h"

namespace berth::dns {
namespace {

constexpr int kMaxCnameChain = 16;
constexpr size_t kOptSize = 11;


// Offsets of each label of a wire name; returns the label count.
size_t LabelOffsets(const uint8_t* name, size_t size, uint8_t offsets[128]) {
  size_t n = 0;
  for (size_t i = 0; i < size && name[i] != 0; i += name[i] + 1) offsets[n++] = static_cast<uint8_t>(i);
  return n;
}

// Builds one response: header and question copied from the query, then sections.
class Response {
 public:
  Response(const uint8_t* query, const ParsedQuery& q, const AnswerOptions& opts, uint8_t* out, size_t cap)
      : q_(q), opts_(opts), w_(out, std::min(ResponseLimit(q, opts), cap) - (q.has_edns ? kOptSize : 0)) {
    size_t header_and_question = q.has_question ? q.question_end : kHeaderSize;
    w_.Bytes(query, header_and_question);
    if (q.has_question) w_.AddCompressionTarget(kHeaderSize);
    question_end_ = w_.size();
    flags_ = static_cast<uint16_t>(flag::kQR | (q.flags & (0x7800 | flag::kRD | flag::kCD)));
  }

  WireWriter& writer() { return w_; }
  void SetFlag(uint16_t f) { flags_ |= f; }
  void ClearFlag(uint16_t f) { flags_ &= static_cast<uint16_t>(~f); }
  uint16_t answer_count() const { return counts_[0]; }
  void SetRcode(uint16_t rc) { rcode_ = rc; }
  uint16_t rcode() const { return rcode_; }

  // Writes every RR of `set` with the given owner. Returns false on overflow (rolled back).
  bool AddRRset(int section, std::string_view owner, const Zone& zone, const Zone::RRset& set, uint32_t ttl) {
    size_t before = w_.size();
    uint16_t n = 0;
    zone.ForEachRdata(set, [&](std::string_view rdata) {
      w_.Name(owner, true);
      w_.U16(set.type);
      w_.U16(cls::kIN);
      w_.U32(ttl);
      WriteRdata(w_, set.type, rdata, true);
      ++n;
    });
    if (w_.overflow()) {
      w_.Truncate(before);
      if (section < 2) truncated_ = true;
      return false;
    }
    counts_[section] += n;
    return true;
  }

  bool truncated() const { return truncated_; }

  size_t Finish() {
    if (truncated_) {
      // A partial answer or authority would mislead: send the header, question and TC.
      w_.Truncate(question_end_);
      counts_[0] = counts_[1] = counts_[2] = 0;
      flags_ |= flag::kTC;
    }
    uint16_t arcount = counts_[2];
    if (q_.has_edns) {
      // Room for OPT was held back from the sections' capacity; release it now.
      w_.Grow(kOptSize);
      w_.U8(0);
      w_.U16(type::kOPT);
      w_.U16(opts_.edns_udp_size);
      w_.U32(static_cast<uint32_t>(rcode_ >> 4) << 24 | (q_.dnssec_ok ? 0x8000u : 0u));
      w_.U16(0);
      ++arcount;
    }
    uint8_t* p = w_.mutable_data();
    uint16_t flags = static_cast<uint16_t>(flags_ | (rcode_ & 0xF));
    p[2] = static_cast<uint8_t>(flags >> 8);
    p[3] = static_cast<uint8_t>(flags);
    p[4] = 0;
    p[5] = q_.has_question ? 1 : 0;
    p[6] = static_cast<uint8_t>(counts_[0] >> 8);
    p[7] = static_cast<uint8_t>(counts_[0]);
    p[8] = static_cast<uint8_t>(counts_[1] >> 8);
    p[9] = static_cast<uint8_t>(counts_[1]);
    p[10] = static_cast<uint8_t>(arcount >> 8);
    p[11] = static_cast<uint8_t>(arcount);
    return w_.size();
  }

 private:
  const ParsedQuery& q_;
  const AnswerOptions& opts_;
  WireWriter w_;
  size_t question_end_ = 0;
  uint16_t flags_ = 0;
  uint16_t rcode_ = 0;
  uint16_t counts_[3] = {0, 0, 0};
  bool truncated_ = false;
};

// Answers from one zone. `qname` is lower-cased wire; `owner` is what answer RRs for it use
// (the qname itself, whose first occurrence compresses to the question).
class ZoneAnswer {
 public:
  ZoneAnswer(const Zone& zone, const ParsedQuery& q, const AnswerOptions& opts, Response& resp)
      : zone_(zone), q_(q), opts_(opts), resp_(resp) {}

  void Run() {
    resp_.SetFlag(flag::kAA);
    uint8_t name[kMaxNameWire];
    std::memcpy(name, q_.qname, q_.qname_size);
    size_t size = q_.qname_size;
    for (int hop = 0; hop <= kMaxCnameChain; ++hop) {
      std::string_view next;
      if (!Step(std::string_view(reinterpret_cast<char*>(name), size), &next)) return;
      // Follow a CNAME only inside this zone; beyond it the client's resolver continues.
      if (next.size() > kMaxNameWire) return;
      uint8_t lower[kMaxNameWire];
      for (size_t i = 0; i < next.size(); ++i) lower[i] = LowerByte(static_cast<uint8_t>(next[i]));
      std::string_view lower_view(reinterpret_cast<char*>(lower), next.size());
      if (!InZone(lower_view)) return;
      std::memcpy(name, lower, next.size());
      size = next.size();
    }
    // Chain too long: what we have stands (RFC 1034 leaves loops to the resolver).
  }

 private:
  bool InZone(std::string_view lower_name) const {
    std::string_view origin = zone_.NodeName(*zone_.apex());
    if (origin.size() > lower_name.size()) return false;
    size_t start = lower_name.size() - origin.size();
    size_t i = 0;
    while (i < start) i += static_cast<uint8_t>(lower_name[i]) + 1;
    return i == start && WireNamesEqual(lower_name.substr(start), origin);
  }

  // One lookup step for `name`. Returns true with `next` set when a CNAME must be followed.
  bool Step(std::string_view name, std::string_view* next) {
    uint8_t offsets[128];
    size_t labels = LabelOffsets(reinterpret_cast<const uint8_t*>(name.data()), name.size(), offsets);
    size_t apex_labels = zone_.origin().LabelCount();
    const Zone::Node* closest = zone_.apex();
    const Zone::Node* exact = labels == apex_labels ? zone_.apex() : nullptr;
    for (size_t depth = apex_labels + 1; depth <= labels; ++depth) {
      std::string_view suffix = name.substr(offsets[labels - depth]);
      const Zone::Node* node = zone_.Find(suffix);
      if (!node) break;
      closest = node;
      bool at_qname = depth == labels;
      if ((node->flags & Zone::kDelegation) && !(at_qname && q_.qtype == type::kDS)) {
        Referral(*node);
        return false;
      }
      if (at_qname) exact = node;
    }
    if (exact) return FromNode(*exact, name, next);
    if (closest->flags & Zone::kHasWildcardChild) {
      uint8_t wc[kMaxNameWire];
      std::string_view ce = zone_.NodeName(*closest);
      if (ce.size() + 2 <= kMaxNameWire) {
        wc[0] = 1;
        wc[1] = '*';
        for (size_t i = 0; i < ce.size(); ++i) wc[2 + i] = LowerByte(static_cast<uint8_t>(ce[i]));
        if (const Zone::Node* w = zone_.Find(std::string_view(reinterpret_cast<char*>(wc), ce.size() + 2)))
          return FromNode(*w, name, next);
      }
    }
    resp_.SetRcode(rcode::kNXDomain);
    AddSoa();
    return false;
  }

  bool FromNode(const Zone::Node& node, std::string_view owner, std::string_view* next) {
    uint16_t qtype = q_.qtype;
    // ANY matches the CNAME itself (RFC 1034 §4.3.2 step 3a), so it is not followed.
    if (qtype != type::kCNAME && qtype != type::kANY) {
      if (const Zone::RRset* cname = zone_.FindRRset(node, type::kCNAME)) {
        if (!resp_.AddRRset(0, owner, zone_, *cname, cname->ttl)) return false;
        zone_.ForEachRdata(*cname, [&](std::string_view rdata) { *next = rdata; });
        return true;
      }
    }
    if (qtype == type::kANY) {
      // RFC 8482: over UDP one RRset is enough; TCP clients get everything.
      const Zone::RRset* sets = zone_.RRsetsOf(node);
      bool any = false;
      for (uint16_t i = 0; i < node.rrset_count; ++i) {
        if (sets[i].type == type::kRRSIG) continue;
        resp_.AddRRset(0, owner, zone_, sets[i], sets[i].ttl);
        any = true;
        if (!opts_.tcp) break;
      }
      if (!any) AddSoa();
      return false;
    }
    const Zone::RRset* set = zone_.FindRRset(node, qtype);
    if (!set) {
      AddSoa();  // NODATA
      return false;
    }
    if (!resp_.AddRRset(0, owner, zone_, *set, set->ttl)) return false;
    AddAdditional(*set, false);
    return false;
  }

  void Referral(const Zone::Node& cut) {
    resp_.SetRcode(rcode::kNoError);
    // A referral is not authoritative, unless a CNAME from this zone is already answered.
    if (resp_.answer_count() == 0) resp_.ClearFlag(flag::kAA);
    const Zone::RRset* ns = zone_.FindRRset(cut, type::kNS);
    if (!resp_.AddRRset(1, zone_.NodeName(cut), zone_, *ns, ns->ttl)) return;
    AddAdditional(*ns, true);
  }

  // A/AAAA for the targets of NS, MX and SRV records found in this zone.
  void AddAdditional(const Zone::RRset& set, bool glue) {
    if (set.type != type::kNS && set.type != type::kMX && set.type != type::kSRV) return;
    zone_.ForEachRdata(set, [&](std::string_view rdata) {
      std::string_view target = rdata;
      if (set.type == type::kMX) target = rdata.substr(2);
      if (set.type == type::kSRV) target = rdata.substr(6);
      uint8_t lower[kMaxNameWire];
      if (target.size() > kMaxNameWire) return;
      for (size_t i = 0; i < target.size(); ++i) lower[i] = LowerByte(static_cast<uint8_t>(target[i]));
      std::string_view lower_view(reinterpret_cast<char*>(lower), target.size());
      if (!InZone(lower_view)) return;
      const Zone::Node* node = zone_.Find(lower_view);
      if (!node) return;
      if (!glue && Occluded(lower_view)) return;
      for (uint16_t t : {type::kA, type::kAAAA})
        if (const Zone::RRset* addr = zone_.FindRRset(*node, t))
          resp_.AddRRset(2, zone_.NodeName(*node), zone_, *addr, addr->ttl);
    });
  }

  // True when a zone cut lies above `lower_name` (below the apex): data there is glue.
  bool Occluded(std::string_view lower_name) const {
    uint8_t offsets[128];
    size_t labels = LabelOffsets(reinterpret_cast<const uint8_t*>(lower_name.data()), lower_name.size(), offsets);
    size_t apex_labels = zone_.origin().LabelCount();
    for (size_t depth = apex_labels + 1; depth < labels; ++depth) {
      const Zone::Node* n = zone_.Find(lower_name.substr(offsets[labels - depth]));
      if (!n) return false;
      if (n->flags & Zone::kDelegation) return true;
    }
    return false;
  }

  void AddSoa() {
    const Zone::Node* apex = zone_.apex();
    if (const Zone::RRset* soa = zone_.FindRRset(*apex, type::kSOA))
      resp_.AddRRset(1, zone_.NodeName(*apex), zone_, *soa, zone_.negative_ttl());
  }

  const Zone& zone_;
  const ParsedQuery& q_;
  const AnswerOptions& opts_;
  Response& resp_;
};

}  // namespace

size_t ResponseLimit(const ParsedQuery& q, const AnswerOptions& opts) {
  if (opts.tcp) return 65535;
  if (!q.has_edns) return kMinUdpSize;
  size_t limit = std::min<size_t>(q.udp_size, opts.edns_udp_size);
  return limit < kMinUdpSize ? kMinUdpSize : limit;
}

ParseOutcome ParseQuery(const uint8_t* query, size_t len, ParsedQuery* out) {
  if (len < kHeaderSize) return ParseOutcome::kDrop;
  out->id = Get16(query);
  out->flags = Get16(query + 2);
  if (out->flags & flag::kQR) return ParseOutcome::kDrop;
  uint16_t qd = Get16(query + 4), an = Get16(query + 6), ns = Get16(query + 8), ar = Get16(query + 10);
  out->has_question = false;
  out->has_edns = false;
  out->has_tsig = false;
  out->dnssec_ok = false;
  out->edns_version = 0;
  out->udp_size = kMinUdpSize;
  if (qd != 1) return ParseOutcome::kFormErr;
  // The question name: plain labels only (nothing earlier to point at).
  size_t pos = kHeaderSize;
  size_t n = 0;
  while (true) {
    if (pos >= len) return ParseOutcome::kFormErr;
    uint8_t l = query[pos];
    if (l == 0) {
      out->qname[n++] = 0;
      ++pos;
      break;
    }
    if (l > kMaxLabel || pos + 1 + l > len || n + l + 2 > kMaxNameWire) return ParseOutcome::kFormErr;
    out->qname[n++] = l;
    for (size_t k = 1; k <= l; ++k) out->qname[n++] = LowerByte(query[pos + k]);
    pos += l + 1;
  }
  if (pos + 4 > len) return ParseOutcome::kFormErr;
  out->qname_size = n;
  out->qtype = Get16(query + pos);
  out->qclass = Get16(query + pos + 2);
  pos += 4;
  out->question_end = pos;
  out->has_question = true;
  // Walk the other sections; only the additional section's OPT (and later TSIG) matters.
  WireReader r(query, len, pos);
  uint32_t records = static_cast<uint32_t>(an) + ns + ar;
  for (uint32_t i = 0; i < records; ++i) {
    uint8_t owner[kMaxNameWire];
    size_t owner_size = r.ReadName(owner);
    WireReader::RecordHeader rr = r.ReadRecordHeader();
    r.Skip(rr.rdlength);
    if (!r.ok()) return ParseOutcome::kFormErr;
    bool in_additional = i >= static_cast<uint32_t>(an) + ns;
    if (rr.type == type::kOPT) {
      if (!in_additional || out->has_edns || owner_size != 1) return ParseOutcome::kFormErr;
      out->has_edns = true;
      out->udp_size = rr.cls < kMinUdpSize ? kMinUdpSize : rr.cls;
      out->edns_version = static_cast<uint8_t>(rr.ttl >> 16);
      out->dnssec_ok = rr.ttl & 0x8000;
    } else if (rr.type == type::kTSIG) {
      // TSIG must be the very last record (RFC 8945 §5.1); the message handler verifies it.
      if (!in_additional || i + 1 != records) return ParseOutcome::kFormErr;
      out->has_tsig = true;
    }
  }
  if (r.remaining() != 0) return ParseOutcome::kFormErr;
  return ParseOutcome::kOk;
}

size_t WriteErrorResponse(const uint8_t* query, const ParsedQuery& q, uint16_t rcode, const AnswerOptions& opts,
                          uint8_t* out, size_t out_cap) {
  Response resp(query, q, opts, out, out_cap);
  resp.SetRcode(rcode);
  return resp.Finish();
}

AnswerResult AnswerQuery(const ZoneSet& zones, const uint8_t* query, size_t len, const AnswerOptions& opts,
                         uint8_t* out, size_t out_cap, ParsedQuery* q) {
  AnswerResult result;
  ParseOutcome outcome = ParseQuery(query, len, q);
  if (outcome == ParseOutcome::kDrop) return result;
  result.qtype = q->has_question ? q->qtype : 0;
  result.disposition = Disposition::kAnswered;
  auto error = [&](uint16_t rc) {
    result.rcode = rc;
    result.size = WriteErrorResponse(query, *q, rc, opts, out, out_cap);
    return result;
  };
  if (outcome == ParseOutcome::kFormErr) return error(rcode::kFormErr);
  if (q->has_edns && q->edns_version > 0) return error(rcode::kBadVers);
  if (opts.hand_off && (q->opcode() == opcode::kUpdate || q->opcode() == opcode::kNotify || q->has_tsig ||
                        (q->opcode() == opcode::kQuery && (q->qtype == type::kAXFR || q->qtype == type::kIXFR)))) {
    result.disposition = Disposition::kHandOff;
    return result;
  }
  if (q->opcode() != opcode::kQuery) return error(rcode::kNotImp);
  if (q->qclass != cls::kIN && q->qclass != cls::kANY) return error(rcode::kRefused);
  if (q->qtype == type::kAXFR || q->qtype == type::kIXFR) {
    // Zone transfers are served over TCP by the transfer module; never over UDP.
    return error(opts.tcp ? rcode::kRefused : rcode::kFormErr);
  }
  if (IsMetaType(q->qtype) && q->qtype != type::kANY) return error(rcode::kFormErr);

  const Zone* zone = zones.FindZone(q->qname_wire());
  if (!zone) {
    if (opts.recursion_allowed) {
      result.disposition = Disposition::kForward;
      return result;
    }
    return error(rcode::kRefused);
  }
  Response resp(query, *q, opts, out, out_cap);
  if (opts.recursion_allowed) resp.SetFlag(flag::kRA);
  ZoneAnswer answer(*zone, *q, opts, resp);
  answer.Run();
  result.size = resp.Finish();
  result.rcode = resp.rcode();
  return result;
}

}  // namespace berth::dns
