// DNS protocol constants and the one description of each record type's RDATA layout.
// The layout table (RdataLayout) drives wire decompression, canonical form, and the text
// codec, so a type is described once for parsing and writing. Immutable: thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace berth::dns {

namespace type {
inline constexpr uint16_t kA = 1, kNS = 2, kCNAME = 5, kSOA = 6, kPTR = 12, kHINFO = 13,
                          kMX = 15, kTXT = 16, kRP = 17, kAAAA = 28, kSRV = 33, kNAPTR = 35,
                          kDNAME = 39, kOPT = 41, kDS = 43, kSSHFP = 44, kRRSIG = 46, kNSEC = 47,
                          kDNSKEY = 48, kTLSA = 52, kSVCB = 64, kHTTPS = 65, kSPF = 99,
                          kTKEY = 249, kTSIG = 250, kIXFR = 251, kAXFR = 252, kANY = 255,
                          kCAA = 257;
}  // namespace type

namespace cls {
inline constexpr uint16_t kIN = 1, kCH = 3, kNONE = 254, kANY = 255;
}

namespace opcode {
inline constexpr uint8_t kQuery = 0, kNotify = 4, kUpdate = 5;
}

namespace rcode {
inline constexpr uint16_t kNoError = 0, kFormErr = 1, kServFail = 2, kNXDomain = 3, kNotImp = 4,
                          kRefused = 5, kYXDomain = 6, kYXRRSet = 7, kNXRRSet = 8, kNotAuth = 9,
                          kNotZone = 10, kBadVers = 16, kBadSig = 16, kBadKey = 17,
                          kBadTime = 18;
}

// Header flag bits in the 16-bit flags word.
namespace flag {
inline constexpr uint16_t kQR = 0x8000, kAA = 0x0400, kTC = 0x0200, kRD = 0x0100, kRA = 0x0080,
                          kAD = 0x0020, kCD = 0x0010;
}

inline constexpr size_t kHeaderSize = 12;
inline constexpr size_t kMaxNameWire = 255;
inline constexpr size_t kMaxLabel = 63;
inline constexpr uint16_t kDefaultEdnsSize = 1232;
inline constexpr uint16_t kMinUdpSize = 512;

// One field of an RDATA layout.
enum class Field : uint8_t {
  kEnd = 0,
  kCompressibleName,  // a name that may be compressed on the wire (RFC 3597 §4: NS, CNAME...)
  kName,              // a name never compressed on output, but decompressed on input
  kU8,
  kU16,
  kU32,
  kTtl,               // u32 shown as seconds (SOA timers)
  kIPv4,
  kIPv6,
  kCharString,        // <len><bytes>, shown quoted when needed
  kCharStrings,       // one or more character-strings up to the end (TXT)
  kTag,               // <len><bytes> shown bare (CAA tag)
  kQuotedRest,        // bytes to the end, shown as one quoted string (CAA value)
  kBase64Rest,        // bytes to the end, shown as base64 (DNSKEY key)
  kHexRest,           // bytes to the end, shown as hex (DS digest, SSHFP, TLSA)
  kTypeBitmap,        // NSEC type bitmap to the end
  kType,              // u16 shown as a type mnemonic (RRSIG type covered)
  kTimestamp,         // u32 shown as YYYYMMDDHHmmSS (RRSIG)
};

// The layout of one known type. Unknown types are opaque (RFC 3597) and have no layout.
struct RdataLayout {
  uint16_t code;
  std::string_view name;
  std::array<Field, 9> fields;
};

// The layout of a known type, or nullptr for types handled as opaque data.
const RdataLayout* LayoutOf(uint16_t rrtype);

// Mnemonic ("A", "AAAA") or "TYPE1234" for types without one.
std::string TypeToText(uint16_t rrtype);
// "A", "a", "TYPE1234"; nullopt for an unknown mnemonic.
std::optional<uint16_t> TypeFromText(std::string_view text);
// "IN", "CH", "CLASS5".
std::string ClassToText(uint16_t rrclass);
std::optional<uint16_t> ClassFromText(std::string_view text);
// "NOERROR", "NXDOMAIN", ... or "RCODE23".
std::string RcodeToText(uint16_t rc);

// RFC 1982 serial number arithmetic: is SOA serial `a` newer than `b`?
inline bool SerialNewer(uint32_t a, uint32_t b) { return a != b && static_cast<int32_t>(a - b) > 0; }

// Types that are meta / query-only and never stored in a zone (OPT, TSIG, AXFR, ANY...).
inline bool IsMetaType(uint16_t t) {
  return t == type::kOPT || (t >= 128 && t <= 255);
}

}  // namespace berth::dns
