#include "daemon/dns_control.h"

#include <chrono>
#include <ctime>
#include <thread>

#include <spdlog/spdlog.h>

#include "dns/query/query.h"
#include "dns/transfer/transfer.h"
#include "dns/update/update.h"
#include "dns/wire/reader.h"
#include "dns/wire/types.h"

namespace berth::daemon {

struct DnsControl::Request {
  dns::ParsedQuery q;
  std::string message;  // as received
  Client client;
  std::shared_ptr<const dns::TsigKeyring> keyring;  // keeps tsig.key alive
  dns::TsigVerifyResult tsig;                        // kUnsigned or kNoError once accepted
  size_t body_len = 0;                               // the message without its TSIG
  uint16_t stripped = 0;                             // 1 when a TSIG was cut off
  uint64_t now = 0;
  uint16_t edns_udp_size = dns::kDefaultEdnsSize;
  std::function<void(std::vector<std::string>)> done;
  // An UPDATE: the parsed message and its outcome on the committer thread. Kept here so the
  // edit and its answer each capture just this request (no allocation for the callbacks).
  DnsControl* control = nullptr;
  dns::update::UpdateMessage update;
  uint16_t update_rcode = dns::rcode::kNoError;
  dns::update::WritePolicy may_write;

  const uint8_t* bytes() const { return reinterpret_cast<const uint8_t*>(message.data()); }
  bool signed_ok() const { return tsig.status == dns::TsigStatus::kNoError && tsig.key; }
  dns::AnswerOptions options() const {
    dns::AnswerOptions o;
    o.tcp = client.tcp;
    o.edns_udp_size = edns_udp_size;
    return o;
  }
  // Header + question (+ OPT) with `rc`, for any opcode.
  std::string ErrorResponse(uint16_t rc) const {
    std::string out(4096, '\0');
    size_t n = dns::WriteErrorResponse(bytes(), q, rc, options(), reinterpret_cast<uint8_t*>(out.data()), out.size());
    out.resize(n);
    return out;
  }
  // Sends one response, signed with the request's key when it was signed.
  void Reply(std::string wire) {
    if (signed_ok()) {
      if (Status s = dns::SignResponse(wire, *tsig.key, tsig.mac, now); !s.ok()) {
        spdlog::warn("cannot sign response: {}", s.ToString());
        done({});
        return;
      }
    }
    done({std::move(wire)});
  }
  // Answers an UPDATE with `rc` (its zone section echoed), signed like any reply.
  void ReplyToUpdate(uint16_t rc) { Reply(dns::update::WriteUpdateResponse(update, rc, edns_udp_size)); }
};

DnsControl::DnsControl(ZoneService& zones, const dns::ZoneTable& table, DnsControlPolicy policy,
                       uint16_t edns_udp_size)
    : zones_(zones), table_(table), policy_(std::move(policy)), edns_udp_size_(edns_udp_size) {}

void DnsControl::Handle(const dns::ParsedQuery& q, std::string message, const Client& client,
                        std::function<void(std::vector<std::string>)> done) {
  auto req = std::make_shared<Request>();
  req->q = q;
  req->message = std::move(message);
  req->client = client;
  req->done = std::move(done);
  req->now = static_cast<uint64_t>(std::time(nullptr));
  req->edns_udp_size = edns_udp_size_.load(std::memory_order_relaxed);
  req->body_len = req->message.size();
  req->keyring = policy_.keyring ? policy_.keyring() : nullptr;
  if (!req->keyring) req->keyring = std::make_shared<dns::TsigKeyring>();

  if (q.has_tsig) {
    req->tsig = dns::VerifyRequest(req->bytes(), req->message.size(), *req->keyring, req->now);
    switch (req->tsig.status) {
      case dns::TsigStatus::kNoError:
        req->body_len = req->tsig.tsig_offset;
        req->stripped = 1;
        break;
      case dns::TsigStatus::kFormErr:
        ++stats_.tsig_failures;
        req->tsig.status = dns::TsigStatus::kUnsigned;
        req->Reply(req->ErrorResponse(dns::rcode::kFormErr));
        return;
      case dns::TsigStatus::kBadTime: {
        // Signed, with our clock in Other Data (RFC 8945 §5.2.3).
        ++stats_.tsig_failures;
        std::string wire = req->ErrorResponse(dns::rcode::kNotAuth);
        if (dns::SignResponse(wire, *req->tsig.key, req->tsig.mac, req->tsig.time_signed,
                              dns::TsigErrorCode(req->tsig.status), req->now)
                .ok())
          req->done({std::move(wire)});
        else
          req->done({});
        return;
      }
      default: {
        // BADKEY, BADSIG, BADTRUNC: answered unsigned (§5.3.2).
        ++stats_.tsig_failures;
        spdlog::info("TSIG {} from {} (key {})", dns::TsigStatusName(req->tsig.status), client.address.ToString(),
                     req->tsig.key_name.ToText());
        std::string wire = req->ErrorResponse(dns::rcode::kNotAuth);
        if (dns::AppendUnsignedTsigError(wire, req->tsig, req->now, dns::TsigErrorCode(req->tsig.status)).ok())
          req->done({std::move(wire)});
        else
          req->done({});
        return;
      }
    }
  }

  switch (q.opcode()) {
    case dns::opcode::kUpdate:
      HandleUpdate(std::move(req));
      return;
    case dns::opcode::kNotify:
      // berthd is a primary: it sends NOTIFY, it does not follow other servers' zones.
      req->Reply(req->ErrorResponse(dns::rcode::kNotImp));
      return;
    case dns::opcode::kQuery:
      if (q.qtype == dns::type::kAXFR || q.qtype == dns::type::kIXFR) {
        HandleTransfer(std::move(req));
        return;
      }
      HandleQuery(std::move(req));
      return;
    default:
      req->Reply(req->ErrorResponse(dns::rcode::kNotImp));
  }
}

void DnsControl::HandleQuery(std::shared_ptr<Request> req) {
  // A signed ordinary query: answered from the zones (no recursion), then signed.
  std::string body = req->message.substr(0, req->body_len);
  uint16_t ar = static_cast<uint16_t>(dns::Get16(reinterpret_cast<const uint8_t*>(body.data()) + 10) - req->stripped);
  body[10] = static_cast<char>(ar >> 8);
  body[11] = static_cast<char>(ar);
  dns::AnswerOptions opts = req->options();
  std::string out(opts.tcp ? 65535 : 4096, '\0');
  dns::ParsedQuery parsed;
  auto zones = table_.Get();
  dns::AnswerResult r = dns::AnswerQuery(*zones, reinterpret_cast<const uint8_t*>(body.data()), body.size(), opts,
                                         reinterpret_cast<uint8_t*>(out.data()), out.size(), &parsed);
  if (r.disposition != dns::Disposition::kAnswered) {
    req->Reply(req->ErrorResponse(dns::rcode::kRefused));
    return;
  }
  out.resize(r.size);
  req->Reply(std::move(out));
}

void DnsControl::HandleUpdate(std::shared_ptr<Request> req) {
  dns::update::ParseResult parsed = dns::update::ParseUpdate(req->bytes(), req->body_len, req->stripped);
  if (parsed.outcome == dns::update::Outcome::kDrop) {
    req->done({});
    return;
  }
  req->update = std::move(parsed.message);
  if (parsed.outcome == dns::update::Outcome::kError) {
    ++stats_.updates_refused;
    req->ReplyToUpdate(parsed.rcode);
    return;
  }
  // RFC 2136 §3.1.1: a zone we do not serve is NOTAUTH.
  if (!table_.Get()->Get(req->update.zone)) {
    ++stats_.updates_refused;
    req->ReplyToUpdate(dns::rcode::kNotAuth);
    return;
  }
  // Only TSIG-authenticated updates; the key's scope decides what it may touch.
  if (!req->signed_ok() || !policy_.may_update) {
    ++stats_.updates_refused;
    spdlog::info("unsigned UPDATE for {} from {} refused", req->update.zone.ToText(), req->client.address.ToString());
    req->ReplyToUpdate(dns::rcode::kRefused);
    return;
  }
  req->control = this;
  Request* r = req.get();  // the callbacks below keep it alive
  req->may_write = [r](const dns::Name& owner, uint16_t type) {
    return r->control->policy_.may_update(r->tsig.key->name, r->update.zone, owner, type);
  };
  zones_.EditAsync(
      req->update.zone,
      [req](dns::ZoneContent& content) -> Status {
        req->update_rcode = dns::update::ProcessUpdate(req->update, content, req->may_write);
        if (req->update_rcode != dns::rcode::kNoError) return FailedPrecondition("update refused");
        return Status::Ok();
      },
      [req](Result<EditOutcome> outcome) {
        DnsControl& self = *req->control;
        uint16_t code = req->update_rcode;
        if (!outcome.ok() && code == dns::rcode::kNoError) {
          // Zone rules (kInvalidArgument) refuse the update; anything else is our failure.
          code = outcome.status().code() == Code::kInvalidArgument ? dns::rcode::kRefused
                 : outcome.status().code() == Code::kNotFound      ? dns::rcode::kNotAuth
                                                                   : dns::rcode::kServFail;
          if (code == dns::rcode::kServFail) ++self.stats_.updates_failed;
          spdlog::info("UPDATE of {} from {}: {}", req->update.zone.ToText(), req->client.address.ToString(),
                       outcome.status().ToString());
        }
        if (code == dns::rcode::kNoError) ++self.stats_.updates;
        else if (code != dns::rcode::kServFail) ++self.stats_.updates_refused;
        req->ReplyToUpdate(code);
      });
}

void DnsControl::HandleTransfer(std::shared_ptr<Request> req) {
  auto name = dns::Name::FromWire(req->q.qname_wire());
  std::shared_ptr<const dns::Zone> zone = name.ok() ? table_.Get()->Get(*name) : nullptr;
  if (!zone) {
    ++stats_.transfers_refused;
    req->Reply(req->ErrorResponse(dns::rcode::kNotAuth));
    return;
  }
  const dns::Name* key = req->signed_ok() ? &req->tsig.key->name : nullptr;
  if (!policy_.may_transfer || !policy_.may_transfer(zone->origin(), req->client.address.ip(), key)) {
    ++stats_.transfers_refused;
    spdlog::info("{} of {} from {}{} refused", req->q.qtype == dns::type::kAXFR ? "AXFR" : "IXFR",
                 zone->origin().ToText(), req->client.address.ToString(), key ? " (key " + key->ToText() + ")" : "");
    req->Reply(req->ErrorResponse(dns::rcode::kRefused));
    return;
  }
  // A whole zone can take a while to pack: not on a DNS worker. Bounded, so a flood of
  // transfer requests cannot take every core.
  constexpr int kMaxConcurrentTransfers = 8;
  if (running_transfers_.fetch_add(1) >= kMaxConcurrentTransfers) {
    --running_transfers_;
    ++stats_.transfers_refused;
    req->Reply(req->ErrorResponse(dns::rcode::kRefused));
    return;
  }
  std::thread([this, req, zone] {
    std::vector<dns::transfer::ZoneDiff> history;
    if (req->q.qtype == dns::type::kIXFR) {
      auto journal = zones_.Journal(zone->origin());
      if (journal.ok()) {
        history.reserve(journal->size());
        for (auto& e : *journal)
          history.push_back({e.old_serial, e.new_serial, std::move(e.removed), std::move(e.added)});
      }
    }
    dns::transfer::TransferRequest tr;
    tr.message = req->message;
    tr.query = req->q;
    tr.tcp = req->client.tcp;
    tr.max_size = req->client.tcp ? dns::transfer::kDefaultTransferMessageSize
                                  : dns::ResponseLimit(req->q, req->options());
    if (req->signed_ok()) tr.signing = dns::transfer::TransferSigning{req->tsig.key, req->tsig.mac, req->now};
    auto answer = dns::transfer::Answer(tr, *zone, history);
    if (!answer.ok()) {
      spdlog::error("transfer of {} to {}: {}", zone->origin().ToText(), req->client.address.ToString(),
                    answer.status().ToString());
      req->Reply(req->ErrorResponse(dns::rcode::kServFail));
    } else {
      ++stats_.transfers;
      spdlog::info("{} of {} serial {} to {}: {} records in {} messages",
                   dns::transfer::TransferKindName(answer->kind), zone->origin().ToText(), zone->serial(),
                   req->client.address.ToString(), answer->records, answer->messages.size());
      req->done(std::move(answer->messages));  // signed by the transfer module when asked
    }
    --running_transfers_;
  }).detach();
}

void DnsControl::WaitForTransfers() {
  while (running_transfers_.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

DnsControl::~DnsControl() { WaitForTransfers(); }

}  // namespace berth::daemon
