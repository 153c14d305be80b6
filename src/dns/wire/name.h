// Domain names held in uncompressed wire form: length-prefixed labels ending with the root
// label, at most 255 bytes. Comparisons ignore ASCII case (RFC 4343) but the stored case is kept.
// A Name is a plain value: thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace berth::dns {

class Name {
 public:
  // The root name ".".
  Name() : wire_(1, '\0') {}

  // Parses presentation form: "www.example.", "a\.b.example.", "\065bc". A name without a
  // trailing dot is relative and gets `origin` appended; "@" is the origin itself. Errors:
  // kInvalidArgument (empty label, label > 63, name > 255, bad escape, relative without origin).
  static Result<Name> FromText(std::string_view text, const Name* origin = nullptr);
  // Takes uncompressed wire bytes; validates labels and length (kInvalidArgument).
  static Result<Name> FromWire(std::string_view wire);

  // Presentation form with a trailing dot and RFC 1035 escapes ("." for the root).
  std::string ToText() const;
  std::string_view wire() const { return wire_; }
  size_t wire_size() const { return wire_.size(); }
  bool IsRoot() const { return wire_.size() == 1; }
  // Number of labels, not counting the root label ("a.b." has 2).
  size_t LabelCount() const;
  // True when the first label is exactly "*".
  bool IsWildcard() const { return wire_.size() >= 2 && wire_[0] == 1 && wire_[1] == '*'; }

  // The name without its first label (the root's parent is the root).
  Name Parent() const;
  // The last `n` labels (n <= LabelCount()).
  Name Suffix(size_t n) const;
  // "*." + this name; fails when the result would exceed 255 bytes.
  Result<Name> WildcardChild() const;
  // `label` + "." + this name.
  Result<Name> Child(std::string_view label) const;
  // This name with its suffix `old_suffix` replaced by `new_suffix` (DNAME substitution).
  Result<Name> ReplaceSuffix(const Name& old_suffix, const Name& new_suffix) const;

  Name Lowercased() const;
  // Case-insensitive equality and ancestry (a name is a subdomain of itself).
  bool operator==(const Name& other) const;
  bool IsSubdomainOf(const Name& ancestor) const;
  // RFC 4034 §6.1 canonical order (label by label from the right, case-insensitive).
  static int CanonicalCompare(const Name& a, const Name& b);
  bool operator<(const Name& other) const { return CanonicalCompare(*this, other) < 0; }
  // A byte string whose plain (memcmp) order is the canonical order: for sorting many names
  // with cheap comparisons. Labels from the right, lower-cased, a 0x00 byte as 0x00 0x01,
  // 0x00 0x00 after each label; so an ancestor's key is a prefix of its descendants' keys.
  std::string CanonicalSortKey() const;
  // Appends the key of the name's first `labels` labels alone (those left of an ancestor
  // with LabelCount() - labels labels: keys relative to a zone origin); returns its size.
  size_t AppendCanonicalSortKey(size_t labels, std::string& out) const;

 private:
  explicit Name(std::string wire) : wire_(std::move(wire)) {}
  std::string wire_;
};

// ASCII lower-casing of one byte, the only case folding DNS has.
inline uint8_t LowerByte(uint8_t c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

// Case-insensitive comparison of two uncompressed wire names.
bool WireNamesEqual(std::string_view a, std::string_view b);

// Hash of a wire name that ignores case (FNV-1a over lower-cased bytes).
inline uint64_t HashWireName(std::string_view wire) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : wire) {
    h ^= LowerByte(c);
    h *= 1099511628211ull;
  }
  return h;
}

struct NameHash {
  size_t operator()(const Name& n) const { return HashWireName(n.wire()); }
};

}  // namespace berth::dns
