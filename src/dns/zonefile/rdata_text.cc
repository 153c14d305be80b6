#include "dns/zonefile/rdata_text.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <optional>
#include <span>

#include "core/text.h"
#include "dns/wire/rdata.h"
#include "dns/wire/types.h"
#include "dns/zonefile/lexer.h"

namespace berth::dns {
namespace {

using zonefile_internal::IsQuoted;

constexpr size_t kMaxRdata = 65535;

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

// Decimal digits only (no sign, no spaces), at most `max`.
std::optional<uint64_t> ParseDecimal(std::string_view s, uint64_t max) {
  uint64_t v = 0;
  if (s.empty() || s.size() > 20) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v > max) return std::nullopt;
  return v;
}

uint64_t ReadBigEndian(std::string_view b) {
  uint64_t v = 0;
  for (unsigned char c : b) v = v << 8 | c;
  return v;
}

void AppendBigEndian(uint64_t v, size_t bytes, std::string* out) {
  for (size_t i = bytes; i-- > 0;) out->push_back(static_cast<char>(v >> (8 * i)));
}

// ---- hex and base64 ----

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::optional<std::string> HexDecode(std::string_view s) {
  if (s.size() % 2) return std::nullopt;
  std::string out;
  out.reserve(s.size() / 2);
  for (size_t i = 0; i < s.size(); i += 2) {
    int hi = HexDigitValue(s[i]), lo = HexDigitValue(s[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi << 4 | lo));
  }
  return out;
}

std::string HexEncode(std::string_view b, bool upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  out.reserve(b.size() * 2);
  for (unsigned char c : b) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view s) {
  if (s.size() % 4) return std::nullopt;
  std::string out;
  out.reserve(s.size() / 4 * 3);
  for (size_t i = 0; i < s.size(); i += 4) {
    uint32_t acc = 0;
    int pad = 0;
    for (size_t k = 0; k < 4; ++k) {
      char c = s[i + k];
      int v;
      if (c == '=') {
        // Padding in a group's last one or two places. Like Knot, a padded group may be
        // followed by more groups: keys split into separately padded tokens still read.
        if (k < 2) return std::nullopt;
        ++pad;
        v = 0;
      } else {
        if (pad) return std::nullopt;
        const char* p = c ? std::strchr(kBase64, c) : nullptr;
        if (!p) return std::nullopt;
        v = static_cast<int>(p - kBase64);
      }
      acc = acc << 6 | static_cast<uint32_t>(v);
    }
    out.push_back(static_cast<char>(acc >> 16));
    if (pad < 2) out.push_back(static_cast<char>(acc >> 8));
    if (pad < 1) out.push_back(static_cast<char>(acc));
  }
  return out;
}

std::string Base64Encode(std::string_view b) {
  std::string out;
  out.reserve((b.size() + 2) / 3 * 4);
  for (size_t i = 0; i < b.size(); i += 3) {
    size_t n = std::min<size_t>(3, b.size() - i);
    uint32_t acc = 0;
    for (size_t k = 0; k < 3; ++k)
      acc = acc << 8 | (k < n ? static_cast<unsigned char>(b[i + k]) : 0u);
    for (size_t k = 0; k < 4; ++k) out.push_back(k <= n ? kBase64[(acc >> (18 - 6 * k)) & 63] : '=');
  }
  return out;
}

// ---- RRSIG timestamps (RFC 4034 §3.2): YYYYMMDDHHmmSS in UTC, modulo 2^32 ----

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = static_cast<unsigned>(y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = static_cast<unsigned>(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

std::optional<uint32_t> TimestampFromText(std::string_view s) {
  if (s.size() != 14) {
    auto v = ParseDecimal(s, 0xFFFFFFFFu);
    if (!v) return std::nullopt;
    return static_cast<uint32_t>(*v);
  }
  for (char c : s)
    if (c < '0' || c > '9') return std::nullopt;
  auto num = [&](size_t at, size_t n) {
    unsigned v = 0;
    for (size_t i = at; i < at + n; ++i) v = v * 10 + static_cast<unsigned>(s[i] - '0');
    return v;
  };
  unsigned y = num(0, 4), mo = num(4, 2), d = num(6, 2), h = num(8, 2), mi = num(10, 2),
           sec = num(12, 2);
  static constexpr unsigned kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] || (mo == 2 && !leap && d > 28) ||
      h > 23 || mi > 59 || sec > 59)
    return std::nullopt;
  int64_t t = DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
  return static_cast<uint32_t>(static_cast<uint64_t>(t));  // serial arithmetic wraps
}

std::string TimestampToText(uint32_t t) {
  int64_t y;
  unsigned mo, d;
  CivilFromDays(t / 86400, &y, &mo, &d);
  unsigned rem = t % 86400;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld%02u%02u%02u%02u%02u", static_cast<long long>(y), mo, d,
                rem / 3600, rem / 60 % 60, rem % 60);
  return buf;
}

// ---- the token cursor and one codec per Field kind ----

class Tokens {
 public:
  explicit Tokens(std::span<const std::string_view> t) : t_(t) {}
  bool done() const { return i_ >= t_.size(); }
  std::string_view peek() const { return t_[i_]; }
  // The next token; `what` names the missing field in the error.
  Result<std::string_view> Take(std::string_view what) {
    if (done()) return InvalidArgument("missing " + std::string(what));
    return t_[i_++];
  }
  // The next token, which must not be quoted (names, numbers, addresses).
  Result<std::string_view> TakeBare(std::string_view what) {
    ASSIGN_OR_RETURN(std::string_view tok, Take(what));
    if (IsQuoted(tok)) return InvalidArgument("expected " + std::string(what) + ", got " + std::string(tok));
    return tok;
  }
  // All remaining tokens joined (base64 and hex may be split by spaces); none must be quoted.
  Result<std::string> TakeRestJoined(std::string_view what) {
    if (done()) return InvalidArgument("missing " + std::string(what));
    std::string joined;
    while (!done()) {
      ASSIGN_OR_RETURN(std::string_view tok, TakeBare(what));
      joined.append(tok);
    }
    return joined;
  }

 private:
  std::span<const std::string_view> t_;
  size_t i_ = 0;
};

struct FieldCodec {
  // Appends the field's canonical bytes read from the tokens.
  Status (*parse)(Tokens& t, const Name& origin, std::string* out);
  // Appends the field's text (may be empty); false when the bytes have no faithful text form.
  bool (*print)(std::string_view bytes, std::string* out);
};

Status ParseName(Tokens& t, const Name& origin, std::string* out) {
  ASSIGN_OR_RETURN(std::string_view tok, t.TakeBare("domain name"));
  auto name = Name::FromText(tok, &origin);
  if (!name.ok()) return InvalidArgument("bad domain name " + Quote(tok) + ": " + name.status().message());
  out->append(name->wire());
  return Status::Ok();
}
bool PrintName(std::string_view b, std::string* out) {
  auto name = Name::FromWire(b);
  if (!name.ok()) return false;
  out->append(name->ToText());
  return true;
}

template <size_t kBytes>
Status ParseUnsigned(Tokens& t, const Name&, std::string* out) {
  constexpr uint64_t kMax = (uint64_t{1} << (8 * kBytes)) - 1;
  ASSIGN_OR_RETURN(std::string_view tok, t.TakeBare("number"));
  auto v = ParseDecimal(tok, kMax);
  if (!v) return InvalidArgument("bad number " + Quote(tok) + " (0.." + std::to_string(kMax) + ")");
  AppendBigEndian(*v, kBytes, out);
  return Status::Ok();
}
bool PrintUnsigned(std::string_view b, std::string* out) {
  out->append(std::to_string(ReadBigEndian(b)));
  return true;
}

Status ParseTtl(Tokens& t, const Name&, std::string* out) {
  ASSIGN_OR_RETURN(std::string_view tok, t.TakeBare("TTL"));
  auto v = TtlFromText(tok);
  if (!v.ok()) return v.status();
  AppendBigEndian(*v, 4, out);
  return Status::Ok();
}

template <int kFamily>
Status ParseAddress(Tokens& t, const Name&, std::string* out) {
  constexpr bool kV4 = kFamily == AF_INET;
  const char* what = kV4 ? "IPv4 address" : "IPv6 address";
  ASSIGN_OR_RETURN(std::string_view tok, t.TakeBare(what));
  unsigned char buf[16];
  if (tok.size() > 64 || inet_pton(kFamily, std::string(tok).c_str(), buf) != 1)
    return InvalidArgument(std::string("bad ") + what + " " + Quote(tok));
  out->append(reinterpret_cast<const char*>(buf), kV4 ? 4 : 16);
  return Status::Ok();
}
template <int kFamily>
bool PrintAddress(std::string_view b, std::string* out) {
  char buf[INET6_ADDRSTRLEN];
  if (!inet_ntop(kFamily, b.data(), buf, sizeof buf)) return false;
  out->append(buf);
  return true;
}

Status ParseCharString(Tokens& t, const Name&, std::string* out) {
  ASSIGN_OR_RETURN(std::string_view tok, t.Take("character-string"));
  ASSIGN_OR_RETURN(std::string s, CharStringFromText(tok));
  out->push_back(static_cast<char>(s.size()));
  out->append(s);
  return Status::Ok();
}
bool PrintCharString(std::string_view b, std::string* out) {
  out->append(CharStringToText(b.substr(1)));
  return true;
}

Status ParseCharStrings(Tokens& t, const Name& origin, std::string* out) {
  do {
    RETURN_IF_ERROR(ParseCharString(t, origin, out));
  } while (!t.done());
  return Status::Ok();
}
bool PrintCharStrings(std::string_view b, std::string* out) {
  for (size_t i = 0; i < b.size();) {
    size_t n = static_cast<unsigned char>(b[i]) + 1u;
    if (i) out->push_back(' ');
    PrintCharString(b.substr(i, n), out);
    i += n;
  }
  return true;
}

bool IsAlnum(std::string_view s) {
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  return !s.empty();
}

Status ParseTag(Tokens& t, const Name&, std::string* out) {
  ASSIGN_OR_RETURN(std::string_view tok, t.TakeBare("CAA tag"));
  if (!IsAlnum(tok) || tok.size() > 255)
    return InvalidArgument("bad CAA tag " + Quote(tok) + " (letters and digits only)");
  out->push_back(static_cast<char>(tok.size()));
  out->append(tok);
  return Status::Ok();
}
bool PrintTag(std::string_view b, std::string* out) {
  if (!IsAlnum(b.substr(1))) return false;  // RFC 8659 tags are alphanumeric
  out->append(b.substr(1));
  return true;
}

Status ParseQuotedRest(Tokens& t, const Name&, std::string* out) {
  ASSIGN_OR_RETURN(std::string_view tok, t.Take("quoted string"));
  ASSIGN_OR_RETURN(std::string s, CharStringFromText(tok, kMaxRdata));
  out->append(s);
  return Status::Ok();
}
bool PrintQuotedRest(std::string_view b, std::string* out) {
  out->append(CharStringToText(b));
  return true;
}

// Base64 and hex fields: all remaining tokens joined, then decoded. An empty field has no
// token to show it, so it prints as "no faithful text" and the record falls back to \#.
Status ParseEncodedRest(Tokens& t, std::string_view what,
                        std::optional<std::string> (*decode)(std::string_view), std::string* out) {
  ASSIGN_OR_RETURN(std::string text, t.TakeRestJoined(what));
  auto bytes = decode(text);
  if (!bytes) return InvalidArgument("bad " + std::string(what) + " " + Quote(text.substr(0, 64)));
  out->append(*bytes);
  return Status::Ok();
}
Status ParseBase64(Tokens& t, const Name&, std::string* out) {
  return ParseEncodedRest(t, "base64 data", Base64Decode, out);
}
Status ParseHex(Tokens& t, const Name&, std::string* out) {
  return ParseEncodedRest(t, "hex data", HexDecode, out);
}
bool PrintBase64(std::string_view b, std::string* out) {
  out->append(Base64Encode(b));
  return !b.empty();
}
bool PrintHex(std::string_view b, std::string* out) {
  out->append(HexEncode(b, /*upper=*/true));
  return !b.empty();
}

Status ParseType(Tokens& t, const Name&, std::string* out) {
  ASSIGN_OR_RETURN(std::string_view tok, t.TakeBare("type"));
  auto type = TypeFromText(tok);
  if (!type) return InvalidArgument("unknown type " + Quote(tok));
  AppendBigEndian(*type, 2, out);
  return Status::Ok();
}
bool PrintType(std::string_view b, std::string* out) {
  out->append(TypeToText(static_cast<uint16_t>(ReadBigEndian(b))));
  return true;
}

// RFC 4034 §4.1.2: windows of up to 32 bytes, each bit one type. Built from the sorted
// list of types so a record costs its own size, not the full 8 KiB type space.
Status ParseTypeBitmap(Tokens& t, const Name&, std::string* out) {
  std::vector<uint16_t> types;
  while (!t.done()) {
    ASSIGN_OR_RETURN(std::string_view tok, t.TakeBare("type"));
    auto type = TypeFromText(tok);
    if (!type) return InvalidArgument("unknown type " + Quote(tok));
    types.push_back(*type);
  }
  std::sort(types.begin(), types.end());
  for (size_t i = 0; i < types.size();) {
    uint8_t window = static_cast<uint8_t>(types[i] >> 8);
    uint8_t block[32] = {};
    size_t len = 0;
    for (; i < types.size() && (types[i] >> 8) == window; ++i) {
      uint8_t low = static_cast<uint8_t>(types[i]);
      block[low >> 3] |= static_cast<uint8_t>(0x80 >> (low & 7));
      len = (low >> 3) + 1u;
    }
    out->push_back(static_cast<char>(window));
    out->push_back(static_cast<char>(len));
    out->append(reinterpret_cast<const char*>(block), len);
  }
  return Status::Ok();
}
bool PrintTypeBitmap(std::string_view b, std::string* out) {
  bool first = true;
  for (size_t i = 0; i + 2 <= b.size();) {
    unsigned window = static_cast<unsigned char>(b[i]);
    size_t len = static_cast<unsigned char>(b[i + 1]);
    for (size_t k = 0; k < len && i + 2 + k < b.size(); ++k) {
      unsigned char byte = static_cast<unsigned char>(b[i + 2 + k]);
      for (unsigned bit = 0; bit < 8; ++bit) {
        if (!(byte & (0x80 >> bit))) continue;
        if (!first) out->push_back(' ');
        first = false;
        out->append(TypeToText(static_cast<uint16_t>(window * 256 + k * 8 + bit)));
      }
    }
    i += 2 + len;
  }
  return true;
}

Status ParseTimestamp(Tokens& t, const Name&, std::string* out) {
  ASSIGN_OR_RETURN(std::string_view tok, t.TakeBare("timestamp"));
  auto v = TimestampFromText(tok);
  if (!v) return InvalidArgument("bad timestamp " + Quote(tok) + " (YYYYMMDDHHmmSS or seconds)");
  AppendBigEndian(*v, 4, out);
  return Status::Ok();
}
bool PrintTimestamp(std::string_view b, std::string* out) {
  out->append(TimestampToText(static_cast<uint32_t>(ReadBigEndian(b))));
  return true;
}

const FieldCodec& CodecOf(Field f) {
  static const FieldCodec kName{ParseName, PrintName};
  static const FieldCodec kU8{ParseUnsigned<1>, PrintUnsigned};
  static const FieldCodec kU16{ParseUnsigned<2>, PrintUnsigned};
  static const FieldCodec kU32{ParseUnsigned<4>, PrintUnsigned};
  static const FieldCodec kTtl{ParseTtl, PrintUnsigned};
  static const FieldCodec kIPv4{ParseAddress<AF_INET>, PrintAddress<AF_INET>};
  static const FieldCodec kIPv6{ParseAddress<AF_INET6>, PrintAddress<AF_INET6>};
  static const FieldCodec kCharString{ParseCharString, PrintCharString};
  static const FieldCodec kCharStrings{ParseCharStrings, PrintCharStrings};
  static const FieldCodec kTag{ParseTag, PrintTag};
  static const FieldCodec kQuotedRest{ParseQuotedRest, PrintQuotedRest};
  static const FieldCodec kBase64{ParseBase64, PrintBase64};
  static const FieldCodec kHex{ParseHex, PrintHex};
  static const FieldCodec kBitmap{ParseTypeBitmap, PrintTypeBitmap};
  static const FieldCodec kType{ParseType, PrintType};
  static const FieldCodec kTimestamp{ParseTimestamp, PrintTimestamp};
  switch (f) {
    case Field::kEnd:
    case Field::kCompressibleName:
    case Field::kName: return kName;
    case Field::kU8: return kU8;
    case Field::kU16: return kU16;
    case Field::kU32: return kU32;
    case Field::kTtl: return kTtl;
    case Field::kIPv4: return kIPv4;
    case Field::kIPv6: return kIPv6;
    case Field::kCharString: return kCharString;
    case Field::kCharStrings: return kCharStrings;
    case Field::kTag: return kTag;
    case Field::kQuotedRest: return kQuotedRest;
    case Field::kBase64Rest: return kBase64;
    case Field::kHexRest: return kHex;
    case Field::kTypeBitmap: return kBitmap;
    case Field::kType: return kType;
    case Field::kTimestamp: return kTimestamp;
  }
  return kName;
}

// RFC 3597 §5: "\# <length> <hex>", the hex possibly split into several tokens.
Result<std::string> GenericFromText(Tokens& t) {
  ASSIGN_OR_RETURN(std::string_view len_tok, t.TakeBare("\\# length"));
  auto len = ParseDecimal(len_tok, kMaxRdata);
  if (!len) return InvalidArgument("bad \\# length " + Quote(len_tok));
  if (*len == 0) {
    if (!t.done()) return InvalidArgument("\\# 0 takes no data, got " + Quote(t.peek()));
    return std::string();
  }
  ASSIGN_OR_RETURN(std::string hex, t.TakeRestJoined("\\# hex data"));
  auto bytes = HexDecode(hex);
  if (!bytes) return InvalidArgument("bad \\# hex data " + Quote(hex.substr(0, 64)));
  if (bytes->size() != *len)
    return InvalidArgument("\\# length " + std::to_string(*len) + " does not match " +
                           std::to_string(bytes->size()) + " bytes of data");
  return std::move(*bytes);
}

std::string GenericToText(std::string_view rdata) {
  std::string out = "\\# " + std::to_string(rdata.size());
  if (!rdata.empty()) out += " " + HexEncode(rdata, /*upper=*/false);
  return out;
}

}  // namespace

Result<uint32_t> TtlFromText(std::string_view text) {
  if (text.empty()) return InvalidArgument("empty TTL");
  auto bad = [&] { return InvalidArgument("bad TTL " + Quote(text)); };
  uint64_t total = 0, cur = 0;
  bool digits = false, units = false;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      cur = cur * 10 + static_cast<uint64_t>(c - '0');
      if (cur > 0xFFFFFFFFu) return bad();
      digits = true;
      continue;
    }
    uint64_t mult;
    switch (c | 0x20) {
      case 's': mult = 1; break;
      case 'm': mult = 60; break;
      case 'h': mult = 3600; break;
      case 'd': mult = 86400; break;
      case 'w': mult = 604800; break;
      default: return bad();
    }
    if (!digits) return bad();
    total += cur * mult;
    if (total > 0xFFFFFFFFu) return bad();
    cur = 0;
    digits = false;
    units = true;
  }
  if (units && digits) return bad();  // "1h30": a number after units needs its own unit
  total += cur;
  if ((!digits && !units) || total > 0xFFFFFFFFu) return bad();
  return static_cast<uint32_t>(total);
}

Result<std::string> CharStringFromText(std::string_view token, size_t max_len) {
  std::string_view s = token;
  if (IsQuoted(token)) {
    if (token.size() < 2 || token.back() != '"') return InvalidArgument("unterminated quoted string");
    s = token.substr(1, token.size() - 2);
  }
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 1 >= s.size()) return InvalidArgument("dangling backslash in " + Quote(token));
    if (s[i + 1] >= '0' && s[i + 1] <= '9') {
      if (s.size() - i < 4)
        return InvalidArgument("short \\DDD escape in " + Quote(token));
      auto v = ParseDecimal(s.substr(i + 1, 3), 255);
      if (!v) return InvalidArgument("bad \\DDD escape in " + Quote(token));
      out.push_back(static_cast<char>(*v));
      i += 3;
    } else {
      out.push_back(s[++i]);
    }
  }
  if (out.size() > max_len)
    return InvalidArgument("string longer than " + std::to_string(max_len) + " bytes: " +
                           Quote(token.substr(0, 40)) + "...");
  return out;
}

std::string CharStringToText(std::string_view bytes) {
  std::string out = "\"";
  for (unsigned char c : bytes) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\%03u", c);
      out.append(buf);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('"');
  return out;
}

Result<std::string> RdataFromText(uint16_t rrtype, const std::vector<std::string_view>& tokens,
                                  const Name& origin) {
  Tokens t(tokens);
  std::string out;
  const RdataLayout* layout = LayoutOf(rrtype);
  if (!tokens.empty() && tokens[0] == "\\#") {
    (void)t.Take("\\#");
    ASSIGN_OR_RETURN(out, GenericFromText(t));
  } else if (!layout) {
    return InvalidArgument("type " + TypeToText(rrtype) +
                           " has no text format here: use \\# <length> <hex>");
  } else {
    for (Field f : layout->fields) {
      if (f == Field::kEnd) break;
      RETURN_IF_ERROR(CodecOf(f).parse(t, origin, &out));
      if (out.size() > kMaxRdata) return InvalidArgument("RDATA longer than 65535 bytes");
    }
    if (!t.done()) return InvalidArgument("unexpected " + Quote(t.peek()) + " after the RDATA");
  }
  if (Status s = ValidateRdata(rrtype, out); !s.ok()) return s;
  return out;
}

Result<std::string> RdataFromText(uint16_t rrtype, std::string_view text, const Name& origin) {
  zonefile_internal::Lexer lexer(text);
  zonefile_internal::Entry entry;
  ASSIGN_OR_RETURN(bool got, lexer.Next(&entry));
  if (got) {
    zonefile_internal::Entry more;
    ASSIGN_OR_RETURN(bool again, lexer.Next(&more));
    if (again) return InvalidArgument("RDATA spans several lines (use parentheses)");
  }
  return RdataFromText(rrtype, entry.tokens, origin);
}

std::string RdataToText(uint16_t rrtype, std::string_view rdata) {
  const RdataLayout* layout = LayoutOf(rrtype);
  if (!layout) return GenericToText(rdata);
  auto fields = SplitRdata(rrtype, rdata);
  if (!fields.ok()) return GenericToText(rdata);
  std::string out;
  for (const RdataField& f : *fields) {
    std::string text;
    if (!CodecOf(f.kind).print(f.bytes, &text)) return GenericToText(rdata);
    if (text.empty()) continue;
    if (!out.empty()) out.push_back(' ');
    out.append(text);
  }
  return out;
}

std::string RecordToText(const Record& r) {
  std::string out = r.name.ToText();
  out += '\t';
  out += std::to_string(r.ttl);
  out += '\t';
  out += ClassToText(r.cls);
  out += '\t';
  out += TypeToText(r.type);
  out += '\t';
  out += RdataToText(r.type, r.rdata);
  return out;
}

}  // namespace berth::dns
