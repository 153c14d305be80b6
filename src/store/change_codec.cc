#include "store/change_codec.h"

#include <cstdint>

namespace berth::store {
namespace {

constexpr uint8_t kFormatVersion = 1;

void PutU16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

void PutU32(std::string& out, uint32_t v) {
  PutU16(out, static_cast<uint16_t>(v >> 16));
  PutU16(out, static_cast<uint16_t>(v));
}

void PutRecords(std::string& out, const std::vector<dns::Record>& records) {
  for (const auto& r : records) {
    std::string_view owner = r.name.wire();
    out.push_back(static_cast<char>(owner.size()));
    out.append(owner);
    PutU16(out, r.type);
    PutU16(out, r.cls);
    PutU32(out, r.ttl);
    PutU16(out, static_cast<uint16_t>(r.rdata.size()));
    out.append(r.rdata);
  }
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

Status ReadRecords(Cursor& in, uint32_t count, std::vector<dns::Record>& out) {
  for (uint32_t i = 0; i < count; ++i) {
    std::string_view owner = in.Take(in.Uint(1));
    dns::Record r;
    r.type = static_cast<uint16_t>(in.Uint(2));
    r.cls = static_cast<uint16_t>(in.Uint(2));
    r.ttl = in.Uint(4);
    r.rdata = std::string(in.Take(in.Uint(2)));
    if (!in.ok()) return Corrupt("truncated record");
    auto name = dns::Name::FromWire(owner);
    if (!name.ok()) return Corrupt("bad owner name: " + name.status().message());
    r.name = std::move(*name);
    out.push_back(std::move(r));
  }
  return Status::Ok();
}

}  // namespace

std::string EncodeChange(const std::vector<dns::Record>& removed, const std::vector<dns::Record>& added) {
  std::string out;
  size_t size = 9;
  for (const auto* list : {&removed, &added})
    for (const auto& r : *list) size += 1 + r.name.wire().size() + 10 + r.rdata.size();
  out.reserve(size);
  out.push_back(static_cast<char>(kFormatVersion));
  PutU32(out, static_cast<uint32_t>(removed.size()));
  PutU32(out, static_cast<uint32_t>(added.size()));
  PutRecords(out, removed);
  PutRecords(out, added);
  return out;
}

Status DecodeChange(std::string_view blob, std::vector<dns::Record>& removed, std::vector<dns::Record>& added) {
  Cursor in(blob);
  if (in.Uint(1) != kFormatVersion) return Corrupt("unknown format version");
  uint32_t n_removed = in.Uint(4);
  uint32_t n_added = in.Uint(4);
  if (!in.ok()) return Corrupt("truncated header");
  // Each record takes at least 11 bytes: refuse counts the blob cannot hold before reserving.
  if ((uint64_t{n_removed} + n_added) * 11 > blob.size()) return Corrupt("record count exceeds its size");
  removed.reserve(removed.size() + n_removed);
  added.reserve(added.size() + n_added);
  RETURN_IF_ERROR(ReadRecords(in, n_removed, removed));
  RETURN_IF_ERROR(ReadRecords(in, n_added, added));
  if (!in.done()) return Corrupt("trailing bytes");
  return Status::Ok();
}

}  // namespace berth::store
