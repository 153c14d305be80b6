#include "dns/transfer/transfer.h"

#include <algorithm>
#include <memory>

#include "dns/wire/rdata.h"
#include "dns/wire/reader.h"
#include "dns/wire/writer.h"

namespace berth::dns::transfer {
namespace {

constexpr size_t kOptSize = 11;  // root owner, type, class, TTL, empty RDATA

Record WithSerial(Record soa, uint32_t serial) {
  if (soa.rdata.size() < 22) return soa;
  char* p = soa.rdata.data() + soa.rdata.size() - 20;
  p[0] = static_cast<char>(serial >> 24);
  p[1] = static_cast<char>(serial >> 16);
  p[2] = static_cast<char>(serial >> 8);
  p[3] = static_cast<char>(serial);
  return soa;
}

bool IsApexSoa(const Record& r, const Name& origin) { return r.type == type::kSOA && r.name == origin; }

Record CurrentSoa(const Zone& zone) {
  Record soa{*Name::FromWire(zone.NodeName(*zone.apex())), type::kSOA, cls::kIN, 0, {}};
  if (const Zone::RRset* set = zone.FindRRset(*zone.apex(), type::kSOA)) {
    soa.ttl = set->ttl;
    bool first = true;
    zone.ForEachRdata(*set, [&](std::string_view rd) {
      if (first) soa.rdata.assign(rd);
      first = false;
    });
  }
  return soa;
}

// The serial in the IXFR request's authority section: an SOA owned by the zone's apex.
// kInvalidArgument (answered FORMERR) when it is missing or malformed.
Result<uint32_t> ClientSerial(const TransferRequest& req, const Name& origin) {
  const auto* msg = reinterpret_cast<const uint8_t*>(req.message.data());
  WireReader r(msg, req.message.size(), kHeaderSize);
  WireReader header(msg, req.message.size());
  header.Skip(4);
  uint16_t qd = header.U16(), an = header.U16(), ns = header.U16();
  if (!header.ok() || qd != 1) return InvalidArgument("IXFR request without exactly one question");
  r.SkipName();
  r.Skip(4);
  for (uint16_t i = 0; i < an && r.ok(); ++i) {
    r.SkipName();
    r.Skip(r.ReadRecordHeader().rdlength);
  }
  uint8_t owner[kMaxNameWire];
  for (uint16_t i = 0; i < ns && r.ok(); ++i) {
    size_t n = r.ReadName(owner);
    WireReader::RecordHeader h = r.ReadRecordHeader();
    if (!r.ok()) break;
    if (h.type != type::kSOA) {
      r.Skip(h.rdlength);
      continue;
    }
    auto rdata = ReadRdata(r, h.type, h.rdlength);
    if (!rdata.ok()) break;
    if (!WireNamesEqual(std::string_view(reinterpret_cast<const char*>(owner), n), origin.wire())) {
      return InvalidArgument("IXFR request SOA is not the zone's");
    }
    if (ValidateRdata(type::kSOA, *rdata).ok()) return SoaSerial(*rdata);
    break;
  }
  return InvalidArgument("IXFR request without a well-formed SOA in its authority section");
}

// The diffs that take a client at `client` to `current`, or empty when the history cannot:
// it must start at the last diff leaving `client` and increase strictly all the way, and the
// client's serial must never have been reached by a non-increasing change (its content would
// be ambiguous). Diffs past `current` are left out: the journal may hold changes committed but
// not yet durable, which the served snapshot does not show yet.
std::vector<const ZoneDiff*> Chain(const std::vector<ZoneDiff>& history, uint32_t client, uint32_t current) {
  size_t start = history.size();
  for (size_t i = history.size(); i-- > 0;) {
    if (history[i].from_serial == client) {
      start = i;
      break;
    }
  }
  if (start == history.size()) return {};
  for (const ZoneDiff& d : history) {
    if (d.to_serial == client && !SerialNewer(d.to_serial, d.from_serial)) return {};
  }
  std::vector<const ZoneDiff*> chain;
  uint32_t at = client;
  for (size_t i = start; i < history.size() && at != current; ++i) {
    const ZoneDiff& d = history[i];
    if (d.from_serial != at || !SerialNewer(d.to_serial, d.from_serial)) return {};
    chain.push_back(&d);
    at = d.to_serial;
  }
  if (at != current) return {};
  return chain;
}

// Packs records into the messages of one response: header (id and RD echoed, QR and AA set),
// the question in the first message only, OPT when the request had EDNS, and a TSIG on each
// message when signing. `single` (UDP) never opens a second message.
class StreamBuilder {
 public:
  StreamBuilder(const TransferRequest& req, bool single)
      : req_(req), single_(single), limit_(std::clamp<size_t>(req.max_size, kMinUdpSize, 65535)) {
    reserve_ = req.query.has_edns ? kOptSize : 0;
    if (req.signing && req.signing->key) {
      const TsigKey& k = *req.signing->key;
      reserve_ += k.name.wire_size() + TsigAlgorithmName(k.algorithm).wire_size() + 26 + TsigDigestSize(k.algorithm);
      signer_ = std::make_unique<TsigStreamSigner>(k, req.signing->request_mac);
    }
    buf_.resize(limit_);
  }

  void set_rcode(uint16_t rcode) { rcode_ = rcode; }
  // Marks the (single) message as truncated: not even the SOA fitted the client's size.
  void set_truncated() { truncated_ = true; }
  size_t records() const { return total_records_; }

  // Adds a record, opening a new message when the current one is full. kResourceExhausted
  // when `single` and it does not fit; kInternal when it does not fit an empty message.
  Status Add(const Record& r) {
    if (!open_) Open();
    size_t mark = w_->size();
    WriteRecord(r);
    if (!w_->overflow()) {
      ++count_;
      return Status::Ok();
    }
    w_->Truncate(mark);
    if (single_) return ResourceExhausted("record does not fit the client's message size");
    if (count_ == 0) return Internal("record " + r.name.ToText() + " larger than a transfer message");
    RETURN_IF_ERROR(Close());
    Open();
    WriteRecord(r);
    if (w_->overflow()) return Internal("record " + r.name.ToText() + " larger than a transfer message");
    ++count_;
    return Status::Ok();
  }

  // Closes the last message (an empty answer when nothing was added) and returns them all.
  Result<std::vector<std::string>> Finish() {
    if (!open_) Open();
    RETURN_IF_ERROR(Close());
    return std::move(messages_);
  }

 private:
  void Open() {
    w_.emplace(reinterpret_cast<uint8_t*>(buf_.data()), limit_ > reserve_ + kHeaderSize ? limit_ - reserve_ : kHeaderSize);
    w_->U16(req_.query.id);
    w_->U16(0);  // flags, set on close
    w_->U16(0);
    w_->U16(0);
    w_->U16(0);
    w_->U16(0);
    if (messages_.empty() && req_.query.has_question && req_.query.question_end <= req_.message.size()) {
      w_->Bytes(req_.message.substr(kHeaderSize, req_.query.question_end - kHeaderSize));
      if (!w_->overflow()) {
        w_->PatchU16(4, 1);
        w_->AddCompressionTarget(kHeaderSize);
      }
    }
    count_ = 0;
    open_ = true;
  }

  void WriteRecord(const Record& r) {
    w_->Name(r.name.wire(), true);
    w_->U16(r.type);
    w_->U16(r.cls);
    w_->U32(r.ttl);
    WriteRdata(*w_, r.type, r.rdata, true);
  }

  Status Close() {
    uint16_t flags = flag::kQR | (req_.query.flags & flag::kRD) | (rcode_ & 0xF) | (truncated_ ? flag::kTC : 0);
    if (rcode_ == rcode::kNoError) flags |= flag::kAA;  // RFC 5936 §2.2.1
    w_->PatchU16(2, flags);
    w_->PatchU16(6, static_cast<uint16_t>(count_));
    if (req_.query.has_edns) {  // our OPT: the reserve keeps room for it
      w_->Grow(kOptSize);
      w_->U8(0);
      w_->U16(type::kOPT);
      w_->U16(kDefaultEdnsSize);
      w_->U32(0);
      w_->U16(0);
      w_->PatchU16(10, 1);
    }
    std::string msg(buf_.data(), w_->size());
    if (signer_) RETURN_IF_ERROR(signer_->Add(msg, req_.signing->now, /*sign=*/true));
    messages_.push_back(std::move(msg));
    total_records_ += count_;
    open_ = false;
    return Status::Ok();
  }

  const TransferRequest& req_;
  const bool single_;
  const size_t limit_;
  size_t reserve_ = 0;
  uint16_t rcode_ = rcode::kNoError;
  bool truncated_ = false;
  std::string buf_;
  std::optional<WireWriter> w_;
  bool open_ = false;
  size_t count_ = 0;
  size_t total_records_ = 0;
  std::unique_ptr<TsigStreamSigner> signer_;
  std::vector<std::string> messages_;
};

Result<TransferAnswer> Done(StreamBuilder& b, TransferKind kind, uint16_t rcode) {
  ASSIGN_OR_RETURN(auto messages, b.Finish());
  return TransferAnswer{std::move(messages), kind, rcode, b.records()};
}

Result<TransferAnswer> ErrorAnswer(const TransferRequest& req, uint16_t rcode) {
  StreamBuilder b(req, /*single=*/true);
  b.set_rcode(rcode);
  return Done(b, TransferKind::kError, rcode);
}

// The current SOA alone: "you are up to date" (or "retry over TCP" for a UDP IXFR).
Result<TransferAnswer> SoaOnly(const TransferRequest& req, const Record& soa) {
  StreamBuilder b(req, /*single=*/true);
  Status s = b.Add(soa);
  if (s.code() == Code::kResourceExhausted) {
    b.set_truncated();
  } else {
    RETURN_IF_ERROR(s);
  }
  return Done(b, TransferKind::kUpToDate, rcode::kNoError);
}

// RFC 5936 §2.2: SOA, every other record, SOA.
Result<TransferAnswer> WholeZone(const TransferRequest& req, const Zone& zone, TransferKind kind) {
  StreamBuilder b(req, /*single=*/false);
  std::vector<Record> records = zone.Records();
  for (const Record& r : records) RETURN_IF_ERROR(b.Add(r));
  if (!records.empty()) RETURN_IF_ERROR(b.Add(records.front()));
  return Done(b, kind, rcode::kNoError);
}

// RFC 1995 §4: current SOA, then per diff old SOA + removed and new SOA + added, current SOA.
Status AddIncremental(StreamBuilder& b, const Record& current, const std::vector<const ZoneDiff*>& chain,
                      const Name& origin) {
  RETURN_IF_ERROR(b.Add(current));
  for (const ZoneDiff* d : chain) {
    const auto old_soa = std::find_if(d->removed.begin(), d->removed.end(), [&](const Record& r) { return IsApexSoa(r, origin); });
    const auto new_soa = std::find_if(d->added.begin(), d->added.end(), [&](const Record& r) { return IsApexSoa(r, origin); });
    RETURN_IF_ERROR(b.Add(old_soa != d->removed.end() ? *old_soa : WithSerial(current, d->from_serial)));
    for (const Record& r : d->removed)
      if (!IsApexSoa(r, origin)) RETURN_IF_ERROR(b.Add(r));
    RETURN_IF_ERROR(b.Add(new_soa != d->added.end() ? *new_soa : WithSerial(current, d->to_serial)));
    for (const Record& r : d->added)
      if (!IsApexSoa(r, origin)) RETURN_IF_ERROR(b.Add(r));
  }
  return b.Add(current);
}

}  // namespace

std::string_view TransferKindName(TransferKind kind) {
  switch (kind) {
    case TransferKind::kAxfr: return "axfr";
    case TransferKind::kIxfr: return "ixfr";
    case TransferKind::kIxfrAxfr: return "ixfr_axfr";
    case TransferKind::kUpToDate: return "up_to_date";
    case TransferKind::kError: break;
  }
  return "error";
}

Result<TransferAnswer> Answer(const TransferRequest& req, const Zone& zone, const std::vector<ZoneDiff>& history) {
  const ParsedQuery& q = req.query;
  if (q.opcode() != opcode::kQuery || !q.has_question || (q.qtype != type::kAXFR && q.qtype != type::kIXFR)) {
    return InvalidArgument("not an AXFR or IXFR query");
  }
  if (q.question_end > req.message.size() || q.question_end < kHeaderSize) {
    return InvalidArgument("transfer request shorter than its question");
  }
  if (q.qtype == type::kAXFR && !req.tcp) return ErrorAnswer(req, rcode::kNotImp);
  if (q.qclass != cls::kIN) return ErrorAnswer(req, rcode::kRefused);
  if (!WireNamesEqual(q.qname_wire(), zone.origin().wire())) return ErrorAnswer(req, rcode::kNotAuth);
  if (q.qtype == type::kAXFR) return WholeZone(req, zone, TransferKind::kAxfr);

  Result<uint32_t> client = ClientSerial(req, zone.origin());
  if (!client.ok()) return ErrorAnswer(req, rcode::kFormErr);
  const Record current = CurrentSoa(zone);
  const uint32_t ours = zone.serial();
  if (*client == ours || SerialNewer(*client, ours)) return SoaOnly(req, current);
  std::vector<const ZoneDiff*> chain = Chain(history, *client, ours);
  if (chain.empty()) {
    // Over UDP the whole zone never fits: the SOA sends the client to TCP.
    return req.tcp ? WholeZone(req, zone, TransferKind::kIxfrAxfr) : SoaOnly(req, current);
  }
  StreamBuilder b(req, /*single=*/!req.tcp);
  Status s = AddIncremental(b, current, chain, zone.origin());
  if (s.code() == Code::kResourceExhausted) return SoaOnly(req, current);
  RETURN_IF_ERROR(s);
  return Done(b, TransferKind::kIxfr, rcode::kNoError);
}

Result<std::vector<std::string>> AnswerTransfer(const TransferRequest& req, const Zone& zone,
                                                const std::vector<ZoneDiff>& history) {
  ASSIGN_OR_RETURN(TransferAnswer a, Answer(req, zone, history));
  return std::move(a.messages);
}

}  // namespace berth::dns::transfer
