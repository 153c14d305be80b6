// RFC 2136 dynamic UPDATE as pure logic: parse a request into its zone, prerequisites and
// updates; check the prerequisites (§3.2), prescan (§3.4.1) and apply (§3.4.2) the updates to
// a ZoneContent; write the response. The caller finds the zone (NOTAUTH when not ours),
// verifies TSIG, and runs Begin/serial bump/Commit around ApplyUpdates. Functions are pure
// (thread-safe); a ZoneContent is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "dns/wire/message.h"
#include "dns/wire/name.h"
#include "dns/wire/types.h"
#include "dns/zone/zone_content.h"

namespace berth::dns::update {

// One UPDATE request. Prerequisite and update records keep the class they were sent with
// (ANY, NONE or the zone class: that is what selects their meaning, RFC 2136 §2.4/§2.5);
// RDATA is canonical (compressed names expanded) and empty for RDLENGTH 0.
struct UpdateMessage {
  uint16_t id = 0;
  uint16_t flags = 0;
  bool has_zone = false;  // the zone section parsed (it is echoed in the response)
  Name zone;              // ZNAME, case as sent
  uint16_t zone_class = cls::kIN;
  std::vector<Record> prerequisites;
  std::vector<Record> updates;
  bool has_edns = false;
  uint8_t edns_version = 0;
};

enum class Outcome {
  kOk,     // a well-formed UPDATE
  kDrop,   // send nothing: shorter than a header, or a response (QR=1)
  kError,  // answer `rcode` (FORMERR, NOTIMP, BADVERS)
};

struct ParseResult {
  Outcome outcome = Outcome::kDrop;
  uint16_t rcode = rcode::kNoError;
  std::string error;      // kDrop/kError: why, for the log
  UpdateMessage message;  // kOk: all of it; kError: the header, plus zone and EDNS when parsed
};

// Parses the UPDATE in msg[0, len). `stripped_additional` is how many records ARCOUNT counts
// beyond `len` (1 when the caller verified and cut off the TSIG: pass len = tsig_offset).
// FORMERR for: ZOCOUNT != 1, zone type not SOA, malformed names/RDATA/OPT, trailing bytes,
// and records whose class/type/TTL/RDLENGTH fit no form of §2.4 (prerequisites) or §2.5
// (updates): TTL != 0 or RDATA in an ANY/NONE-class prerequisite, TTL != 0 in a zone-class
// one, TTL/RDATA in an ANY-class update, TTL or type ANY in a NONE-class update, meta types
// where data is meant, any other class. NOTIMP for another opcode, BADVERS for EDNS > 0.
// Never reads outside msg[0, len).
ParseResult ParseUpdate(const uint8_t* msg, size_t len, uint16_t stripped_additional = 0);

// RFC 2136 §3.2.5: NOERROR, or the first failing prerequisite's rcode in message order
// (NOTZONE outside the zone, NXDOMAIN/YXDOMAIN for name in use/not in use, NXRRSET/YXRRSET
// for RRset exists/does not exist), then NXRRSET when a value-dependent RRset differs from the
// zone's (compared as sets: TTL and order ignored, names in RDATA case-insensitively).
uint16_t CheckPrerequisites(const UpdateMessage& msg, const ZoneContent& zone);

// Access policy: may this requester change `owner`/`type`? Deleting every RRset at a name asks
// with type ANY. An empty function allows everything.
using WritePolicy = std::function<bool(const Name& owner, uint16_t type)>;

// RFC 2136 §3.3 and §3.4.1: NOTZONE for an update outside the zone, FORMERR for a class/type
// combination no form allows (ParseUpdate already refused those; checked again for messages
// built in code), then REFUSED when `may_write` denies any update RR. Changes nothing.
uint16_t PrescanUpdates(const UpdateMessage& msg, const WritePolicy& may_write);

// RFC 2136 §3.4.2, in message order: adds (a duplicate RDATA replaces the RR; the RRset takes
// the new TTL), RRset deletes, name deletes, RR deletes. Ignored as the RFC says: a CNAME add
// at a name with other data and other data at a CNAME name (RRSIG/NSEC excepted, as the zone
// rules allow them beside a CNAME); an SOA add unless its serial is newer (RFC 1982) than the
// zone's (it then replaces the SOA); deletes of the apex SOA, of the apex NS RRset, and of the
// last apex NS; a name delete at the apex keeps its SOA and NS. Deleting what is not there is
// a no-op. Call only after PrescanUpdates returned NOERROR, on the zone the zone section names
// (class IN). Returns how many update RRs changed the content.
size_t ApplyUpdates(const UpdateMessage& msg, ZoneContent& zone);

// The whole §3 sequence on a zone: NOTAUTH unless the zone section names `zone` in class IN,
// then prerequisites, prescan with policy, apply. Returns NOERROR or the rcode to answer;
// nothing is changed unless it returns NOERROR.
uint16_t ProcessUpdate(const UpdateMessage& msg, ZoneContent& zone, const WritePolicy& may_write);

// The response (RFC 2136 §3.8): the request's ID, QR, opcode UPDATE, `rc`, the zone section
// echoed when it parsed, and an OPT (with the extended rcode bits) when the request had EDNS.
// The caller appends a TSIG when the request was signed.
std::string WriteUpdateResponse(const UpdateMessage& request, uint16_t rc,
                                uint16_t edns_udp_size = kDefaultEdnsSize);

}  // namespace berth::dns::update
