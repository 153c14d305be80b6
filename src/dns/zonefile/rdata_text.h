// RDATA presentation format (RFC 1035 §5.1, RFC 3597 generic form) <-> canonical RDATA,
// driven by the layout table in dns/wire/types.h: each Field kind has one text codec used in
// both directions. Also TTLs with units and whole records as dig prints them. Pure functions:
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "dns/wire/message.h"
#include "dns/wire/name.h"

namespace berth::dns {

// Parses a TTL: plain seconds ("3600") or units s/m/h/d/w in any case ("1h30m", "2W").
// kInvalidArgument when empty, malformed or above 2^32-1.
Result<uint32_t> TtlFromText(std::string_view text);

// Builds canonical RDATA from presentation tokens as the zone file tokenizer returns them (raw:
// quoted tokens keep their quotes, escapes undecoded). Names are relative to `origin`. The
// RFC 3597 form `\# <len> <hex...>` is accepted for every type and required for types without a
// layout. kInvalidArgument with a reason naming the bad token (bad address, number out of
// range, string over 255 bytes, missing or extra fields, RDATA failing ValidateRdata).
Result<std::string> RdataFromText(uint16_t rrtype, const std::vector<std::string_view>& tokens,
                                  const Name& origin);
// Same from one line of text ("10 mail", "\"v=spf1 -all\""); comments and parentheses are
// allowed, line breaks only inside parentheses. Errors as above plus tokenizer errors.
Result<std::string> RdataFromText(uint16_t rrtype, std::string_view text, const Name& origin);

// Presentation form as dig/knot print it ("10 mail.example.", "\"v=spf1 -all\"",
// "0 issue \"letsencrypt.org\""); unknown types, and RDATA that has no faithful text form in
// its layout, as "\# <len> <hex>". RdataFromText reads the output back to the same bytes.
std::string RdataToText(uint16_t rrtype, std::string_view rdata);

// "owner<TAB>TTL<TAB>CLASS<TAB>TYPE<TAB>rdata" with an absolute owner, like dig.
std::string RecordToText(const Record& r);

// Decodes one character-string token, quoted or bare, with \DDD and \X escapes.
// kInvalidArgument on a bad escape or when the result exceeds `max_len` bytes.
Result<std::string> CharStringFromText(std::string_view token, size_t max_len = 255);
// The bytes as a quoted string with '"', '\' and non-printable bytes escaped.
std::string CharStringToText(std::string_view bytes);

}  // namespace berth::dns
