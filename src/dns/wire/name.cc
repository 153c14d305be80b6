#include "dns/wire/name.h"

#include <algorithm>
#include <vector>

#include "dns/wire/types.h"

namespace berth::dns {
namespace {

// Offsets of each label's length byte, root excluded.
std::vector<size_t> LabelOffsets(std::string_view wire) {
  std::vector<size_t> out;
  for (size_t i = 0; i < wire.size() && wire[i] != 0; i += static_cast<uint8_t>(wire[i]) + 1)
    out.push_back(i);
  return out;
}

}  // namespace

Result<Name> Name::FromText(std::string_view text, const Name* origin) {
  if (text.empty()) return InvalidArgument("empty name");
  if (text == "@") {
    if (!origin) return InvalidArgument("'@' used without an origin");
    return *origin;
  }
  if (text == ".") return Name();
  std::string wire;
  wire.reserve(text.size() + 2);
  size_t label_start = 0;
  wire.push_back(0);
  bool absolute = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.') {
      size_t len = wire.size() - label_start - 1;
      if (len == 0) return InvalidArgument("empty label in '" + std::string(text) + "'");
      wire[label_start] = static_cast<char>(len);
      if (i + 1 == text.size()) {
        absolute = true;
        break;
      }
      label_start = wire.size();
      wire.push_back(0);
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= text.size()) return InvalidArgument("dangling escape in '" + std::string(text) + "'");
      char n = text[i + 1];
      if (n >= '0' && n <= '9') {
        int v = 0;
        for (int k = 1; k <= 3; ++k) {
          if (i + k >= text.size()) return InvalidArgument("short \\DDD escape in '" + std::string(text) + "'");
          char d = text[i + k];
          if (d < '0' || d > '9') return InvalidArgument("bad \\DDD escape in '" + std::string(text) + "'");
          v = v * 10 + (d - '0');
        }
        if (v > 255) return InvalidArgument("\\DDD escape above 255 in '" + std::string(text) + "'");
        wire.push_back(static_cast<char>(v));
        i += 3;
      } else {
        wire.push_back(n);
        i += 1;
      }
    } else {
      wire.push_back(c);
    }
    if (wire.size() - label_start - 1 > kMaxLabel)
      return InvalidArgument("label longer than 63 bytes in '" + std::string(text) + "'");
  }
  if (!absolute) {
    size_t len = wire.size() - label_start - 1;
    if (len == 0) return InvalidArgument("empty label in '" + std::string(text) + "'");
    wire[label_start] = static_cast<char>(len);
    if (!origin) return InvalidArgument("relative name '" + std::string(text) + "' without an origin");
    wire.append(origin->wire());
  } else {
    wire.push_back(0);
  }
  if (wire.size() > kMaxNameWire) return InvalidArgument("name longer than 255 bytes");
  return Name(std::move(wire));
}

Result<Name> Name::FromWire(std::string_view wire) {
  size_t i = 0;
  while (true) {
    if (i >= wire.size()) return InvalidArgument("name runs past its end");
    uint8_t len = static_cast<uint8_t>(wire[i]);
    if (len == 0) break;
    if (len > kMaxLabel) return InvalidArgument("label longer than 63 bytes");
    i += len + 1;
  }
  if (i + 1 != wire.size()) return InvalidArgument("bytes after the root label");
  if (wire.size() > kMaxNameWire) return InvalidArgument("name longer than 255 bytes");
  return Name(std::string(wire));
}

std::string Name::ToText() const {
  if (IsRoot()) return ".";
  std::string out;
  out.reserve(wire_.size() + 4);
  size_t i = 0;
  while (static_cast<uint8_t>(wire_[i]) != 0) {
    size_t len = static_cast<uint8_t>(wire_[i]);
    for (size_t k = i + 1; k <= i + len; ++k) {
      unsigned char c = static_cast<unsigned char>(wire_[k]);
      if (c == '.' || c == '\\' || c == '"' || c == '(' || c == ')' || c == ';' || c == '@' ||
          c == '$') {
        out.push_back('\\');
        out.push_back(static_cast<char>(c));
      } else if (c <= 0x20 || c >= 0x7f) {
        char buf[5];
        buf[0] = '\\';
        buf[1] = static_cast<char>('0' + c / 100);
        buf[2] = static_cast<char>('0' + (c / 10) % 10);
        buf[3] = static_cast<char>('0' + c % 10);
        out.append(buf, 4);
      } else {
        out.push_back(static_cast<char>(c));
      }
    }
    out.push_back('.');
    i += len + 1;
  }
  return out;
}

size_t Name::LabelCount() const {
  size_t n = 0;
  for (size_t i = 0; static_cast<uint8_t>(wire_[i]) != 0; i += static_cast<uint8_t>(wire_[i]) + 1) ++n;
  return n;
}

Name Name::Parent() const {
  if (IsRoot()) return *this;
  return Name(wire_.substr(static_cast<uint8_t>(wire_[0]) + 1));
}

Name Name::Suffix(size_t n) const {
  auto offsets = LabelOffsets(wire_);
  if (n == 0) return Name();
  if (n >= offsets.size()) return *this;
  return Name(wire_.substr(offsets[offsets.size() - n]));
}

Result<Name> Name::WildcardChild() const { return Child("*"); }

Result<Name> Name::Child(std::string_view label) const {
  if (label.empty() || label.size() > kMaxLabel) return InvalidArgument("bad label length");
  if (wire_.size() + label.size() + 1 > kMaxNameWire) return InvalidArgument("name longer than 255 bytes");
  std::string wire;
  wire.reserve(wire_.size() + label.size() + 1);
  wire.push_back(static_cast<char>(label.size()));
  wire.append(label);
  wire.append(wire_);
  return Name(std::move(wire));
}

Result<Name> Name::ReplaceSuffix(const Name& old_suffix, const Name& new_suffix) const {
  if (!IsSubdomainOf(old_suffix)) return InvalidArgument("name is not below the suffix");
  size_t keep = wire_.size() - old_suffix.wire_.size();
  if (keep + new_suffix.wire_.size() > kMaxNameWire) return InvalidArgument("name longer than 255 bytes");
  return Name(wire_.substr(0, keep) + new_suffix.wire_);
}

Name Name::Lowercased() const {
  std::string w = wire_;
  // Length bytes are <= 63 and never in 'A'..'Z' (65..90), so lower-casing every byte is safe.
  for (auto& c : w) c = static_cast<char>(LowerByte(static_cast<uint8_t>(c)));
  return Name(std::move(w));
}

bool WireNamesEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (LowerByte(static_cast<uint8_t>(a[i])) != LowerByte(static_cast<uint8_t>(b[i]))) return false;
  return true;
}

bool Name::operator==(const Name& other) const { return WireNamesEqual(wire_, other.wire_); }

bool Name::IsSubdomainOf(const Name& ancestor) const {
  if (ancestor.wire_.size() > wire_.size()) return false;
  size_t start = wire_.size() - ancestor.wire_.size();
  // The suffix must begin on a label boundary.
  size_t i = 0;
  while (i < start) i += static_cast<uint8_t>(wire_[i]) + 1;
  if (i != start) return false;
  return WireNamesEqual(std::string_view(wire_).substr(start), ancestor.wire_);
}

std::string Name::CanonicalSortKey() const {
  std::string key;
  key.reserve(2 * wire_.size());
  AppendCanonicalSortKey(LabelCount(), key);
  return key;
}

size_t Name::AppendCanonicalSortKey(size_t labels, std::string& out) const {
  uint8_t offsets[128];
  size_t n = 0;
  for (size_t i = 0; n < labels && wire_[i] != 0; i += static_cast<uint8_t>(wire_[i]) + 1)
    offsets[n++] = static_cast<uint8_t>(i);
  const size_t before = out.size();
  while (n > 0) {
    size_t at = offsets[--n];
    size_t len = static_cast<uint8_t>(wire_[at]);
    for (size_t k = at + 1; k <= at + len; ++k) {
      uint8_t c = LowerByte(static_cast<uint8_t>(wire_[k]));
      out.push_back(static_cast<char>(c));
      if (c == 0) out.push_back('\1');  // a 0x00 byte sorts above the end of its label
    }
    out.push_back('\0');
    out.push_back('\0');
  }
  return out.size() - before;
}

int Name::CanonicalCompare(const Name& a, const Name& b) {
  // Label offsets on the stack: zone building sorts millions of names with this.
  uint8_t la[128], lb[128];
  size_t ia = 0, ib = 0;
  for (size_t i = 0; a.wire_[i] != 0; i += static_cast<uint8_t>(a.wire_[i]) + 1) la[ia++] = static_cast<uint8_t>(i);
  for (size_t i = 0; b.wire_[i] != 0; i += static_cast<uint8_t>(b.wire_[i]) + 1) lb[ib++] = static_cast<uint8_t>(i);
  while (ia > 0 && ib > 0) {
    --ia;
    --ib;
    std::string_view x(a.wire_.data() + la[ia] + 1, static_cast<uint8_t>(a.wire_[la[ia]]));
    std::string_view y(b.wire_.data() + lb[ib] + 1, static_cast<uint8_t>(b.wire_[lb[ib]]));
    size_t n = std::min(x.size(), y.size());
    for (size_t k = 0; k < n; ++k) {
      uint8_t cx = LowerByte(static_cast<uint8_t>(x[k])), cy = LowerByte(static_cast<uint8_t>(y[k]));
      if (cx != cy) return cx < cy ? -1 : 1;
    }
    if (x.size() != y.size()) return x.size() < y.size() ? -1 : 1;
  }
  if (ia == ib) return 0;
  return ia < ib ? -1 : 1;
}

}  // namespace berth::dns
