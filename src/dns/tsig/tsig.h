// TSIG (RFC 8945) transaction signatures: keys and keyrings, verification of signed requests,
// signing of requests and responses, and multi-message (AXFR/IXFR) stream signing/verifying.
// TsigKey and TsigKeyring are immutable once built (safe to share across threads); the free
// functions are pure; TsigStreamSigner/TsigStreamVerifier hold one stream's state (one thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "dns/wire/name.h"

namespace berth::dns {

// RFC 8945 §6 algorithms. The MD5 one keeps its historical name "hmac-md5.sig-alg.reg.int.".
enum class TsigAlgorithm : uint8_t { kHmacMd5, kHmacSha1, kHmacSha224, kHmacSha256, kHmacSha384, kHmacSha512 };

// TSIG error codes that are not header rcodes (types.h has BADSIG/BADKEY/BADTIME).
inline constexpr uint16_t kTsigBadTrunc = 22;
// The fudge we put in what we sign: RFC 8945 §10 recommends 300 seconds.
inline constexpr uint16_t kTsigDefaultFudge = 300;

// "hmac-sha256", "hmac-sha256.", "HMAC-SHA256", "hmac-md5", "hmac-md5.sig-alg.reg.int.";
// nullopt for anything else.
std::optional<TsigAlgorithm> TsigAlgorithmFromText(std::string_view text);
// The RFC 8945 wire name of `alg`, lower case (canonical form, as MACs use it).
const Name& TsigAlgorithmName(TsigAlgorithm alg);
// Output length of the keyed hash in bytes (16 for MD5 ... 64 for SHA-512).
size_t TsigDigestSize(TsigAlgorithm alg);

struct TsigKey {
  Name name;  // as configured; matched case-insensitively, MACs use it lower-cased
  TsigAlgorithm algorithm = TsigAlgorithm::kHmacSha256;
  std::string secret;  // raw bytes (decoded from base64)

  // Builds a key from config text. kInvalidArgument: empty, root or bad name, unknown algorithm, secret
  // that is not strict base64 (standard alphabet, '=' padding, no whitespace) or empty.
  static Result<TsigKey> Make(std::string_view name_text, std::string_view algorithm_text,
                              std::string_view base64_secret);
  bool operator==(const TsigKey&) const = default;
};

// Strict base64 decoding (RFC 4648 §4 alphabet, padded); kInvalidArgument on anything else.
Result<std::string> DecodeBase64Strict(std::string_view text);

// Keys by name, case-insensitive. Built once, then only read: safe for concurrent readers.
class TsigKeyring {
 public:
  TsigKeyring() = default;
  // kAlreadyExists when two keys share a name (case-insensitively).
  static Result<TsigKeyring> Make(std::vector<TsigKey> keys);
  // The key called `name`, or nullptr.
  const TsigKey* Find(const Name& name) const;
  size_t size() const { return keys_.size(); }

 private:
  std::unordered_map<Name, TsigKey, NameHash> keys_;
};

// Outcome of checking a message's TSIG. kFormErr answers with header rcode FORMERR; kBadSig,
// kBadKey, kBadTime and kBadTrunc answer NOTAUTH with that TSIG error (RFC 8945 §5.2).
enum class TsigStatus : uint8_t { kUnsigned, kNoError, kFormErr, kBadSig, kBadKey, kBadTime, kBadTrunc };

// The TSIG ERROR field value for a status (0 for kNoError/kUnsigned/kFormErr).
uint16_t TsigErrorCode(TsigStatus status);
// "NOERROR", "BADSIG", ... for logs and tests.
std::string_view TsigStatusName(TsigStatus status);

struct TsigVerifyResult {
  TsigStatus status = TsigStatus::kUnsigned;
  const TsigKey* key = nullptr;  // into the keyring, which must outlive it; null on BADKEY/FORMERR
  Name key_name;                 // as received: echoed in unsigned BADKEY/BADSIG answers
  Name algorithm_name;           // as received
  std::string mac;               // the message's MAC (the request MAC a response must cover)
  uint64_t time_signed = 0;
  uint16_t fudge = 0;
  uint16_t original_id = 0;
  uint16_t error = 0;            // the TSIG ERROR field as received (responses carry one)
  size_t tsig_offset = 0;        // where the TSIG RR starts: the message without it ends here
};

// Local policy for verification. min_mac_size 0 accepts every truncation RFC 8945 §5.2.2.1
// permits; a larger value answers shorter MACs with BADTRUNC (§5.2.4).
struct TsigVerifyOptions {
  size_t min_mac_size = 0;
};

// Checks the TSIG of a received request (query, UPDATE, NOTIFY) in the RFC 8945 §5.2 order:
// format (FORMERR: TSIG not the last additional record, more than one, bad class/TTL/RDATA,
// MAC longer than the hash or shorter than max(10, hash/2), any malformed byte), key
// (BADKEY), MAC (BADSIG, compared in constant time), time +-fudge (BADTIME), local
// truncation policy (BADTRUNC). No TSIG at all gives kUnsigned.
TsigVerifyResult VerifyRequest(const uint8_t* msg, size_t len, const TsigKeyring& keyring,
                               uint64_t now_seconds, const TsigVerifyOptions& options = {});

// Appends a TSIG signed with `key` to the complete request in `wire` and bumps ARCOUNT;
// kInvalidArgument when `wire` is shorter than a header or would exceed 65535 bytes.
Status SignRequest(std::string& wire, const TsigKey& key, uint64_t now);

// Appends a TSIG to the complete response in `wire` (ARCOUNT bumped). The MAC covers the
// request MAC first (RFC 8945 §5.3). For BADTIME pass now = the request's time signed and
// other_time = our clock, which goes into Other Data (§5.2.3, as BIND and Knot do).
// Same errors as SignRequest.
Status SignResponse(std::string& wire, const TsigKey& key, std::string_view request_mac, uint64_t now,
                    uint16_t error = 0, uint64_t other_time = 0);

// Appends the unsigned TSIG (MAC size 0) that BADKEY/BADSIG/BADTRUNC answers carry
// (§5.3.2: such answers must not be signed), echoing the request's key and algorithm names.
// The caller sets the header rcode to NOTAUTH. Same errors as SignRequest.
Status AppendUnsignedTsigError(std::string& wire, const TsigVerifyResult& request, uint64_t now,
                               uint16_t error);

// Checks the TSIG of a single response to a request we signed with `key` (request_mac is the
// MAC we sent); only kNoError means authentic. A response without TSIG gives kFormErr; an
// unsigned error answer (MAC size 0 with a TSIG error) reports that error unverified; a
// verified answer whose TSIG error is set reports it too (e.g. BADTIME).
TsigVerifyResult VerifyResponse(const uint8_t* msg, size_t len, const TsigKey& key,
                                std::string_view request_mac, uint64_t now_seconds);

class Hmac;

// The chaining state both ends of a multi-message stream keep (RFC 8945 §5.3.1): the prior
// MAC, the open digest of the messages since it, and how many of those went unsigned.
// `key` must outlive the stream (it is referenced, not copied).
class TsigStreamBase {
 protected:
  TsigStreamBase(const TsigKey& key, std::string request_mac);
  ~TsigStreamBase();
  TsigStreamBase(const TsigStreamBase&) = delete;
  TsigStreamBase& operator=(const TsigStreamBase&) = delete;
  // After a signed message: its MAC opens the digest of the next ones.
  void Chain(std::string mac);

  const TsigKey& key_;
  std::string prior_mac_;
  bool first_ = true;
  size_t unsigned_run_ = 0;
  std::unique_ptr<Hmac> hmac_;
};

// Signs the messages of one multi-message response (AXFR/IXFR over TCP, RFC 8945 §5.3.1):
// the first MAC covers the request MAC, each later MAC covers the prior MAC, every message
// since then, and the timers only. Messages may go unsigned but never more than 99 in a row.
class TsigStreamSigner : private TsigStreamBase {
 public:
  TsigStreamSigner(const TsigKey& key, std::string request_mac) : TsigStreamBase(key, std::move(request_mac)) {}

  // Adds the next complete message. It gets a TSIG (appended, ARCOUNT bumped) when `sign` is
  // set, when it is the first message, or when 99 unsigned ones precede it; the caller must
  // sign the last message. Errors: as SignRequest, kInternal when OpenSSL fails.
  Status Add(std::string& wire, uint64_t now, bool sign);
};

// The client side of a multi-message response: verifies each message in order with the same
// chaining, allows up to 99 unsigned messages between signed ones, and requires the first
// one to be signed.
class TsigStreamVerifier : private TsigStreamBase {
 public:
  TsigStreamVerifier(const TsigKey& key, std::string request_mac) : TsigStreamBase(key, std::move(request_mac)) {}

  // Verifies the next message: kNoError when signed and valid, kUnsigned when an unsigned one
  // is allowed here, else the failure (kFormErr for an unsigned first message or a run of 100,
  // kBadKey, kBadSig, kBadTime...). After a failure every later call fails too.
  TsigVerifyResult Next(const uint8_t* msg, size_t len, uint64_t now_seconds);
  // True when the last message seen was signed and valid: a transfer may end only here.
  bool AtSignedBoundary() const { return !failed_ && !first_ && unsigned_run_ == 0; }

 private:
  bool failed_ = false;
};

}  // namespace berth::dns
