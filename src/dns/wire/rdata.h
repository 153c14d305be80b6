// RDATA on the wire, driven by the one layout table in types.h. Berth stores RDATA in
// canonical uncompressed form (names expanded, case kept); these functions convert between
// that form and messages. Pure functions: thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "dns/wire/reader.h"
#include "dns/wire/types.h"
#include "dns/wire/writer.h"

namespace berth::dns {

struct RdataField {
  Field kind;
  std::string_view bytes;  // the field's bytes inside the rdata (names: uncompressed wire)
};

// Splits canonical RDATA into its layout fields. Unknown types give one kHexRest field.
// kInvalidArgument when the bytes do not match the layout (short, long, bad name...).
Result<std::vector<RdataField>> SplitRdata(uint16_t rrtype, std::string_view rdata);

// Validates canonical RDATA against the type's layout (same errors as SplitRdata).
Status ValidateRdata(uint16_t rrtype, std::string_view rdata);

// RDATA as DNS compares it (RFC 4343): the names inside it lower-cased, every other field
// byte for byte. Equal keys mean equal RDATA. Malformed RDATA is its own key.
std::string RdataCompareKey(uint16_t rrtype, std::string_view rdata);
// RdataCompareKey(a) == RdataCompareKey(b), without allocating when the bytes are equal or
// the type has no names.
bool RdataEqual(uint16_t rrtype, std::string_view a, std::string_view b);

// The SERIAL of canonical (uncompressed) SOA RDATA, which ends with SERIAL REFRESH RETRY EXPIRE
// MINIMUM; 0 when it is too short to be one.
inline uint32_t SoaSerial(std::string_view soa_rdata) {
  if (soa_rdata.size() < 22) return 0;
  const auto* p = reinterpret_cast<const uint8_t*>(soa_rdata.data() + soa_rdata.size() - 20);
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

// Reads `rdlength` bytes of RDATA at the reader's position, expanding compressed names of
// known types, and returns the canonical form. Sets the reader's error and returns
// kInvalidArgument on malformed data; the reader ends just after the RDATA.
Result<std::string> ReadRdata(WireReader& reader, uint16_t rrtype, uint16_t rdlength);

// Writes RDLENGTH and RDATA. Names in kCompressibleName fields are compressed when `compress`
// is set.
void WriteRdata(WireWriter& writer, uint16_t rrtype, std::string_view rdata, bool compress);

}  // namespace berth::dns
