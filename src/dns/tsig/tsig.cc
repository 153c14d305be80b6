#include "dns/tsig/tsig.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "dns/wire/reader.h"
#include "dns/wire/types.h"
#include "dns/wire/writer.h"

namespace berth::dns {

// An incremental HMAC (OpenSSL EVP_MAC). Errors are sticky: Final() returns "" after any
// failure, which never compares equal to a received MAC of the allowed sizes.
class Hmac {
 public:
  Hmac(TsigAlgorithm alg, std::string_view secret) : alg_(alg), secret_(secret) { Restart(); }
  ~Hmac();
  Hmac(const Hmac&) = delete;
  Hmac& operator=(const Hmac&) = delete;

  void Restart();
  void Update(const void* p, size_t n) {
    if (ok_ && n > 0) ok_ = EVP_MAC_update(ctx_, static_cast<const unsigned char*>(p), n) == 1;
  }
  void Update(std::string_view s) { Update(s.data(), s.size()); }
  void U16(uint16_t v) {
    uint8_t b[2] = {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
    Update(b, 2);
  }
  void U48(uint64_t v) {
    uint8_t b[6];
    for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(v >> (40 - 8 * i));
    Update(b, 6);
  }
  std::string Final();

 private:
  TsigAlgorithm alg_;
  std::string_view secret_;  // owned by the TsigKey, which outlives every Hmac
  EVP_MAC_CTX* ctx_ = nullptr;
  bool ok_ = false;
};

namespace {

constexpr uint16_t kMaxMessage = 65535;
constexpr uint64_t kMax48 = (uint64_t{1} << 48) - 1;

struct AlgInfo {
  TsigAlgorithm alg;
  std::string_view short_name;  // config spelling without the trailing dot
  std::string_view wire_text;   // RFC 8945 §6 name
  const char* digest;           // OpenSSL digest name
  size_t size;
};

constexpr std::array<AlgInfo, 6> kAlgs = {{
    {TsigAlgorithm::kHmacMd5, "hmac-md5", "hmac-md5.sig-alg.reg.int.", "MD5", 16},
    {TsigAlgorithm::kHmacSha1, "hmac-sha1", "hmac-sha1.", "SHA1", 20},
    {TsigAlgorithm::kHmacSha224, "hmac-sha224", "hmac-sha224.", "SHA224", 28},
    {TsigAlgorithm::kHmacSha256, "hmac-sha256", "hmac-sha256.", "SHA256", 32},
    {TsigAlgorithm::kHmacSha384, "hmac-sha384", "hmac-sha384.", "SHA384", 48},
    {TsigAlgorithm::kHmacSha512, "hmac-sha512", "hmac-sha512.", "SHA512", 64},
}};

const AlgInfo& Info(TsigAlgorithm alg) { return kAlgs[static_cast<size_t>(alg)]; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return LowerByte(x) == LowerByte(y); });
}

EVP_MAC* HmacMethod() {
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);  // thread-safe static init
  return mac;
}


// A received TSIG RR, pointing into the message.
struct ParsedTsig {
  TsigStatus status = TsigStatus::kUnsigned;  // kUnsigned, kFormErr, or kNoError = found
  size_t offset = 0;
  Name key_name;
  Name alg_name;
  uint64_t time_signed = 0;
  uint16_t fudge = 0;
  std::string_view mac;
  uint16_t original_id = 0;
  uint16_t error = 0;
  std::string_view other;
};

std::string_view View(const uint8_t* p, size_t n) { return {reinterpret_cast<const char*>(p), n}; }

// Reads a name that must not be compressed (RFC 8945 §4.2 via RFC 3597): the bytes consumed
// must equal the expanded length.
bool ReadUncompressedName(WireReader& r, Name* out) {
  uint8_t buf[kMaxNameWire];
  size_t start = r.pos();
  size_t n = r.ReadName(buf);
  if (!r.ok() || r.pos() - start != n) return false;
  auto name = Name::FromWire(View(buf, n));
  if (!name.ok()) return false;
  *out = std::move(*name);
  return true;
}

// Walks the whole message: every record must parse, nothing may trail, and a TSIG may only
// be the last additional record (RFC 8945 §5.2), with class ANY, TTL 0 and exact RDATA.
ParsedTsig FindTsig(const uint8_t* msg, size_t len) {
  ParsedTsig p;
  p.status = TsigStatus::kFormErr;
  if (msg == nullptr || len < kHeaderSize) return p;
  WireReader r(msg, len);
  r.Skip(4);
  uint16_t qd = r.U16();
  uint32_t records = uint32_t{r.U16()} + r.U16();
  uint16_t ar = r.U16();
  records += ar;
  for (uint16_t i = 0; i < qd && r.ok(); ++i) {
    r.SkipName();
    r.Skip(4);
  }
  bool found = false;
  for (uint32_t i = 0; i < records && r.ok(); ++i) {
    size_t start = r.pos();
    uint8_t owner[kMaxNameWire];
    size_t owner_len = r.ReadName(owner);
    auto [rrtype, rrclass, ttl, rdlen] = r.ReadRecordHeader();
    if (!r.ok() || r.remaining() < rdlen) return p;
    size_t rdata_end = r.pos() + rdlen;
    if (rrtype != type::kTSIG) {
      r.Skip(rdlen);
      continue;
    }
    if (i + 1 != records || ar == 0 || rrclass != cls::kANY || ttl != 0) return p;
    WireReader rd(msg, rdata_end, r.pos());
    auto key = Name::FromWire(View(owner, owner_len));
    if (!key.ok() || !ReadUncompressedName(rd, &p.alg_name)) return p;
    p.key_name = std::move(*key);
    uint64_t hi = rd.U16();
    p.time_signed = hi << 32 | rd.U32();
    p.fudge = rd.U16();
    uint16_t mac_size = rd.U16();
    const uint8_t* mac = rd.Bytes(mac_size);
    p.original_id = rd.U16();
    p.error = rd.U16();
    uint16_t other_len = rd.U16();
    const uint8_t* other = rd.Bytes(other_len);
    if (!rd.ok() || rd.pos() != rdata_end) return p;
    p.mac = View(mac, mac_size);
    p.other = View(other, other_len);
    p.offset = start;
    found = true;
    r.Skip(rdlen);
  }
  if (!r.ok() || r.pos() != len) return p;
  p.status = found ? TsigStatus::kNoError : TsigStatus::kUnsigned;
  return p;
}

// The message as it was before its TSIG was added: original ID, ARCOUNT one less.
void DigestMessage(Hmac& h, const uint8_t* msg, size_t tsig_offset, uint16_t original_id) {
  h.U16(original_id);
  h.Update(msg + 2, 8);
  h.U16(static_cast<uint16_t>(Get16(msg + 10) - 1));
  h.Update(msg + kHeaderSize, tsig_offset - kHeaderSize);
}

// The TSIG variables of RFC 8945 §4.3.3 (names in canonical, lower-cased form), or only the
// timers for the later messages of a stream (§5.3.1).
void DigestVariables(Hmac& h, const Name& key_name, const Name& alg_name, uint64_t time_signed,
                     uint16_t fudge, uint16_t error, std::string_view other, bool timers_only) {
  if (!timers_only) {
    h.Update(key_name.Lowercased().wire());
    h.U16(cls::kANY);
    h.U16(0);
    h.U16(0);  // TTL 0, 32 bits
    h.Update(alg_name.Lowercased().wire());
  }
  h.U48(time_signed);
  h.U16(fudge);
  if (!timers_only) {
    h.U16(error);
    h.U16(static_cast<uint16_t>(other.size()));
    h.Update(other);
  }
}

// A prior (request) MAC enters the digest with its length, as on the wire.
void DigestPriorMac(Hmac& h, std::string_view mac) {
  h.U16(static_cast<uint16_t>(mac.size()));
  h.Update(mac);
}

Status CheckSignable(const std::string& wire) {
  if (wire.size() < kHeaderSize) return InvalidArgument("TSIG: message shorter than a DNS header");
  if (Get16(reinterpret_cast<const uint8_t*>(wire.data()) + 10) == 0xFFFF)
    return InvalidArgument("TSIG: ARCOUNT already at its maximum");
  return Status::Ok();
}

// Appends the TSIG RR and bumps ARCOUNT.
Status AppendTsig(std::string& wire, const Name& key_name, const Name& alg_name, uint64_t time_signed,
                  std::string_view mac, uint16_t error, std::string_view other) {
  RETURN_IF_ERROR(CheckSignable(wire));
  std::string key = std::string(key_name.Lowercased().wire());
  std::string alg = std::string(alg_name.Lowercased().wire());
  size_t rdlen = alg.size() + 16 + mac.size() + other.size();
  size_t rr = key.size() + 10 + rdlen;
  if (wire.size() + rr > kMaxMessage) return InvalidArgument("TSIG: signed message would exceed 65535 bytes");
  size_t old = wire.size();
  auto* buf = reinterpret_cast<uint8_t*>(wire.data());
  uint16_t id = Get16(buf);
  wire.resize(old + rr);
  buf = reinterpret_cast<uint8_t*>(wire.data());
  WireWriter w(buf + old, rr);
  w.Bytes(key);
  w.U16(type::kTSIG);
  w.U16(cls::kANY);
  w.U32(0);
  w.U16(static_cast<uint16_t>(rdlen));
  w.Bytes(alg);
  w.U16(static_cast<uint16_t>(time_signed >> 32));
  w.U32(static_cast<uint32_t>(time_signed));
  w.U16(kTsigDefaultFudge);
  w.U16(static_cast<uint16_t>(mac.size()));
  w.Bytes(mac);
  w.U16(id);
  w.U16(error);
  w.U16(static_cast<uint16_t>(other.size()));
  w.Bytes(other);
  if (w.overflow() || w.size() != rr) return Internal("TSIG: record size mismatch");
  uint16_t ar = static_cast<uint16_t>(Get16(buf + 10) + 1);
  buf[10] = static_cast<uint8_t>(ar >> 8);
  buf[11] = static_cast<uint8_t>(ar);
  return Status::Ok();
}

// Digests `wire` (not yet signed) and its variables into `h`, then appends the TSIG.
Status FinishAndAppend(Hmac& h, std::string& wire, const TsigKey& key, uint64_t time_signed, uint16_t error,
                       std::string_view other, bool timers_only, std::string* mac_out) {
  RETURN_IF_ERROR(CheckSignable(wire));
  if (time_signed > kMax48) return InvalidArgument("TSIG: time does not fit in 48 bits");
  const Name& alg = TsigAlgorithmName(key.algorithm);
  h.Update(wire);
  DigestVariables(h, key.name, alg, time_signed, kTsigDefaultFudge, error, other, timers_only);
  std::string mac = h.Final();
  if (mac.empty()) return Internal("TSIG: HMAC computation failed");
  RETURN_IF_ERROR(AppendTsig(wire, key.name, alg, time_signed, mac, error, other));
  if (mac_out) *mac_out = std::move(mac);
  return Status::Ok();
}

TsigStatus StatusFromError(uint16_t error) {
  switch (error) {
    case rcode::kBadSig: return TsigStatus::kBadSig;
    case rcode::kBadKey: return TsigStatus::kBadKey;
    case rcode::kBadTime: return TsigStatus::kBadTime;
    case kTsigBadTrunc: return TsigStatus::kBadTrunc;
    default: return TsigStatus::kFormErr;
  }
}

void CopyParsed(const ParsedTsig& p, TsigVerifyResult& out) {
  out.status = p.status;
  out.tsig_offset = p.offset;
  out.key_name = p.key_name;
  out.algorithm_name = p.alg_name;
  out.mac = std::string(p.mac);
  out.time_signed = p.time_signed;
  out.fudge = p.fudge;
  out.original_id = p.original_id;
  out.error = p.error;
}

// How the MAC of a signed message is checked against `key`.
struct CheckMode {
  bool response = false;     // an unsigned error answer or a TSIG error field is reported
  bool timers_only = false;  // later messages of a stream
  size_t min_mac_size = 0;
};

// RFC 8945 §5.2 steps 1-4 for one signed message. `h` already holds what precedes the
// message in the digest (prior MAC, earlier unsigned messages of a stream).
TsigStatus CheckSigned(const uint8_t* msg, const ParsedTsig& p, const TsigKey& key, Hmac& h, uint64_t now,
                       const CheckMode& mode) {
  if (!(p.key_name == key.name) || !(p.alg_name == TsigAlgorithmName(key.algorithm))) return TsigStatus::kBadKey;
  size_t digest = TsigDigestSize(key.algorithm);
  size_t got = p.mac.size();
  if (got > digest) return TsigStatus::kFormErr;
  if (got == 0 && mode.response && p.error != 0) return StatusFromError(p.error);
  if (got < std::max<size_t>(10, digest / 2)) return TsigStatus::kFormErr;
  DigestMessage(h, msg, p.offset, p.original_id);
  DigestVariables(h, p.key_name, p.alg_name, p.time_signed, p.fudge, p.error, p.other, mode.timers_only);
  std::string mine = h.Final();
  if (mine.size() != digest || CRYPTO_memcmp(mine.data(), p.mac.data(), got) != 0) return TsigStatus::kBadSig;
  uint64_t skew = now > p.time_signed ? now - p.time_signed : p.time_signed - now;
  if (skew > p.fudge) return TsigStatus::kBadTime;
  if (got < std::min(mode.min_mac_size, digest)) return TsigStatus::kBadTrunc;
  if (mode.response && p.error != 0) return StatusFromError(p.error);
  return TsigStatus::kNoError;
}

}  // namespace

namespace {

// Keyed HMAC contexts ready to use, per thread, by algorithm and secret. Setting up a context
// (digest lookup by name, key schedule) costs more than MACing a DNS message, and duplicating
// one costs twice the MAC; re-initializing a used context with its own key does not. So each
// key has a template and a few used contexts waiting to be handed out again. Bounded: cleared
// when it grows past kMaxKeys keys.
class HmacPool {
 public:
  ~HmacPool() { Clear(); }
  // A context keyed with `secret`, ready for a new MAC (nullptr when OpenSSL fails).
  EVP_MAC_CTX* Take(TsigAlgorithm alg, std::string_view secret) {
    Entry* e = Find(alg, secret);
    if (e == nullptr) return nullptr;
    if (!e->idle.empty()) {
      EVP_MAC_CTX* ctx = e->idle.back();
      e->idle.pop_back();
      // A null key restarts the MAC with the key it already holds.
      if (EVP_MAC_init(ctx, nullptr, 0, nullptr) == 1) return ctx;
      EVP_MAC_CTX_free(ctx);
    }
    return EVP_MAC_CTX_dup(e->ready);
  }
  // Takes back a context from Take() (possibly from another thread's pool).
  void Give(TsigAlgorithm alg, std::string_view secret, EVP_MAC_CTX* ctx) {
    auto it = keys_.find(KeyOf(alg, secret));
    if (it == keys_.end() || it->second.idle.size() >= kMaxIdle) {
      EVP_MAC_CTX_free(ctx);
      return;
    }
    it->second.idle.push_back(ctx);
  }

 private:
  static constexpr size_t kMaxKeys = 64;
  static constexpr size_t kMaxIdle = 8;
  struct Entry {
    EVP_MAC_CTX* ready = nullptr;
    std::vector<EVP_MAC_CTX*> idle;
  };
  static std::string KeyOf(TsigAlgorithm alg, std::string_view secret) {
    std::string key(1, static_cast<char>(alg));
    key.append(secret);
    return key;
  }
  Entry* Find(TsigAlgorithm alg, std::string_view secret) {
    std::string key = KeyOf(alg, secret);
    auto it = keys_.find(key);
    if (it != keys_.end()) return &it->second;
    EVP_MAC* method = HmacMethod();
    EVP_MAC_CTX* ctx = method ? EVP_MAC_CTX_new(method) : nullptr;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(Info(alg).digest), 0),
        OSSL_PARAM_construct_end(),
    };
    // A non-null key pointer even for an empty secret: EVP_MAC_init treats null as "keep the
    // old key". TsigKey::Make refuses empty secrets anyway.
    static const unsigned char kEmpty = 0;
    const auto* k = secret.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(secret.data());
    if (!ctx || EVP_MAC_init(ctx, k, secret.size(), params) != 1) {
      EVP_MAC_CTX_free(ctx);
      return nullptr;
    }
    if (keys_.size() >= kMaxKeys) Clear();
    return &keys_.emplace(std::move(key), Entry{ctx, {}}).first->second;
  }
  void Clear() {
    for (auto& [k, e] : keys_) {
      EVP_MAC_CTX_free(e.ready);
      for (EVP_MAC_CTX* c : e.idle) EVP_MAC_CTX_free(c);
    }
    keys_.clear();
  }
  std::unordered_map<std::string, Entry> keys_;
};

thread_local HmacPool hmac_pool;

}  // namespace

Hmac::~Hmac() {
  if (ctx_ != nullptr) hmac_pool.Give(alg_, secret_, ctx_);
}

void Hmac::Restart() {
  // A context that already holds this key restarts in place; only a failed one is replaced.
  if (ctx_ != nullptr && EVP_MAC_init(ctx_, nullptr, 0, nullptr) == 1) {
    ok_ = true;
    return;
  }
  EVP_MAC_CTX_free(ctx_);
  ctx_ = hmac_pool.Take(alg_, secret_);
  ok_ = ctx_ != nullptr;
}

std::string Hmac::Final() {
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t n = 0;
  if (!ok_ || EVP_MAC_final(ctx_, out, &n, sizeof out) != 1) {
    ok_ = false;
    return {};
  }
  ok_ = false;  // finalized: Restart() before reuse
  return std::string(reinterpret_cast<char*>(out), n);
}

std::optional<TsigAlgorithm> TsigAlgorithmFromText(std::string_view text) {
  std::string_view bare = text;
  if (!bare.empty() && bare.back() == '.') bare.remove_suffix(1);
  for (const AlgInfo& a : kAlgs) {
    std::string_view wire_bare = a.wire_text.substr(0, a.wire_text.size() - 1);
    if (EqualsIgnoreCase(bare, a.short_name) || EqualsIgnoreCase(bare, wire_bare)) return a.alg;
  }
  return std::nullopt;
}

const Name& TsigAlgorithmName(TsigAlgorithm alg) {
  static const std::array<Name, kAlgs.size()> names = [] {
    std::array<Name, kAlgs.size()> out;
    for (size_t i = 0; i < kAlgs.size(); ++i) out[i] = *Name::FromText(kAlgs[i].wire_text);
    return out;
  }();
  return names[static_cast<size_t>(alg)];
}

size_t TsigDigestSize(TsigAlgorithm alg) { return Info(alg).size; }

Result<std::string> DecodeBase64Strict(std::string_view text) {
  // EVP_DecodeBlock skips whitespace and decodes padding as zero bytes, so the shape is
  // checked here first and the padding bytes are cut afterwards.
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (text.empty() || text.size() % 4 != 0 || text.size() > 4096)
    return InvalidArgument("base64: length is not a multiple of 4 in 4..4096");
  size_t pad = 0;
  while (pad < 2 && text[text.size() - 1 - pad] == '=') ++pad;
  for (size_t i = 0; i < text.size() - pad; ++i) {
    if (kAlphabet.find(text[i]) == std::string_view::npos)
      return InvalidArgument("base64: bad character at offset " + std::to_string(i));
  }
  std::string out(text.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0 || static_cast<size_t>(n) != out.size()) return InvalidArgument("base64: does not decode");
  out.resize(out.size() - pad);
  return out;
}

Result<TsigKey> TsigKey::Make(std::string_view name_text, std::string_view algorithm_text,
                              std::string_view base64_secret) {
  TsigKey key;
  if (name_text.empty()) return InvalidArgument("TSIG key name is empty");
  std::string absolute(name_text);
  if (absolute.back() != '.') absolute.push_back('.');
  auto name = Name::FromText(absolute);
  if (!name.ok()) return name.status().WithContext("TSIG key name");
  if (name->IsRoot()) return InvalidArgument("TSIG key name must not be the root name");
  key.name = std::move(*name);
  auto alg = TsigAlgorithmFromText(algorithm_text);
  if (!alg) return InvalidArgument("TSIG key " + key.name.ToText() + ": unknown algorithm '" +
                                   std::string(algorithm_text) + "'");
  key.algorithm = *alg;
  auto secret = DecodeBase64Strict(base64_secret);
  if (!secret.ok()) return secret.status().WithContext("TSIG key " + key.name.ToText() + " secret");
  if (secret->empty()) return InvalidArgument("TSIG key " + key.name.ToText() + ": empty secret");
  key.secret = std::move(*secret);
  return key;
}

Result<TsigKeyring> TsigKeyring::Make(std::vector<TsigKey> keys) {
  TsigKeyring ring;
  for (TsigKey& k : keys) {
    Name name = k.name;
    if (ring.keys_.count(name)) return AlreadyExists("TSIG key " + name.ToText() + " defined twice");
    ring.keys_.emplace(std::move(name), std::move(k));
  }
  return ring;
}

const TsigKey* TsigKeyring::Find(const Name& name) const {
  auto it = keys_.find(name);
  return it == keys_.end() ? nullptr : &it->second;
}

uint16_t TsigErrorCode(TsigStatus status) {
  switch (status) {
    case TsigStatus::kBadSig: return rcode::kBadSig;
    case TsigStatus::kBadKey: return rcode::kBadKey;
    case TsigStatus::kBadTime: return rcode::kBadTime;
    case TsigStatus::kBadTrunc: return kTsigBadTrunc;
    default: return 0;
  }
}

std::string_view TsigStatusName(TsigStatus status) {
  switch (status) {
    case TsigStatus::kUnsigned: return "UNSIGNED";
    case TsigStatus::kNoError: return "NOERROR";
    case TsigStatus::kFormErr: return "FORMERR";
    case TsigStatus::kBadSig: return "BADSIG";
    case TsigStatus::kBadKey: return "BADKEY";
    case TsigStatus::kBadTime: return "BADTIME";
    case TsigStatus::kBadTrunc: return "BADTRUNC";
  }
  return "?";
}

TsigVerifyResult VerifyRequest(const uint8_t* msg, size_t len, const TsigKeyring& keyring, uint64_t now_seconds,
                               const TsigVerifyOptions& options) {
  TsigVerifyResult out;
  ParsedTsig p = FindTsig(msg, len);
  CopyParsed(p, out);
  if (p.status != TsigStatus::kNoError) return out;
  out.key = keyring.Find(p.key_name);
  if (!out.key) {
    out.status = TsigStatus::kBadKey;
    return out;
  }
  Hmac h(out.key->algorithm, out.key->secret);
  out.status = CheckSigned(msg, p, *out.key, h, now_seconds, {false, false, options.min_mac_size});
  if (out.status == TsigStatus::kBadKey) out.key = nullptr;
  return out;
}

Status SignRequest(std::string& wire, const TsigKey& key, uint64_t now) {
  Hmac h(key.algorithm, key.secret);
  return FinishAndAppend(h, wire, key, now, 0, {}, false, nullptr);
}

Status SignResponse(std::string& wire, const TsigKey& key, std::string_view request_mac, uint64_t now,
                    uint16_t error, uint64_t other_time) {
  Hmac h(key.algorithm, key.secret);
  DigestPriorMac(h, request_mac);
  std::string other;
  if (error == rcode::kBadTime) {
    for (int shift = 40; shift >= 0; shift -= 8) other.push_back(static_cast<char>(other_time >> shift));
  }
  return FinishAndAppend(h, wire, key, now, error, other, false, nullptr);
}

Status AppendUnsignedTsigError(std::string& wire, const TsigVerifyResult& request, uint64_t now, uint16_t error) {
  if (now > kMax48) return InvalidArgument("TSIG: time does not fit in 48 bits");
  return AppendTsig(wire, request.key_name, request.algorithm_name, now, {}, error, {});
}

TsigVerifyResult VerifyResponse(const uint8_t* msg, size_t len, const TsigKey& key, std::string_view request_mac,
                                uint64_t now_seconds) {
  TsigStreamVerifier verifier(key, std::string(request_mac));
  return verifier.Next(msg, len, now_seconds);
}

TsigStreamBase::TsigStreamBase(const TsigKey& key, std::string request_mac)
    : key_(key), prior_mac_(std::move(request_mac)), hmac_(std::make_unique<Hmac>(key.algorithm, key.secret)) {
  DigestPriorMac(*hmac_, prior_mac_);
}

TsigStreamBase::~TsigStreamBase() = default;

void TsigStreamBase::Chain(std::string mac) {
  prior_mac_ = std::move(mac);
  first_ = false;
  unsigned_run_ = 0;
  hmac_->Restart();
  DigestPriorMac(*hmac_, prior_mac_);
}

Status TsigStreamSigner::Add(std::string& wire, uint64_t now, bool sign) {
  RETURN_IF_ERROR(CheckSignable(wire));
  if (!first_ && !sign && unsigned_run_ < 99) {
    hmac_->Update(wire);
    ++unsigned_run_;
    return Status::Ok();
  }
  std::string mac;
  RETURN_IF_ERROR(FinishAndAppend(*hmac_, wire, key_, now, 0, {}, !first_, &mac));
  Chain(std::move(mac));
  return Status::Ok();
}

TsigVerifyResult TsigStreamVerifier::Next(const uint8_t* msg, size_t len, uint64_t now_seconds) {
  TsigVerifyResult out;
  if (failed_) {
    out.status = TsigStatus::kFormErr;
    return out;
  }
  ParsedTsig p = FindTsig(msg, len);
  CopyParsed(p, out);
  if (p.status == TsigStatus::kUnsigned) {
    if (first_ || unsigned_run_ >= 99) {
      failed_ = true;
      out.status = TsigStatus::kFormErr;
      return out;
    }
    hmac_->Update(msg, len);
    ++unsigned_run_;
    return out;
  }
  if (p.status == TsigStatus::kNoError) {
    out.status = CheckSigned(msg, p, key_, *hmac_, now_seconds, {true, !first_, 0});
  }
  if (out.status != TsigStatus::kNoError) {
    failed_ = true;
    return out;
  }
  out.key = &key_;
  Chain(out.mac);
  return out;
}

}  // namespace berth::dns
