#include "store/change_codec.h"

#include <algorithm>
#include <cstdint>
#include <optional>

#include "dns/wire/types.h"

namespace berth::store {
namespace {

constexpr uint8_t kFormatVersion = 1;
constexpr uint8_t kGroupFormatVersion = 2;
constexpr uint8_t kGroupWithSoaRefsVersion = 3;  // format 2 plus SOA back-references
constexpr uint8_t kSoaRef = 0;                   // an owner length no record has: a back-reference
constexpr size_t kSoaTail = 20;                  // serial, refresh, retry, expire, minimum
constexpr size_t kMinRecordSize = 11;       // a lower bound on one record's encoding
constexpr size_t kSoaRefSize = 5;           // ... and on a format-3 SOA back-reference
constexpr size_t kGroupHeaderSize = 5;      // version, count
constexpr size_t kMinGroupChangeSize = 16;  // serials and record counts

// Writes `v` big-endian into the `bytes` bytes at `p`.
void StoreBE(char* p, uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<char>(v >> (8 * (bytes - 1 - i)));
}

void PutU32(std::string& out, uint32_t v) {
  char b[4];
  StoreBE(b, v, 4);
  out.append(b, 4);
}

size_t EncodedSize(const std::vector<dns::Record>& records) {
  size_t size = 0;
  for (const auto& r : records) size += 1 + r.name.wire().size() + 10 + r.rdata.size();
  return size;
}

// Replaces the serial of SOA RDATA (at least kSoaTail bytes).
void StoreSerial(std::string& rdata, uint32_t serial) { StoreBE(&rdata[rdata.size() - kSoaTail], serial, 4); }

uint32_t LoadSerial(std::string_view rdata) {
  uint32_t v = 0;
  for (char c : rdata.substr(rdata.size() - kSoaTail, 4)) v = v << 8 | static_cast<uint8_t>(c);
  return v;
}

void PutRecord(std::string& out, const dns::Record& r) {
  std::string_view owner = r.name.wire();
  out.push_back(static_cast<char>(owner.size()));
  out.append(owner);
  char fixed[10];  // type, class, TTL, RDATA length
  StoreBE(fixed, r.type, 2);
  StoreBE(fixed + 2, r.cls, 2);
  StoreBE(fixed + 4, r.ttl, 4);
  StoreBE(fixed + 8, static_cast<uint32_t>(r.rdata.size()), 2);
  out.append(fixed, sizeof fixed);
  out.append(r.rdata);
}

void PutRecords(std::string& out, const std::vector<dns::Record>& records) {
  for (const auto& r : records) PutRecord(out, r);
}

// A bounds-checked cursor over the blob; any overrun makes ok() false.
class Cursor {
 public:
  explicit Cursor(std::string_view data) : data_(data) {}
  bool ok() const { return ok_; }
  bool done() const { return pos_ == data_.size(); }
  std::string_view Take(size_t n) {
    if (!ok_ || data_.size() - pos_ < n) {
      ok_ = false;
      return {};
    }
    std::string_view v = data_.substr(pos_, n);
    pos_ += n;
    return v;
  }
  uint32_t Uint(size_t bytes) {
    uint32_t v = 0;
    for (char c : Take(bytes)) v = v << 8 | static_cast<uint8_t>(c);
    return v;
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

Status Corrupt(std::string_view what) {
  return Status(Code::kIo, "corrupt change in the state database journal: " + std::string(what));
}

// The SOA a format-3 back-reference copies: the group's last SOA record before it.
using LastSoa = std::optional<dns::Record>;

Status ReadRecords(Cursor& in, uint32_t count, std::vector<dns::Record>& out, LastSoa* last_soa) {
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t owner_size = in.Uint(1);
    if (owner_size == kSoaRef && last_soa != nullptr) {
      uint32_t serial = in.Uint(4);
      if (!in.ok()) return Corrupt("truncated SOA reference");
      if (!*last_soa) return Corrupt("SOA reference without an SOA before it");
      dns::Record r = **last_soa;
      StoreSerial(r.rdata, serial);
      out.push_back(std::move(r));
      continue;
    }
    std::string_view owner = in.Take(owner_size);
    dns::Record r;
    r.type = static_cast<uint16_t>(in.Uint(2));
    r.cls = static_cast<uint16_t>(in.Uint(2));
    r.ttl = in.Uint(4);
    r.rdata = std::string(in.Take(in.Uint(2)));
    if (!in.ok()) return Corrupt("truncated record");
    auto name = dns::Name::FromWire(owner);
    if (!name.ok()) return Corrupt("bad owner name: " + name.status().message());
    r.name = std::move(*name);
    // The writer refers only to SOAs long enough to hold a serial; shorter ones are written
    // (and read) in full and never referred to.
    if (last_soa != nullptr && r.type == dns::type::kSOA && r.rdata.size() >= kSoaTail) *last_soa = r;
    out.push_back(std::move(r));
  }
  return Status::Ok();
}

}  // namespace

std::string EncodeChange(const std::vector<dns::Record>& removed, const std::vector<dns::Record>& added) {
  std::string out;
  out.reserve(9 + EncodedSize(removed) + EncodedSize(added));
  out.push_back(static_cast<char>(kFormatVersion));
  PutU32(out, static_cast<uint32_t>(removed.size()));
  PutU32(out, static_cast<uint32_t>(added.size()));
  PutRecords(out, removed);
  PutRecords(out, added);
  return out;
}

std::string ChangeAsGroup(uint32_t old_serial, uint32_t new_serial, std::string_view change) {
  std::string out;
  out.reserve(kGroupHeaderSize + 8 + change.size());
  out.push_back(static_cast<char>(kGroupFormatVersion));
  PutU32(out, 1);
  PutU32(out, old_serial);
  PutU32(out, new_serial);
  if (!change.empty()) out.append(change.substr(1));
  return out;
}

ChangeGroupWriter::ChangeGroupWriter() {
  out_.push_back(static_cast<char>(kGroupWithSoaRefsVersion));
  PutU32(out_, 0);  // the count, kept current by Add
}

bool ChangeGroupWriter::SameSoaButSerial(const dns::Record& r) const {
  if (!last_soa_ || r.type != dns::type::kSOA || r.rdata.size() < kSoaTail) return false;
  const dns::Record& last = *last_soa_;
  const size_t at = r.rdata.size() - kSoaTail;
  std::string_view a = r.rdata, b = last.rdata;
  return r.cls == last.cls && r.ttl == last.ttl && a.size() == b.size() && r.name.wire() == last.name.wire() &&
         a.substr(0, at) == b.substr(0, at) && a.substr(at + 4) == b.substr(at + 4);
}

void ChangeGroupWriter::PutRecords(const std::vector<dns::Record>& records) {
  for (const auto& r : records) {
    if (SameSoaButSerial(r)) {
      // A group's changes each remove and add the zone's SOA, which differ in their serials
      // only: 5 bytes instead of the whole record.
      out_.push_back(static_cast<char>(kSoaRef));
      PutU32(out_, LoadSerial(r.rdata));
      continue;
    }
    PutRecord(out_, r);
    if (r.type == dns::type::kSOA && r.rdata.size() >= kSoaTail) last_soa_ = r;
  }
}

void ChangeGroupWriter::Add(uint32_t old_serial, uint32_t new_serial, const std::vector<dns::Record>& removed,
                            const std::vector<dns::Record>& added) {
  size_t size = out_.size() + kMinGroupChangeSize + EncodedSize(removed) + EncodedSize(added);
  if (size > out_.capacity()) out_.reserve(std::max(size, 2 * out_.capacity()));
  PutU32(out_, old_serial);
  PutU32(out_, new_serial);
  PutU32(out_, static_cast<uint32_t>(removed.size()));
  PutU32(out_, static_cast<uint32_t>(added.size()));
  PutRecords(removed);
  PutRecords(added);
  StoreBE(&out_[1], ++count_, 4);
}

Status DecodeChanges(std::string_view blob, std::vector<JournalEntry>& out) {
  Cursor in(blob);
  const uint32_t version = in.Uint(1);
  if (version != kGroupFormatVersion && version != kGroupWithSoaRefsVersion) return Corrupt("unknown format version");
  LastSoa last_soa;
  LastSoa* soa_refs = version == kGroupWithSoaRefsVersion ? &last_soa : nullptr;
  uint32_t count = in.Uint(4);
  if (!in.ok()) return Corrupt("truncated header");
  if (uint64_t{count} * kMinGroupChangeSize > blob.size() - kGroupHeaderSize) return Corrupt("change count exceeds its size");
  out.reserve(out.size() + count);
  for (uint32_t i = 0; i < count; ++i) {
    JournalEntry e;
    e.old_serial = in.Uint(4);
    e.new_serial = in.Uint(4);
    uint32_t n_removed = in.Uint(4);
    uint32_t n_added = in.Uint(4);
    if (!in.ok()) return Corrupt("truncated change");
    if ((uint64_t{n_removed} + n_added) * (soa_refs ? kSoaRefSize : kMinRecordSize) > blob.size())
      return Corrupt("record count exceeds its size");
    e.removed.reserve(n_removed);
    e.added.reserve(n_added);
    RETURN_IF_ERROR(ReadRecords(in, n_removed, e.removed, soa_refs));
    RETURN_IF_ERROR(ReadRecords(in, n_added, e.added, soa_refs));
    out.push_back(std::move(e));
  }
  if (!in.done()) return Corrupt("trailing bytes");
  return Status::Ok();
}

}  // namespace berth::store
