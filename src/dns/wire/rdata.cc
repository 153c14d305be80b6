#include "dns/wire/rdata.h"

#include "dns/wire/name.h"

namespace berth::dns {
namespace {

// Length of an uncompressed wire name at the start of `s`, or 0 when malformed.
size_t NameLength(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    uint8_t len = static_cast<uint8_t>(s[i]);
    if (len == 0) return i + 1 <= kMaxNameWire ? i + 1 : 0;
    if (len > kMaxLabel) return 0;
    i += len + 1;
  }
  return 0;
}

bool IsRestField(Field f) {
  return f == Field::kCharStrings || f == Field::kQuotedRest || f == Field::kBase64Rest ||
         f == Field::kHexRest || f == Field::kTypeBitmap;
}

// Size of fixed-size fields, 0 for variable ones.
size_t FixedSize(Field f) {
  switch (f) {
    case Field::kU8: return 1;
    case Field::kU16:
    case Field::kType: return 2;
    case Field::kU32:
    case Field::kTtl:
    case Field::kTimestamp:
    case Field::kIPv4: return 4;
    case Field::kIPv6: return 16;
    default: return 0;
  }
}

// Validates the NSEC type bitmap format (RFC 4034 §4.1.2).
bool ValidBitmap(std::string_view b) {
  size_t i = 0;
  int last_window = -1;
  while (i < b.size()) {
    if (i + 2 > b.size()) return false;
    int window = static_cast<uint8_t>(b[i]);
    size_t len = static_cast<uint8_t>(b[i + 1]);
    if (window <= last_window || len == 0 || len > 32 || i + 2 + len > b.size()) return false;
    last_window = window;
    i += 2 + len;
  }
  return true;
}

// Walks canonical RDATA field by field against the type's layout, calling
// emit(RdataField) for each; the checks of SplitRdata. Validation passes a no-op, so it
// allocates nothing (zone builds validate every record).
template <typename Emit>
Status WalkRdata(uint16_t rrtype, std::string_view rdata, Emit&& emit) {
  const RdataLayout* layout = LayoutOf(rrtype);
  if (!layout) {
    emit(RdataField{Field::kHexRest, rdata});
    return Status::Ok();
  }
  size_t pos = 0;
  for (Field f : layout->fields) {
    if (f == Field::kEnd) break;
    std::string_view rest = rdata.substr(pos);
    size_t n = FixedSize(f);
    if (n) {
      if (rest.size() < n) return InvalidArgument(TypeToText(rrtype) + " rdata too short");
    } else if (f == Field::kName || f == Field::kCompressibleName) {
      n = NameLength(rest);
      if (n == 0) return InvalidArgument(TypeToText(rrtype) + " rdata has a malformed name");
    } else if (f == Field::kCharString || f == Field::kTag) {
      if (rest.empty() || static_cast<uint8_t>(rest[0]) + 1u > rest.size())
        return InvalidArgument(TypeToText(rrtype) + " rdata has a short character-string");
      n = static_cast<uint8_t>(rest[0]) + 1u;
      if (f == Field::kTag && n == 1) return InvalidArgument("CAA tag is empty");
    } else if (IsRestField(f)) {
      n = rest.size();
      if (f == Field::kCharStrings) {
        if (rest.empty()) return InvalidArgument(TypeToText(rrtype) + " needs a character-string");
        for (size_t i = 0; i < rest.size(); i += static_cast<uint8_t>(rest[i]) + 1u)
          if (i + static_cast<uint8_t>(rest[i]) + 1u > rest.size())
            return InvalidArgument(TypeToText(rrtype) + " rdata has a short character-string");
      } else if (f == Field::kTypeBitmap && !ValidBitmap(rest)) {
        return InvalidArgument("malformed NSEC type bitmap");
      }
    }
    emit(RdataField{f, rest.substr(0, n)});
    pos += n;
  }
  if (pos != rdata.size()) return InvalidArgument(TypeToText(rrtype) + " rdata has trailing bytes");
  return Status::Ok();
}

}  // namespace

Result<std::vector<RdataField>> SplitRdata(uint16_t rrtype, std::string_view rdata) {
  std::vector<RdataField> out;
  RETURN_IF_ERROR(WalkRdata(rrtype, rdata, [&out](RdataField f) { out.push_back(f); }));
  return out;
}

namespace {

bool HasNameField(uint16_t rrtype) {
  const RdataLayout* layout = LayoutOf(rrtype);
  if (!layout) return false;
  for (Field f : layout->fields)
    if (f == Field::kName || f == Field::kCompressibleName) return true;
  return false;
}

}  // namespace

std::string RdataCompareKey(uint16_t rrtype, std::string_view rdata) {
  std::string key(rdata);
  if (!HasNameField(rrtype)) return key;
  (void)WalkRdata(rrtype, rdata, [&](RdataField f) {
    if (f.kind != Field::kName && f.kind != Field::kCompressibleName) return;
    for (size_t i = static_cast<size_t>(f.bytes.data() - rdata.data()), end = i + f.bytes.size(); i < end;) {
      size_t label = static_cast<uint8_t>(key[i]);
      for (size_t j = i + 1; j <= i + label && j < end; ++j) key[j] = static_cast<char>(LowerByte(key[j]));
      i += label + 1;
    }
  });
  return key;
}

bool RdataEqual(uint16_t rrtype, std::string_view a, std::string_view b) {
  if (a == b) return true;
  if (a.size() != b.size() || !HasNameField(rrtype)) return false;
  return RdataCompareKey(rrtype, a) == RdataCompareKey(rrtype, b);
}

Status ValidateRdata(uint16_t rrtype, std::string_view rdata) {
  return WalkRdata(rrtype, rdata, [](RdataField) {});
}

Result<std::string> ReadRdata(WireReader& reader, uint16_t rrtype, uint16_t rdlength) {
  if (reader.remaining() < rdlength) {
    reader.Fail();
    return InvalidArgument("rdata runs past the message");
  }
  size_t end = reader.pos() + rdlength;
  const RdataLayout* layout = LayoutOf(rrtype);
  std::string out;
  bool has_name = false;
  if (layout) {
    for (Field f : layout->fields)
      if (f == Field::kName || f == Field::kCompressibleName) has_name = true;
  }
  if (!has_name) {
    const uint8_t* p = reader.Bytes(rdlength);
    if (!p) return InvalidArgument("rdata runs past the message");
    out.assign(reinterpret_cast<const char*>(p), rdlength);
  } else {
    // Only fixed fields, names and character-strings precede names in these layouts.
    for (Field f : layout->fields) {
      if (f == Field::kEnd) break;
      if (f == Field::kName || f == Field::kCompressibleName) {
        uint8_t buf[kMaxNameWire];
        size_t n = reader.ReadName(buf);
        if (n == 0 || reader.pos() > end) {
          reader.Fail();
          return InvalidArgument("malformed name in rdata");
        }
        out.append(reinterpret_cast<const char*>(buf), n);
      } else if (IsRestField(f)) {
        if (reader.pos() > end) break;
        const uint8_t* p = reader.Bytes(end - reader.pos());
        if (!p) return InvalidArgument("rdata runs past the message");
        out.append(reinterpret_cast<const char*>(p), end - (p - reader.message()));
      } else {
        size_t n = FixedSize(f);
        if (n == 0) {  // character-string
          if (reader.pos() >= end) {
            reader.Fail();
            return InvalidArgument("rdata too short");
          }
          n = reader.message()[reader.pos()] + 1u;
        }
        if (reader.pos() + n > end) {
          reader.Fail();
          return InvalidArgument("rdata too short");
        }
        const uint8_t* p = reader.Bytes(n);
        if (!p) return InvalidArgument("rdata runs past the message");
        out.append(reinterpret_cast<const char*>(p), n);
      }
    }
    if (reader.pos() != end) {
      reader.Fail();
      return InvalidArgument("rdata length does not match its content");
    }
  }
  if (!reader.ok()) return InvalidArgument("rdata runs past the message");
  if (Status s = ValidateRdata(rrtype, out); !s.ok()) {
    reader.Fail();
    return s;
  }
  return out;
}

void WriteRdata(WireWriter& writer, uint16_t rrtype, std::string_view rdata, bool compress) {
  size_t len_at = writer.size();
  writer.U16(0);
  const RdataLayout* layout = LayoutOf(rrtype);
  bool simple = true;
  if (layout) {
    for (Field f : layout->fields)
      if (f == Field::kName || f == Field::kCompressibleName) simple = false;
  }
  if (simple) {
    writer.Bytes(rdata);
  } else {
    // Walk the fields: names are written through the compressor, the rest copied.
    size_t pos = 0;
    for (Field f : layout->fields) {
      if (f == Field::kEnd || pos >= rdata.size()) break;
      std::string_view rest = rdata.substr(pos);
      size_t n = FixedSize(f);
      if (f == Field::kName || f == Field::kCompressibleName) {
        n = NameLength(rest);
        if (n == 0) n = rest.size();  // stored rdata is validated; never happens
        writer.Name(rest.substr(0, n), compress && f == Field::kCompressibleName);
        pos += n;
        continue;
      }
      if (n == 0) n = IsRestField(f) ? rest.size() : static_cast<uint8_t>(rest[0]) + 1u;
      if (n > rest.size()) n = rest.size();
      writer.Bytes(rest.substr(0, n));
      pos += n;
    }
  }
  writer.PatchU16(len_at, static_cast<uint16_t>(writer.size() - len_at - 2));
}

}  // namespace berth::dns
