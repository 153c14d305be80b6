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

// Reads `rdlength` bytes of RDATA at the reader's position, expanding compressed names of
// known types, and returns the canonical form. Sets the reader's error and returns
// kInvalidArgument on malformed data; the reader ends just after the RDATA.
Result<std::string> ReadRdata(WireReader& reader, uint16_t rrtype, uint16_t rdlength);

// Writes RDLENGTH and RDATA. Names in kCompressibleName fields are compressed when `compress`
// is set.
void WriteRdata(WireWriter& writer, uint16_t rrtype, std::string_view rdata, bool compress);

}  // namespace berth::dns
