// Outgoing zone transfers: the response stream to an AXFR (RFC 5936) or IXFR (RFC 1995) request,
// built from an immutable Zone snapshot and its change history, TSIG-signed message by message
// (RFC 8945 §5.3.1) when the request was signed. Pure functions: safe on any thread; the caller
// decides who may transfer (acl.h) and verifies the request's TSIG before calling.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "dns/query/query.h"
#include "dns/tsig/tsig.h"
#include "dns/wire/message.h"
#include "dns/zone/zone.h"

namespace berth::dns::transfer {

// One change of a zone, oldest first in a history: `removed` then `added` moves the zone from
// `from_serial` to `to_serial`. The old and new SOA may be among the records (the store
// journals them); when absent they are derived from the current SOA with the diff's serials.
struct ZoneDiff {
  uint32_t from_serial = 0;
  uint32_t to_serial = 0;
  std::vector<Record> removed;
  std::vector<Record> added;
};

// Bytes per TCP transfer message we pack to: big enough to amortise headers, small enough
// that a stream of them starts quickly (Knot and BIND use similar sizes).
inline constexpr size_t kDefaultTransferMessageSize = 16384;

struct TransferSigning {
  const TsigKey* key = nullptr;  // the key the request verified with; must outlive the call
  std::string request_mac;       // the request's MAC (TsigVerifyResult::mac)
  uint64_t now = 0;              // Unix seconds for Time Signed
};

struct TransferRequest {
  // The request as received. Only the header, question and authority section are read, so
  // a trailing TSIG may be left in or stripped.
  std::string_view message;
  ParsedQuery query;  // from ParseQuery(message)
  bool tcp = false;
  // TCP: the size each message is packed to (clamped to 512..65535). UDP: the client's limit
  // (dns::ResponseLimit), which an IXFR answer must fit or shrink to the current SOA.
  size_t max_size = kDefaultTransferMessageSize;
  std::optional<TransferSigning> signing;  // set when the request was signed: every message is
};

// Counts of what was served, for /metrics.
enum class TransferKind : uint8_t { kAxfr, kIxfr, kIxfrAxfr, kUpToDate, kError };

struct TransferAnswer {
  std::vector<std::string> messages;  // in order; one for UDP and for error answers
  TransferKind kind = TransferKind::kError;
  uint16_t rcode = 0;
  size_t records = 0;  // answer records across all messages
};

// Answers an AXFR or IXFR for `zone` (the caller found it by the question name; a question not
// at its apex gets NOTAUTH). Errors in the request are DNS answers, not Status: AXFR over UDP
// NOTIMP (as Knot), class other than IN REFUSED, IXFR without a well-formed SOA for the zone in
// the authority section FORMERR. IXFR: the client's serial equal to or newer than ours (RFC
// 1982) gets the current SOA alone; a complete, strictly increasing chain in `history` (oldest
// first) from its serial to ours an incremental stream; anything else the whole zone. Over UDP
// an IXFR answer that does not fit `max_size` (and any fallback to the whole zone) becomes the
// current SOA alone, so the client retries over TCP (RFC 1995 §2).
// Status errors: kInvalidArgument (query is not AXFR/IXFR, or `message` shorter than its
// question), kInternal (signing failed or a record larger than a message).
Result<TransferAnswer> Answer(const TransferRequest& req, const Zone& zone, const std::vector<ZoneDiff>& history);

// Answer()'s messages only.
Result<std::vector<std::string>> AnswerTransfer(const TransferRequest& req, const Zone& zone,
                                                const std::vector<ZoneDiff>& history);

// "axfr", "ixfr", "ixfr_axfr", "up_to_date", "error": metric label values.
std::string_view TransferKindName(TransferKind kind);

}  // namespace berth::dns::transfer
