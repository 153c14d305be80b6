#include "dns/update/update.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "dns/wire/rdata.h"
#include "dns/wire/reader.h"

namespace berth::dns::update {
namespace {

// Types a CNAME may share its owner with (the zone rules allow DNSSEC's RRSIG and NSEC).
bool AllowedBesideCname(uint16_t t) { return t == type::kCNAME || t == type::kRRSIG || t == type::kNSEC; }

// Data records may not carry meta types (OPT, TSIG, AXFR, ANY...).
Status CheckDataType(const Record& rr, const char* what) {
  if (IsMetaType(rr.type)) return InvalidArgument(std::string(what) + " has meta type " + TypeToText(rr.type));
  return ValidateRdata(rr.type, rr.rdata).WithContext(what);
}

// RFC 2136 §2.4 / §3.2.5: the one form a prerequisite must take.
Status CheckPrerequisiteForm(const Record& rr, uint16_t zclass) {
  if (rr.ttl != 0) return InvalidArgument("prerequisite with a non-zero TTL");
  if (rr.cls == cls::kANY || rr.cls == cls::kNONE) {
    if (!rr.rdata.empty()) return InvalidArgument("name/RRset prerequisite with RDATA");
    if (IsMetaType(rr.type) && rr.type != type::kANY)
      return InvalidArgument("prerequisite on meta type " + TypeToText(rr.type));
    return Status::Ok();
  }
  if (rr.cls == zclass) return CheckDataType(rr, "value-dependent prerequisite");
  return InvalidArgument("prerequisite with class " + ClassToText(rr.cls));
}

// RFC 2136 §2.5 / §3.4.1.2: the one form an update RR must take.
Status CheckUpdateForm(const Record& rr, uint16_t zclass) {
  if (rr.cls == zclass) return CheckDataType(rr, "added record");
  if (rr.cls == cls::kANY) {
    if (rr.ttl != 0 || !rr.rdata.empty()) return InvalidArgument("RRset delete with a TTL or RDATA");
    if (IsMetaType(rr.type) && rr.type != type::kANY)
      return InvalidArgument("RRset delete of meta type " + TypeToText(rr.type));
    return Status::Ok();
  }
  if (rr.cls == cls::kNONE) {
    if (rr.ttl != 0) return InvalidArgument("RR delete with a non-zero TTL");
    return CheckDataType(rr, "deleted record");
  }
  return InvalidArgument("update with class " + ClassToText(rr.cls));
}

// Reads one RR of the prerequisite or update section. RDLENGTH 0 gives empty RDATA without
// consulting the type's layout (deletes and existence checks carry none); otherwise the
// RDATA is read canonically, compressed names expanded.
Result<Record> ReadRecord(WireReader& r) {
  uint8_t buf[kMaxNameWire];
  size_t n = r.ReadName(buf);
  WireReader::RecordHeader h = r.ReadRecordHeader();
  if (!r.ok()) return InvalidArgument("malformed record header");
  ASSIGN_OR_RETURN(Name name, Name::FromWire(std::string_view(reinterpret_cast<char*>(buf), n)));
  Record rec{std::move(name), h.type, h.cls, h.ttl, {}};
  if (h.rdlength > 0) {
    if (IsMetaType(h.type)) {
      // No layout to read meta types by; CheckUpdateForm/CheckPrerequisiteForm refuse them.
      const uint8_t* p = r.Bytes(h.rdlength);
      if (!p) return InvalidArgument("rdata runs past the message");
      rec.rdata.assign(reinterpret_cast<const char*>(p), h.rdlength);
    } else {
      ASSIGN_OR_RETURN(rec.rdata, ReadRdata(r, h.type, h.rdlength));
    }
  }
  return rec;
}

// Parses everything after the header; fills `m` as far as it gets.
Status ParseBody(WireReader& r, const uint16_t counts[4], uint16_t stripped_additional, UpdateMessage& m) {
  if (counts[0] != 1) return InvalidArgument("zone section must hold exactly one entry");
  uint8_t buf[kMaxNameWire];
  size_t n = r.ReadName(buf);
  uint16_t ztype = r.U16();
  uint16_t zclass = r.U16();
  if (!r.ok()) return InvalidArgument("malformed zone section");
  ASSIGN_OR_RETURN(Name zone, Name::FromWire(std::string_view(reinterpret_cast<char*>(buf), n)));
  if (ztype != type::kSOA) return InvalidArgument("zone section type is " + TypeToText(ztype) + ", not SOA");
  if (zclass == cls::kANY || zclass == cls::kNONE) return InvalidArgument("zone section class " + ClassToText(zclass));
  m.zone = std::move(zone);
  m.zone_class = zclass;
  m.has_zone = true;

  for (uint16_t i = 0; i < counts[1]; ++i) {
    ASSIGN_OR_RETURN(Record rec, ReadRecord(r));
    // The context is built only on error: this runs for every record of every UPDATE.
    if (Status s = CheckPrerequisiteForm(rec, zclass); !s.ok()) return s.WithContext("prerequisite " + rec.name.ToText());
    m.prerequisites.push_back(std::move(rec));
  }
  for (uint16_t i = 0; i < counts[2]; ++i) {
    ASSIGN_OR_RETURN(Record rec, ReadRecord(r));
    if (Status s = CheckUpdateForm(rec, zclass); !s.ok()) return s.WithContext("update " + rec.name.ToText());
    m.updates.push_back(std::move(rec));
  }
  if (counts[3] < stripped_additional) return InvalidArgument("ARCOUNT does not count the stripped TSIG");
  // Additional data is ignored (§3.8 lets a server), but must be well-formed; OPT is noted.
  for (uint16_t i = 0; i < counts[3] - stripped_additional; ++i) {
    n = r.ReadName(buf);
    WireReader::RecordHeader h = r.ReadRecordHeader();
    r.Skip(h.rdlength);
    if (!r.ok()) return InvalidArgument("malformed additional record");
    if (h.type == type::kOPT) {
      if (m.has_edns || n != 1) return InvalidArgument("misplaced or repeated OPT");
      m.has_edns = true;
      m.edns_version = static_cast<uint8_t>(h.ttl >> 16);
    }
  }
  if (r.remaining() != 0) return InvalidArgument("trailing bytes after the message");
  return Status::Ok();
}

// §3.4.2.2: an add.
bool ApplyAdd(const Record& rr, ZoneContent& zone) {
  if (rr.type == type::kCNAME) {
    const std::vector<Record> here = zone.RecordsAt(rr.name);
    if (std::any_of(here.begin(), here.end(), [](const Record& o) { return !AllowedBesideCname(o.type); }))
      return false;
    return zone.ReplaceRRset(rr.name, type::kCNAME, {rr});  // a CNAME replaces the CNAME
  }
  if (!AllowedBesideCname(rr.type) && zone.HasRRset(rr.name, type::kCNAME)) return false;
  if (rr.type == type::kSOA) {
    // Only the apex has an SOA; the new one must have a newer serial.
    std::vector<Record> cur = zone.RRset(rr.name, type::kSOA);
    if (cur.empty() || !SerialNewer(SoaSerial(rr.rdata), SoaSerial(cur.front().rdata))) return false;
    return zone.ReplaceRRset(rr.name, type::kSOA, {rr});
  }
  // An equal RR (names in RDATA compared without case) is replaced by the new one.
  return zone.Add(rr);
}

// §3.4.2.3: delete an RRset (type) or all RRsets at a name (type ANY); the apex keeps its
// SOA and NS.
bool ApplyDeleteRRsets(const Record& rr, ZoneContent& zone) {
  const bool apex = rr.name == zone.origin();
  if (rr.type != type::kANY) {
    if (apex && (rr.type == type::kSOA || rr.type == type::kNS)) return false;
    return zone.RemoveRRset(rr.name, rr.type) > 0;
  }
  if (!apex) return zone.RemoveName(rr.name) > 0;
  std::set<uint16_t> types;
  for (const auto& r : zone.RecordsAt(rr.name))
    if (r.type != type::kSOA && r.type != type::kNS) types.insert(r.type);
  size_t removed = 0;
  for (uint16_t t : types) removed += zone.RemoveRRset(rr.name, t);
  return removed > 0;
}

// §3.4.2.4: delete one RR; never the SOA, never the apex's last NS.
bool ApplyDeleteRR(const Record& rr, ZoneContent& zone) {
  if (rr.type == type::kSOA) return false;
  if (rr.type == type::kNS && rr.name == zone.origin()) {
    // The apex's last NS stays (only when this delete would hit it). RRset() returns a copy:
    // keep it alive while its record is compared.
    std::vector<Record> ns = zone.RRset(rr.name, type::kNS);
    if (ns.size() == 1 && RdataEqual(rr.type, ns.front().rdata, rr.rdata)) return false;
  }
  return zone.Remove(rr);
}

}  // namespace

ParseResult ParseUpdate(const uint8_t* msg, size_t len, uint16_t stripped_additional) {
  ParseResult res;
  WireReader r(msg, len);
  res.message.id = r.U16();
  res.message.flags = r.U16();
  uint16_t counts[4] = {r.U16(), r.U16(), r.U16(), r.U16()};
  if (!r.ok()) {
    res.error = "shorter than a DNS header";
    return res;
  }
  if (res.message.flags & flag::kQR) {
    res.error = "a response, not a request";
    return res;
  }
  res.outcome = Outcome::kError;
  if (((res.message.flags >> 11) & 0xF) != opcode::kUpdate) {
    res.rcode = rcode::kNotImp;
    res.error = "opcode is not UPDATE";
    return res;
  }
  if (Status s = ParseBody(r, counts, stripped_additional, res.message); !s.ok()) {
    res.rcode = rcode::kFormErr;
    res.error = s.message();
    return res;
  }
  if (res.message.has_edns && res.message.edns_version > 0) {
    res.rcode = rcode::kBadVers;
    res.error = "EDNS version " + std::to_string(res.message.edns_version);
    return res;
  }
  res.outcome = Outcome::kOk;
  return res;
}

uint16_t CheckPrerequisites(const UpdateMessage& msg, const ZoneContent& zone) {
  // Value-dependent prerequisites, gathered into RRsets of RDATA keys (duplicates collapse).
  struct Wanted {
    const Record* first;
    std::set<std::string> keys;
  };
  std::map<std::pair<std::string, uint16_t>, Wanted> sets;
  for (const Record& rr : msg.prerequisites) {
    if (!rr.name.IsSubdomainOf(zone.origin())) return rcode::kNotZone;
    if (!CheckPrerequisiteForm(rr, msg.zone_class).ok()) return rcode::kFormErr;
    if (rr.cls == cls::kANY) {
      if (rr.type == type::kANY ? !zone.NameExists(rr.name) : !zone.HasRRset(rr.name, rr.type))
        return rr.type == type::kANY ? rcode::kNXDomain : rcode::kNXRRSet;
    } else if (rr.cls == cls::kNONE) {
      if (rr.type == type::kANY ? zone.NameExists(rr.name) : zone.HasRRset(rr.name, rr.type))
        return rr.type == type::kANY ? rcode::kYXDomain : rcode::kYXRRSet;
    } else {
      Wanted& w = sets.try_emplace({rr.name.CanonicalSortKey(), rr.type}, Wanted{&rr, {}}).first->second;
      w.keys.insert(RdataCompareKey(rr.type, rr.rdata));
    }
  }
  for (const auto& [key, want] : sets) {
    std::set<std::string> have;
    for (const Record& r : zone.RRset(want.first->name, want.first->type)) have.insert(RdataCompareKey(r.type, r.rdata));
    if (have != want.keys) return rcode::kNXRRSet;
  }
  return rcode::kNoError;
}

uint16_t PrescanUpdates(const UpdateMessage& msg, const WritePolicy& may_write) {
  for (const Record& rr : msg.updates) {
    if (!rr.name.IsSubdomainOf(msg.zone)) return rcode::kNotZone;
    if (!CheckUpdateForm(rr, msg.zone_class).ok()) return rcode::kFormErr;
  }
  if (may_write) {
    for (const Record& rr : msg.updates)
      if (!may_write(rr.name, rr.type)) return rcode::kRefused;
  }
  return rcode::kNoError;
}

size_t ApplyUpdates(const UpdateMessage& msg, ZoneContent& zone) {
  size_t changed = 0;
  for (const Record& rr : msg.updates) {
    bool c = false;
    if (rr.cls == msg.zone_class) {
      c = ApplyAdd(rr, zone);
    } else if (rr.cls == cls::kANY) {
      c = ApplyDeleteRRsets(rr, zone);
    } else if (rr.cls == cls::kNONE) {
      c = ApplyDeleteRR(rr, zone);
    }
    if (c) ++changed;
  }
  return changed;
}

uint16_t ProcessUpdate(const UpdateMessage& msg, ZoneContent& zone, const WritePolicy& may_write) {
  // Zones are class IN only (Zone::Build serves nothing else).
  if (!msg.has_zone || msg.zone_class != cls::kIN || !(msg.zone == zone.origin())) return rcode::kNotAuth;
  if (uint16_t rc = CheckPrerequisites(msg, zone); rc != rcode::kNoError) return rc;
  if (uint16_t rc = PrescanUpdates(msg, may_write); rc != rcode::kNoError) return rc;
  ApplyUpdates(msg, zone);
  return rcode::kNoError;
}

std::string WriteUpdateResponse(const UpdateMessage& request, uint16_t rc, uint16_t edns_udp_size) {
  if (rc <= 0xF) {
    // Written directly (every acknowledged update comes through here): header, the zone
    // section echoed, and an empty OPT when the request had EDNS; what Message::Build makes.
    std::string_view zone = request.zone.wire();
    std::string out(12 + (request.has_zone ? zone.size() + 4 : 0) + (request.has_edns ? 11 : 0), '\0');
    auto put16 = [&out](size_t at, uint16_t v) {
      out[at] = static_cast<char>(v >> 8);
      out[at + 1] = static_cast<char>(v);
    };
    put16(0, request.id);
    put16(2, static_cast<uint16_t>(flag::kQR | opcode::kUpdate << 11 | rc));
    put16(4, request.has_zone ? 1 : 0);
    put16(10, request.has_edns ? 1 : 0);
    size_t at = 12;
    if (request.has_zone) {
      out.replace(at, zone.size(), zone);
      at += zone.size();
      put16(at, type::kSOA);
      put16(at + 2, request.zone_class);
      at += 4;
    }
    if (request.has_edns) {
      put16(at + 1, type::kOPT);  // root owner, then TYPE, CLASS = UDP size, TTL 0, RDLENGTH 0
      put16(at + 3, edns_udp_size);
    }
    return out;
  }
  Message m;
  m.id = request.id;
  m.flags = flag::kQR;
  m.set_opcode(opcode::kUpdate);
  if (request.has_zone) m.questions.push_back(Question{request.zone, type::kSOA, request.zone_class});
  if (request.has_edns) {
    m.edns.emplace();
    m.edns->udp_size = edns_udp_size;
  }
  m.set_rcode(rc);
  return m.Build();
}

}  // namespace berth::dns::update
