// Fuzzes every parser a DNS packet meets: the in-place query path (parse + answer from a
// zone with wildcards, CNAMEs and a delegation, over UDP and TCP sizes) and the whole-message
// parser, whose output must build and re-parse.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "dns/query/query.h"
#include "dns/wire/message.h"
#include "dns/zonefile/zonefile.h"

namespace {

const berth::dns::ZoneSet& Zones() {
  static const berth::dns::ZoneSet* zones = [] {
    using namespace berth::dns;
    Name origin = *Name::FromText("example.");
    auto records = ParseZoneText(
        "$TTL 300\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n@ MX 10 mail\nmail A 192.0.2.2\n"
        "www CNAME web\nweb A 192.0.2.3\n*.w TXT \"x\"\n*.x CNAME www\na.b.c A 192.0.2.4\n"
        "sub NS ns.sub\nns.sub A 192.0.2.5\nloop CNAME loop\n_s._tcp SRV 0 0 1 mail\n",
        origin, "fuzz");
    auto zone = Zone::Build(origin, std::move(*records));
    return new ZoneSet({*zone});
  }();
  return *zones;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace berth::dns;
  static uint8_t out[65535];
  ParsedQuery q;
  for (bool tcp : {false, true}) {
    AnswerOptions opts;
    opts.tcp = tcp;
    opts.recursion_allowed = !tcp;
    AnswerResult r = AnswerQuery(Zones(), data, size, opts, out, sizeof out, &q);
    if (r.disposition == Disposition::kAnswered) {
      if (r.size > (tcp ? 65535u : 1232u) || r.size < kHeaderSize) __builtin_trap();
      // Whatever we answer must itself be a well-formed message.
      if (!Message::Parse(out, r.size).ok()) __builtin_trap();
    }
  }
  auto m = Message::Parse(data, size);
  if (m.ok()) {
    std::string wire = m->Build();
    if (!Message::Parse(reinterpret_cast<const uint8_t*>(wire.data()), wire.size()).ok()) __builtin_trap();
  }
  return 0;
}
