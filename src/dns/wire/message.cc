#include "dns/wire/message.h"

#include "dns/wire/rdata.h"
#include "dns/wire/reader.h"
#include "dns/wire/writer.h"

namespace berth::dns {

void Message::set_rcode(uint16_t rc) {
  flags = static_cast<uint16_t>((flags & ~0xF) | (rc & 0xF));
  if (rc > 0xF) {
    if (!edns) edns.emplace();
    edns->extended_rcode = static_cast<uint8_t>(rc >> 4);
  } else if (edns) {
    edns->extended_rcode = 0;
  }
}

Result<Message> Message::Parse(const uint8_t* data, size_t size) {
  WireReader r(data, size);
  Message m;
  m.id = r.U16();
  m.flags = r.U16();
  uint16_t counts[4] = {r.U16(), r.U16(), r.U16(), r.U16()};
  if (!r.ok()) return InvalidArgument("message shorter than its header");
  uint8_t buf[kMaxNameWire];
  for (uint16_t i = 0; i < counts[0]; ++i) {
    size_t n = r.ReadName(buf);
    Question q;
    q.type = r.U16();
    q.cls = r.U16();
    if (!r.ok()) return InvalidArgument("malformed question");
    auto name = Name::FromWire(std::string_view(reinterpret_cast<char*>(buf), n));
    if (!name.ok()) return name.status();
    q.name = std::move(*name);
    m.questions.push_back(std::move(q));
  }
  std::vector<Record>* sections[3] = {&m.answers, &m.authority, &m.additional};
  for (int s = 0; s < 3; ++s) {
    for (uint16_t i = 0; i < counts[s + 1]; ++i) {
      size_t n = r.ReadName(buf);
      WireReader::RecordHeader rr = r.ReadRecordHeader();
      Record rec;
      rec.type = rr.type;
      rec.cls = rr.cls;
      rec.ttl = rr.ttl;
      uint16_t rdlength = rr.rdlength;
      if (!r.ok()) return InvalidArgument("malformed record header");
      auto name = Name::FromWire(std::string_view(reinterpret_cast<char*>(buf), n));
      if (!name.ok()) return name.status();
      if (rec.type == type::kOPT) {
        if (s != 2 || m.edns || !name->IsRoot()) return InvalidArgument("misplaced or repeated OPT");
        Edns e;
        e.udp_size = rec.cls;
        e.extended_rcode = static_cast<uint8_t>(rec.ttl >> 24);
        e.version = static_cast<uint8_t>(rec.ttl >> 16);
        e.dnssec_ok = rec.ttl & 0x8000;
        const uint8_t* p = r.Bytes(rdlength);
        if (!p) return InvalidArgument("OPT runs past the message");
        e.options.assign(reinterpret_cast<const char*>(p), rdlength);
        m.edns = std::move(e);
        continue;
      }
      auto rdata = ReadRdata(r, rec.type, rdlength);
      if (!rdata.ok()) return rdata.status();
      rec.name = std::move(*name);
      rec.rdata = std::move(*rdata);
      sections[s]->push_back(std::move(rec));
    }
  }
  if (!r.ok()) return InvalidArgument("malformed message");
  if (r.remaining() != 0) return InvalidArgument("trailing bytes after the message");
  return m;
}

namespace {

void WriteRecord(WireWriter& w, const Record& rec) {
  w.Name(rec.name.wire(), true);
  w.U16(rec.type);
  w.U16(rec.cls);
  w.U32(rec.ttl);
  WriteRdata(w, rec.type, rec.rdata, true);
}

}  // namespace

std::string Message::Build(size_t max_size) const {
  std::string out(max_size < 65535 ? max_size : 65535, '\0');
  WireWriter w(reinterpret_cast<uint8_t*>(out.data()), out.size());
  w.U16(id);
  w.U16(flags);
  w.U16(static_cast<uint16_t>(questions.size()));
  w.U16(0);
  w.U16(0);
  w.U16(0);
  for (const auto& q : questions) {
    w.Name(q.name.wire(), true);
    w.U16(q.type);
    w.U16(q.cls);
  }
  // Space for the OPT record (11 bytes + options) is kept in reserve so it always fits.
  size_t opt_size = edns ? 11 + edns->options.size() : 0;
  const std::vector<Record>* sections[3] = {&answers, &authority, &additional};
  uint16_t counts[3] = {0, 0, 0};
  bool truncated = false;
  for (int s = 0; s < 3 && !truncated; ++s) {
    for (const auto& rec : *sections[s]) {
      size_t before = w.size();
      WriteRecord(w, rec);
      if (w.overflow() || w.size() + opt_size > w.capacity()) {
        w.Truncate(before);
        truncated = true;
        break;
      }
      ++counts[s];
    }
  }
  uint16_t arcount = counts[2];
  if (edns) {
    w.U8(0);
    w.U16(type::kOPT);
    w.U16(edns->udp_size);
    w.U32(static_cast<uint32_t>(edns->extended_rcode) << 24 |
          static_cast<uint32_t>(edns->version) << 16 | (edns->dnssec_ok ? 0x8000u : 0u));
    w.U16(static_cast<uint16_t>(edns->options.size()));
    w.Bytes(edns->options);
    ++arcount;
  }
  // Truncation only sets TC when an answer or authority record was dropped; dropping
  // additional records is allowed silently (RFC 2181 §9).
  uint16_t f = flags;
  if (truncated && (counts[0] < answers.size() || counts[1] < authority.size())) f |= flag::kTC;
  w.PatchU16(2, f);
  w.PatchU16(6, counts[0]);
  w.PatchU16(8, counts[1]);
  w.PatchU16(10, arcount);
  out.resize(w.size());
  return out;
}

}  // namespace berth::dns
