// Fuzzes TSIG verification over arbitrary bytes: VerifyRequest with a fixed keyring (the key
// the seed corpus was captured with, in every algorithm), then the stream verifier.
// Anything it reports as verified must really end with a TSIG at the offset it gave.
#include <cstddef>
#include <cstdint>

#include "dns/tsig/tsig.h"
#include "dns/wire/types.h"

namespace {

constexpr char kSecret[] = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ1Ng==";

// The keys the seeds were signed with (see tsig_test.cc): kdig used "testkey" for
// hmac-sha256 and "testkey-<alg>" for the others; nsupdate used "testkey" with hmac-sha512,
// which needs a second ring since names are unique in one.
const berth::dns::TsigKeyring& Ring(bool nsupdate) {
  static const berth::dns::TsigKeyring* rings[2] = {};
  if (!rings[0]) {
    using namespace berth::dns;
    std::vector<TsigKey> keys;
    keys.push_back(*TsigKey::Make("testkey", "hmac-sha256", kSecret));
    for (const char* alg : {"hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha384", "hmac-sha512"})
      keys.push_back(*TsigKey::Make(std::string("testkey-") + alg, alg, kSecret));
    rings[0] = new TsigKeyring(*TsigKeyring::Make(std::move(keys)));
    rings[1] = new TsigKeyring(*TsigKeyring::Make({*TsigKey::Make("testkey", "hmac-sha512", kSecret)}));
  }
  return *rings[nsupdate];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace berth::dns;
  for (bool nsupdate : {false, true}) {
    TsigVerifyResult r = VerifyRequest(data, size, Ring(nsupdate), 1700000000);
    if (r.status != TsigStatus::kUnsigned && r.status != TsigStatus::kFormErr) {
      if (r.tsig_offset < kHeaderSize || r.tsig_offset >= size) __builtin_trap();
    }
    // Seeds carry their capture time: past the MAC check, retry at that time so the steps
    // after the time check (truncation policy, success) run too.
    if (r.status == TsigStatus::kBadTime) {
      r = VerifyRequest(data, size, Ring(nsupdate), r.time_signed, {size % 2 ? 64u : 0u});
      if (r.status == TsigStatus::kFormErr || r.status == TsigStatus::kUnsigned) __builtin_trap();
    }
  }
  const TsigKey* key = Ring(false).Find(*Name::FromText("testkey."));
  TsigStreamVerifier stream(*key, "request-mac-0123456789");
  for (int i = 0; i < 2; ++i) stream.Next(data, size, 1700000000);
  return 0;
}
