// Fuzzes RFC 2136 UPDATE handling end to end on a small zone: parse (as sent, and with the last
// additional record taken for a stripped TSIG), the response must re-parse, prerequisites,
// prescan with a policy, apply. Invariants: a NOERROR update leaves a zone that still builds
// (SOA and apex NS kept, CNAME rules held), and Rollback restores the zone exactly.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "dns/update/update.h"
#include "dns/zone/zone.h"
#include "dns/zonefile/zonefile.h"

namespace {

using namespace berth::dns;

const std::vector<Record>& BaseRecords() {
  static const std::vector<Record>* records = [] {
    auto r = ParseZoneText(
        "$TTL 300\n@ SOA ns h 1 2 3 4 5\n@ NS ns\n@ NS ns2\nns A 192.0.2.1\nns2 A 192.0.2.2\n@ MX 10 mail\n"
        "mail A 192.0.2.3\nwww A 192.0.2.4\nwww A 192.0.2.5\nwww TXT \"x\"\nalias CNAME www\n"
        "a.b AAAA 2001:db8::1\nsub NS ns.sub\nns.sub A 192.0.2.6\n_s._tcp SRV 0 0 1 mail\n",
        *Name::FromText("example."), "fuzz");
    return new std::vector<Record>(std::move(*r));
  }();
  return *records;
}

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

void RunOne(const uint8_t* data, size_t size, uint16_t stripped) {
  update::ParseResult p = update::ParseUpdate(data, size, stripped);
  if (p.outcome == update::Outcome::kDrop) return;
  std::string resp = update::WriteUpdateResponse(p.message, p.outcome == update::Outcome::kOk ? 0 : p.rcode);
  auto parsed = Message::Parse(reinterpret_cast<const uint8_t*>(resp.data()), resp.size());
  Check(parsed.ok() && parsed->id == p.message.id);
  if (p.outcome != update::Outcome::kOk) return;

  const Name origin = *Name::FromText("example.");
  ZoneContent zone(origin, BaseRecords());
  const std::vector<Record> before = zone.Records();
  zone.Begin();
  // A policy that denies TXT, so REFUSED is reached too.
  update::WritePolicy policy = [](const Name&, uint16_t t) { return t != type::kTXT; };
  uint16_t rc = update::ProcessUpdate(p.message, zone, policy);
  if (rc != 0) {
    Check(!zone.Changed());
  } else {
    Check(zone.HasRRset(origin, type::kSOA) && zone.HasRRset(origin, type::kNS));
    Check(Zone::Build(origin, zone.Records()).ok());
  }
  zone.Rollback();
  Check(zone.Records() == before);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  RunOne(data, size, 0);
  RunOne(data, size, 1);
  return 0;
}
