// WireReader: a bounded cursor over one DNS message with a sticky error. Read freely, check
// ok() once: any read past the end or any malformed name sets the error and later reads return
// zeros. Never reads outside [msg, msg+len). Not thread-safe (one reader per message).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "dns/wire/types.h"

namespace berth::dns {

// A big-endian u16 at p (header fields read in place; the caller checked the length).
inline uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

class WireReader {
 public:
  WireReader(const uint8_t* msg, size_t len, size_t pos = 0) : msg_(msg), len_(len), pos_(pos) {
    if (pos > len) error_ = true;
  }

  bool ok() const { return !error_; }
  void Fail() { error_ = true; }
  size_t pos() const { return pos_; }
  size_t remaining() const { return error_ ? 0 : len_ - pos_; }
  const uint8_t* message() const { return msg_; }
  size_t message_size() const { return len_; }

  uint8_t U8() {
    if (!Need(1)) return 0;
    return msg_[pos_++];
  }
  uint16_t U16() {
    if (!Need(2)) return 0;
    uint16_t v = static_cast<uint16_t>(msg_[pos_] << 8 | msg_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  uint32_t U32() {
    if (!Need(4)) return 0;
    uint32_t v = static_cast<uint32_t>(msg_[pos_]) << 24 | static_cast<uint32_t>(msg_[pos_ + 1]) << 16 |
                 static_cast<uint32_t>(msg_[pos_ + 2]) << 8 | msg_[pos_ + 3];
    pos_ += 4;
    return v;
  }
  // Returns a pointer to the next n bytes and advances, or nullptr (and the error) if short.
  const uint8_t* Bytes(size_t n) {
    if (!Need(n)) return nullptr;
    const uint8_t* p = msg_ + pos_;
    pos_ += n;
    return p;
  }
  void Skip(size_t n) { Bytes(n); }

  // Reads a possibly compressed name into `out` (uncompressed wire form, case kept) and returns
  // its length, or 0 with the error set. Compression pointers must point strictly backwards,
  // which rules out loops; the expanded name must fit in 255 bytes.
  size_t ReadName(uint8_t out[kMaxNameWire]) {
    if (error_) return 0;
    size_t out_len = 0;
    size_t p = pos_;
    size_t resume = 0;  // where the cursor continues after the first pointer
    size_t limit = pos_;  // pointers must target offsets below this
    while (true) {
      if (p >= len_) return FailName();
      uint8_t len = msg_[p];
      if (len == 0) {
        if (out_len + 1 > kMaxNameWire) return FailName();
        out[out_len++] = 0;
        pos_ = resume ? resume : p + 1;
        return out_len;
      }
      if ((len & 0xC0) == 0xC0) {
        if (p + 1 >= len_) return FailName();
        size_t target = static_cast<size_t>(len & 0x3F) << 8 | msg_[p + 1];
        if (target >= limit) return FailName();
        if (!resume) resume = p + 2;
        limit = target;
        p = target;
        continue;
      }
      if (len & 0xC0) return FailName();  // 0x40 / 0x80 label types are obsolete
      if (p + 1 + len > len_ || out_len + 1 + len + 1 > kMaxNameWire) return FailName();
      std::memcpy(out + out_len, msg_ + p, len + 1);
      out_len += len + 1;
      p += len + 1;
    }
  }

  // The fixed fields that follow a record's owner name.
  struct RecordHeader {
    uint16_t type = 0;
    uint16_t cls = 0;
    uint32_t ttl = 0;
    uint16_t rdlength = 0;
  };
  RecordHeader ReadRecordHeader() { return RecordHeader{U16(), U16(), U32(), U16()}; }  // braced: in order

  // Skips a name without expanding it (used to walk sections quickly).
  void SkipName() {
    uint8_t buf[kMaxNameWire];
    ReadName(buf);
  }

 private:
  bool Need(size_t n) {
    if (error_ || len_ - pos_ < n) {
      error_ = true;
      return false;
    }
    return true;
  }
  size_t FailName() {
    error_ = true;
    return 0;
  }

  const uint8_t* msg_;
  size_t len_;
  size_t pos_;
  bool error_ = false;
};

}  // namespace berth::dns
