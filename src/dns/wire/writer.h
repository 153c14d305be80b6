// WireWriter: builds a DNS message into a caller-owned buffer, with name compression and a
// sticky overflow flag (writes past capacity are dropped and overflow() turns true), so a
// response can be built without allocation and truncated at an RR boundary. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace berth::dns {

class WireWriter {
 public:
  WireWriter(uint8_t* buf, size_t capacity) : buf_(buf), cap_(capacity) {}

  size_t size() const { return len_; }
  size_t capacity() const { return cap_; }
  bool overflow() const { return overflow_; }
  const uint8_t* data() const { return buf_; }
  uint8_t* mutable_data() { return buf_; }

  void U8(uint8_t v) {
    if (Room(1)) buf_[len_++] = v;
  }
  void U16(uint16_t v) {
    if (!Room(2)) return;
    buf_[len_] = static_cast<uint8_t>(v >> 8);
    buf_[len_ + 1] = static_cast<uint8_t>(v);
    len_ += 2;
  }
  void U32(uint32_t v) {
    if (!Room(4)) return;
    buf_[len_] = static_cast<uint8_t>(v >> 24);
    buf_[len_ + 1] = static_cast<uint8_t>(v >> 16);
    buf_[len_ + 2] = static_cast<uint8_t>(v >> 8);
    buf_[len_ + 3] = static_cast<uint8_t>(v);
    len_ += 4;
  }
  void Bytes(const void* p, size_t n) {
    if (!Room(n)) return;
    std::memcpy(buf_ + len_, p, n);
    len_ += n;
  }
  void Bytes(std::string_view s) { Bytes(s.data(), s.size()); }
  void PatchU16(size_t offset, uint16_t v) {
    if (offset + 2 > len_) return;
    buf_[offset] = static_cast<uint8_t>(v >> 8);
    buf_[offset + 1] = static_cast<uint8_t>(v);
  }

  // Writes an uncompressed wire name. With `compress`, the longest suffix already in the
  // message (among recorded names) becomes a pointer, and the new labels are recorded.
  void Name(std::string_view wire, bool compress);
  // Records a name already in the buffer at `offset` as a compression target (e.g. the
  // question copied verbatim from a query).
  void AddCompressionTarget(size_t offset);

  // Raises the capacity by `extra` bytes: the caller reserved them (e.g. for an OPT record)
  // and the buffer must really hold them.
  void Grow(size_t extra) { cap_ += extra; }

  // Rolls back to `len` (an RR boundary), forgetting compression targets beyond it and the
  // overflow flag: how a response is truncated to the client's size.
  void Truncate(size_t len);

 private:
  bool Room(size_t n) {
    if (overflow_ || cap_ - len_ < n) {
      overflow_ = true;
      return false;
    }
    return true;
  }
  // True when the name at message offset `at` (following pointers) equals `suffix`.
  bool MatchesAt(size_t at, std::string_view suffix) const;

  static constexpr size_t kMaxTargets = 96;
  uint8_t* buf_;
  size_t cap_;
  size_t len_ = 0;
  bool overflow_ = false;
  uint16_t targets_[kMaxTargets];  // offsets (< 0x4000) of label starts usable as pointers
  size_t n_targets_ = 0;
};

}  // namespace berth::dns
