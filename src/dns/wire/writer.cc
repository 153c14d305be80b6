#include "dns/wire/writer.h"

#include "dns/wire/name.h"

namespace berth::dns {

bool WireWriter::MatchesAt(size_t at, std::string_view suffix) const {
  size_t s = 0;
  int hops = 0;
  while (at < len_) {
    uint8_t len = buf_[at];
    if ((len & 0xC0) == 0xC0) {
      if (at + 1 >= len_ || ++hops > 32) return false;
      at = static_cast<size_t>(len & 0x3F) << 8 | buf_[at + 1];
      continue;
    }
    if (s >= suffix.size() || static_cast<uint8_t>(suffix[s]) != len) return false;
    if (len == 0) return true;
    if (at + 1 + len > len_) return false;
    for (size_t k = 1; k <= len; ++k)
      if (LowerByte(buf_[at + k]) != LowerByte(static_cast<uint8_t>(suffix[s + k]))) return false;
    at += len + 1;
    s += len + 1;
  }
  return false;
}

void WireWriter::AddCompressionTarget(size_t offset) {
  // Record every label start of the name at `offset` (uncompressed part only).
  while (offset < len_ && offset < 0x4000 && n_targets_ < kMaxTargets) {
    uint8_t len = buf_[offset];
    if (len == 0 || (len & 0xC0)) return;
    targets_[n_targets_++] = static_cast<uint16_t>(offset);
    offset += len + 1;
  }
}

void WireWriter::Name(std::string_view wire, bool compress) {
  size_t start = len_;
  if (compress && n_targets_ > 0) {
    for (size_t s = 0; s < wire.size() && wire[s] != 0; s += static_cast<uint8_t>(wire[s]) + 1) {
      std::string_view suffix = wire.substr(s);
      for (size_t t = 0; t < n_targets_; ++t) {
        if (!MatchesAt(targets_[t], suffix)) continue;
        Bytes(wire.data(), s);
        U16(static_cast<uint16_t>(0xC000 | targets_[t]));
        if (!overflow_ && s > 0) AddCompressionTarget(start);
        return;
      }
    }
  }
  Bytes(wire);
  if (!overflow_) AddCompressionTarget(start);
}

void WireWriter::Truncate(size_t len) {
  if (len > len_) return;
  len_ = len;
  overflow_ = false;
  while (n_targets_ > 0 && targets_[n_targets_ - 1] >= len) --n_targets_;
}

}  // namespace berth::dns
