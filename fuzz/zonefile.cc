// Fuzzes the zone file parser with $INCLUDE off, as for untrusted API imports. Whatever
// parses must also survive the writer: WriteZoneText output parses back to the same records.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "dns/zonefile/zonefile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const berth::dns::Name origin = *berth::dns::Name::FromText("example.com.");
  berth::dns::ZoneFileOptions opts;
  opts.allow_include = false;
  opts.max_records = 10000;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto records = berth::dns::ParseZoneText(text, origin, "fuzz.zone", opts);
  if (!records.ok()) return 0;
  std::string written = berth::dns::WriteZoneText(origin, *records);
  auto again = berth::dns::ParseZoneText(written, origin, "written.zone", opts);
  if (!again.ok() || again->size() != records->size()) std::abort();
  // The writer puts SOA records first: compare the two groups separately.
  size_t soa = 0;
  for (const auto& r : *records) soa += r.type == berth::dns::type::kSOA;
  size_t i_soa = 0, i_other = soa;
  for (const auto& r : *records) {
    size_t& i = r.type == berth::dns::type::kSOA ? i_soa : i_other;
    const auto& back = (*again)[i++];
    if (!(back == r) || back.name.wire() != r.name.wire()) std::abort();
  }
  return 0;
}
