// Fuzzes the zone file parser with $INCLUDE off, as for untrusted API imports. Whatever
// parses must also survive the writer: WriteZoneText output parses back to the same records.
// And the zone builder: a zone built from them, rebuilt from its own Records(), is the same.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "dns/zone/zone.h"
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
  auto zone = berth::dns::Zone::Build(origin, *records);
  if (!zone.ok()) return 0;
  auto built = (*zone)->Records();
  if (built.size() != (*zone)->record_count()) std::abort();
  auto rebuilt = berth::dns::Zone::Build(origin, built);
  if (!rebuilt.ok() || (*rebuilt)->node_count() != (*zone)->node_count()) std::abort();
  auto again_built = (*rebuilt)->Records();
  if (again_built.size() != built.size()) std::abort();
  for (size_t i = 0; i < built.size(); ++i)
    if (!(again_built[i] == built[i]) || again_built[i].name.wire() != built[i].name.wire()) std::abort();
  return 0;
}
