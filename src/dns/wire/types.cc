#include "dns/wire/types.h"

#include <charconv>
#include <strings.h>

namespace berth::dns {
namespace {

using F = Field;

constexpr RdataLayout kLayouts[] = {
    {type::kA, "A", {F::kIPv4}},
    {type::kNS, "NS", {F::kCompressibleName}},
    {type::kCNAME, "CNAME", {F::kCompressibleName}},
    {type::kSOA,
     "SOA",
     {F::kCompressibleName, F::kCompressibleName, F::kU32, F::kTtl, F::kTtl, F::kTtl, F::kTtl}},
    {type::kPTR, "PTR", {F::kCompressibleName}},
    {type::kHINFO, "HINFO", {F::kCharString, F::kCharString}},
    {type::kMX, "MX", {F::kU16, F::kCompressibleName}},
    {type::kTXT, "TXT", {F::kCharStrings}},
    {type::kRP, "RP", {F::kName, F::kName}},
    {type::kAAAA, "AAAA", {F::kIPv6}},
    {type::kSRV, "SRV", {F::kU16, F::kU16, F::kU16, F::kName}},
    {type::kNAPTR,
     "NAPTR",
     {F::kU16, F::kU16, F::kCharString, F::kCharString, F::kCharString, F::kName}},
    {type::kDNAME, "DNAME", {F::kName}},
    {type::kDS, "DS", {F::kU16, F::kU8, F::kU8, F::kHexRest}},
    {type::kSSHFP, "SSHFP", {F::kU8, F::kU8, F::kHexRest}},
    {type::kRRSIG,
     "RRSIG",
     {F::kType, F::kU8, F::kU8, F::kU32, F::kTimestamp, F::kTimestamp, F::kU16, F::kName,
      F::kBase64Rest}},
    {type::kNSEC, "NSEC", {F::kName, F::kTypeBitmap}},
    {type::kDNSKEY, "DNSKEY", {F::kU16, F::kU8, F::kU8, F::kBase64Rest}},
    {type::kTLSA, "TLSA", {F::kU8, F::kU8, F::kU8, F::kHexRest}},
    {type::kSPF, "SPF", {F::kCharStrings}},
    {type::kCAA, "CAA", {F::kU8, F::kTag, F::kQuotedRest}},
};

struct Mnemonic {
  uint16_t code;
  std::string_view name;
};
// Types known by name but carried as opaque data.
constexpr Mnemonic kOtherNames[] = {
    {type::kOPT, "OPT"},   {type::kSVCB, "SVCB"}, {type::kHTTPS, "HTTPS"},
    {type::kTKEY, "TKEY"}, {type::kTSIG, "TSIG"}, {type::kIXFR, "IXFR"},
    {type::kAXFR, "AXFR"}, {type::kANY, "ANY"},
};

std::optional<uint16_t> ParseGeneric(std::string_view text, std::string_view prefix) {
  if (text.size() <= prefix.size() || strncasecmp(text.data(), prefix.data(), prefix.size()) != 0)
    return std::nullopt;
  unsigned value = 0;
  auto digits = text.substr(prefix.size());
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || value > 65535)
    return std::nullopt;
  return static_cast<uint16_t>(value);
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

const RdataLayout* LayoutOf(uint16_t rrtype) {
  for (const auto& l : kLayouts)
    if (l.code == rrtype) return &l;
  return nullptr;
}

std::string TypeToText(uint16_t rrtype) {
  if (const auto* l = LayoutOf(rrtype)) return std::string(l->name);
  for (const auto& m : kOtherNames)
    if (m.code == rrtype) return std::string(m.name);
  return "TYPE" + std::to_string(rrtype);
}

std::optional<uint16_t> TypeFromText(std::string_view text) {
  for (const auto& l : kLayouts)
    if (EqualsIgnoreCase(l.name, text)) return l.code;
  for (const auto& m : kOtherNames)
    if (EqualsIgnoreCase(m.name, text)) return m.code;
  return ParseGeneric(text, "TYPE");
}

std::string ClassToText(uint16_t rrclass) {
  switch (rrclass) {
    case cls::kIN: return "IN";
    case cls::kCH: return "CH";
    case cls::kNONE: return "NONE";
    case cls::kANY: return "ANY";
  }
  return "CLASS" + std::to_string(rrclass);
}

std::optional<uint16_t> ClassFromText(std::string_view text) {
  if (EqualsIgnoreCase(text, "IN")) return cls::kIN;
  if (EqualsIgnoreCase(text, "CH")) return cls::kCH;
  if (EqualsIgnoreCase(text, "NONE")) return cls::kNONE;
  if (EqualsIgnoreCase(text, "ANY")) return cls::kANY;
  return ParseGeneric(text, "CLASS");
}

std::string RcodeToText(uint16_t rc) {
  static constexpr std::string_view kNames[] = {
      "NOERROR", "FORMERR",  "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
      "YXDOMAIN", "YXRRSET", "NXRRSET",  "NOTAUTH",  "NOTZONE"};
  if (rc < std::size(kNames)) return std::string(kNames[rc]);
  if (rc == 16) return "BADVERS";
  return "RCODE" + std::to_string(rc);
}

}  // namespace berth::dns
