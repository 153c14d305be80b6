#include "dns/tsig/tsig.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "dns/wire/message.h"
#include "dns/wire/reader.h"
#include "dns/wire/types.h"

namespace berth::dns {
namespace {

constexpr char kSecret[] = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ1Ng==";
constexpr char kOtherSecret[] = "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldA==";
constexpr uint64_t kNow = 1700000000;

const char* const kAlgNames[] = {"hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512"};

TsigKey Key(const char* alg = "hmac-sha256", const char* name = "testkey", const char* secret = kSecret) {
  auto k = TsigKey::Make(name, alg, secret);
  EXPECT_TRUE(k.ok()) << k.status().ToString();
  return *k;
}

TsigKeyring Ring(std::vector<TsigKey> keys) { return *TsigKeyring::Make(std::move(keys)); }

const uint8_t* B(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

uint16_t U16At(const std::string& s, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(s[at]) << 8 | static_cast<uint8_t>(s[at + 1]));
}
void PutU16At(std::string& s, size_t at, uint16_t v) {
  s[at] = static_cast<char>(v >> 8);
  s[at + 1] = static_cast<char>(v);
}

std::string Query(uint16_t id = 0x1234, bool edns = true) {
  Message m;
  m.id = id;
  m.questions.push_back({*Name::FromText("example."), type::kSOA, cls::kIN});
  if (edns) m.edns.emplace();
  return m.Build();
}
// Header and question of Query(): "example." SOA IN.
constexpr size_t kQueryNoEdns = kHeaderSize + 9 + 4;

std::string Signed(const TsigKey& key, uint64_t now = kNow, uint16_t id = 0x1234) {
  std::string wire = Query(id);
  Status s = SignRequest(wire, key, now);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return wire;
}

TsigStatus Verify(const std::string& wire, const TsigKeyring& ring, uint64_t now = kNow,
                  TsigVerifyOptions opts = {}) {
  return VerifyRequest(B(wire), wire.size(), ring, now, opts).status;
}

// Offsets inside the (last) TSIG RR of `wire`, located from the verifier's offset.
struct TsigLayout {
  size_t rr, rdlen, mac_size, mac;
};
TsigLayout Layout(const std::string& wire, const TsigKeyring& ring) {
  TsigVerifyResult r = VerifyRequest(B(wire), wire.size(), ring, kNow);
  TsigLayout l{};
  l.rr = r.tsig_offset;
  WireReader rd(B(wire), wire.size(), l.rr);
  rd.SkipName();
  rd.Skip(8);
  l.rdlen = rd.pos();
  rd.Skip(2);
  rd.SkipName();
  rd.Skip(8);
  l.mac_size = rd.pos();
  l.mac = l.mac_size + 2;
  return l;
}

// Rewrites the request's MAC to its first `n` bytes (or pads it with zeros past its length).
std::string WithMacSize(std::string wire, const TsigKeyring& ring, size_t n) {
  TsigLayout l = Layout(wire, ring);
  size_t old = U16At(wire, l.mac_size);
  std::string mac = wire.substr(l.mac, old);
  mac.resize(n, '\0');
  wire.replace(l.mac, old, mac);
  PutU16At(wire, l.mac_size, static_cast<uint16_t>(n));
  PutU16At(wire, l.rdlen, static_cast<uint16_t>(U16At(wire, l.rdlen) + n - old));
  return wire;
}

TEST(TsigKey, ParsesAlgorithmSpellings) {
  EXPECT_EQ(TsigAlgorithmFromText("hmac-sha256"), TsigAlgorithm::kHmacSha256);
  EXPECT_EQ(TsigAlgorithmFromText("hmac-sha256."), TsigAlgorithm::kHmacSha256);
  EXPECT_EQ(TsigAlgorithmFromText("HMAC-SHA512"), TsigAlgorithm::kHmacSha512);
  EXPECT_EQ(TsigAlgorithmFromText("hmac-md5"), TsigAlgorithm::kHmacMd5);
  EXPECT_EQ(TsigAlgorithmFromText("hmac-md5.sig-alg.reg.int."), TsigAlgorithm::kHmacMd5);
  EXPECT_EQ(TsigAlgorithmFromText("hmac-md5.sig-alg.reg.int"), TsigAlgorithm::kHmacMd5);
  EXPECT_FALSE(TsigAlgorithmFromText("hmac-sha3"));
  EXPECT_FALSE(TsigAlgorithmFromText(""));
  EXPECT_EQ(TsigAlgorithmName(TsigAlgorithm::kHmacMd5).ToText(), "hmac-md5.sig-alg.reg.int.");
  EXPECT_EQ(TsigAlgorithmName(TsigAlgorithm::kHmacSha224).ToText(), "hmac-sha224.");
  EXPECT_EQ(TsigDigestSize(TsigAlgorithm::kHmacSha384), 48u);
}

TEST(TsigKey, MakeValidates) {
  TsigKey k = Key("hmac-sha1", "Key.Example");
  EXPECT_EQ(k.name.ToText(), "Key.Example.");
  EXPECT_EQ(k.secret, "secret-secret-secret-secret-123456");
  EXPECT_FALSE(TsigKey::Make("", "hmac-sha256", kSecret).ok());
  EXPECT_FALSE(TsigKey::Make(".", "hmac-sha256", kSecret).ok());
  EXPECT_FALSE(TsigKey::Make("k", "hmac-sha999", kSecret).ok());
  EXPECT_FALSE(TsigKey::Make("k", "hmac-sha256", "").ok());
  EXPECT_FALSE(TsigKey::Make("k", "hmac-sha256", "abc").ok());
  EXPECT_FALSE(TsigKey::Make("k", "hmac-sha256", "ab c").ok());
  EXPECT_FALSE(TsigKey::Make("k", "hmac-sha256", "YWJj\n").ok());
  EXPECT_FALSE(TsigKey::Make("k..x", "hmac-sha256", kSecret).ok());
}

TEST(TsigKey, StrictBase64) {
  EXPECT_EQ(*DecodeBase64Strict("YWJj"), "abc");
  EXPECT_EQ(*DecodeBase64Strict("YWI="), "ab");
  EXPECT_EQ(*DecodeBase64Strict("YQ=="), "a");
  EXPECT_EQ(*DecodeBase64Strict("+/+/"), "\xfb\xff\xbf");
  EXPECT_FALSE(DecodeBase64Strict("YQ=").ok());
  EXPECT_FALSE(DecodeBase64Strict("Y=Jj").ok());
  EXPECT_FALSE(DecodeBase64Strict("YW-j").ok());
  EXPECT_FALSE(DecodeBase64Strict("====").ok());
}

TEST(TsigKeyring, CaseInsensitiveAndUnique) {
  TsigKeyring ring = Ring({Key("hmac-sha256", "Alpha.example"), Key("hmac-sha1", "beta")});
  EXPECT_EQ(ring.size(), 2u);
  ASSERT_NE(ring.Find(*Name::FromText("ALPHA.EXAMPLE.")), nullptr);
  EXPECT_EQ(ring.Find(*Name::FromText("alpha.example."))->algorithm, TsigAlgorithm::kHmacSha256);
  EXPECT_EQ(ring.Find(*Name::FromText("gamma.")), nullptr);
  auto dup = TsigKeyring::Make({Key("hmac-sha256", "a"), Key("hmac-sha1", "A")});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().code(), Code::kAlreadyExists);
}

TEST(TsigVerify, RoundTripEveryAlgorithm) {
  for (const char* alg : kAlgNames) {
    SCOPED_TRACE(alg);
    TsigKey key = Key(alg);
    TsigKeyring ring = Ring({key});
    std::string plain = Query();
    std::string wire = Signed(key);
    EXPECT_EQ(U16At(wire, 10), 2u);  // OPT + TSIG
    TsigVerifyResult r = VerifyRequest(B(wire), wire.size(), ring, kNow);
    EXPECT_EQ(r.status, TsigStatus::kNoError) << TsigStatusName(r.status);
    ASSERT_NE(r.key, nullptr);
    EXPECT_EQ(r.key->algorithm, key.algorithm);
    EXPECT_EQ(r.tsig_offset, plain.size());
    EXPECT_EQ(wire.substr(2, 8), plain.substr(2, 8));
    EXPECT_EQ(r.mac.size(), TsigDigestSize(key.algorithm));
    EXPECT_EQ(r.time_signed, kNow);
    EXPECT_EQ(r.fudge, kTsigDefaultFudge);
    EXPECT_EQ(r.original_id, 0x1234);
    EXPECT_EQ(r.algorithm_name, TsigAlgorithmName(key.algorithm));
    // The message parses as a whole too: the TSIG RR is well-formed wire.
    EXPECT_TRUE(Message::Parse(B(wire), wire.size()).ok());
  }
}

// An independent computation of the RFC 8945 §4.3.3 digest with one-shot HMAC(): message
// without TSIG, then key name, class ANY, TTL 0, algorithm, time (48 bits), fudge, error,
// other len. A mistake in the incremental code cannot hide behind the same mistake here.
TEST(TsigVerify, MacMatchesRfcLayoutComputedByHand) {
  TsigKey key = Key("hmac-sha256", "TestKey");
  std::string msg = Query(0xBEEF);
  std::string wire = msg;
  ASSERT_TRUE(SignRequest(wire, key, 0x0102030405).ok());
  std::string data = msg;
  data += std::string("\x07testkey\x00", 9);
  data += std::string("\x00\xff\x00\x00\x00\x00", 6);
  data += std::string("\x0bhmac-sha256\x00", 13);
  data += std::string("\x00\x01\x02\x03\x04\x05\x01\x2c\x00\x00\x00\x00", 12);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key.secret.data(), static_cast<int>(key.secret.size()), B(data), data.size(), mac, &mac_len);
  ASSERT_EQ(mac_len, 32u);
  TsigKeyring ring = Ring({key});
  TsigVerifyResult r = VerifyRequest(B(wire), wire.size(), ring, 0x0102030405);
  EXPECT_EQ(r.status, TsigStatus::kNoError);
  EXPECT_EQ(r.mac, std::string(reinterpret_cast<char*>(mac), mac_len));
  // The record itself, byte for byte after the message.
  std::string rr = wire.substr(msg.size());
  std::string want = std::string("\x07testkey\x00\x00\xfa\x00\xff\x00\x00\x00\x00", 17);
  want += std::string("\x00\x3d\x0bhmac-sha256\x00\x00\x01\x02\x03\x04\x05\x01\x2c\x00\x20", 25);
  want += std::string(reinterpret_cast<char*>(mac), 32);
  want += std::string("\xbe\xef\x00\x00\x00\x00", 6);
  EXPECT_EQ(rr, want);
}

TEST(TsigVerify, RejectsWrongKeysAndTimes) {
  TsigKey key = Key();
  std::string wire = Signed(key);
  EXPECT_EQ(Verify(wire, Ring({Key("hmac-sha256", "testkey", kOtherSecret)})), TsigStatus::kBadSig);
  EXPECT_EQ(Verify(wire, Ring({Key("hmac-sha256", "otherkey")})), TsigStatus::kBadKey);
  EXPECT_EQ(Verify(wire, Ring({Key("hmac-sha512")})), TsigStatus::kBadKey);  // algorithm mismatch
  EXPECT_EQ(Verify(wire, TsigKeyring()), TsigStatus::kBadKey);
  TsigKeyring ring = Ring({key});
  EXPECT_EQ(Verify(wire, ring, kNow + 300), TsigStatus::kNoError);
  EXPECT_EQ(Verify(wire, ring, kNow - 300), TsigStatus::kNoError);
  EXPECT_EQ(Verify(wire, ring, kNow + 301), TsigStatus::kBadTime);
  EXPECT_EQ(Verify(wire, ring, kNow - 3600), TsigStatus::kBadTime);
  TsigVerifyResult r = VerifyRequest(B(wire), wire.size(), ring, kNow + 3600);
  EXPECT_NE(r.key, nullptr);  // BADTIME answers are signed, so the key is reported
}

TEST(TsigVerify, KeyNameMatchesCaseInsensitively) {
  std::string wire = Signed(Key("hmac-sha256", "TESTKEY"));
  EXPECT_EQ(Verify(wire, Ring({Key("hmac-sha256", "testkey")})), TsigStatus::kNoError);
}

TEST(TsigVerify, UnsignedMessage) {
  std::string wire = Query();
  TsigVerifyResult r = VerifyRequest(B(wire), wire.size(), Ring({Key()}), kNow);
  EXPECT_EQ(r.status, TsigStatus::kUnsigned);
  EXPECT_EQ(r.key, nullptr);
}

TEST(TsigVerify, RestoresOriginalId) {
  TsigKeyring ring = Ring({Key()});
  std::string wire = Signed(Key(), kNow, 0x1234);
  PutU16At(wire, 0, 0x9999);  // a forwarder changed the ID: the MAC still holds
  TsigVerifyResult r = VerifyRequest(B(wire), wire.size(), ring, kNow);
  EXPECT_EQ(r.status, TsigStatus::kNoError);
  EXPECT_EQ(r.original_id, 0x1234);
  TsigLayout l = Layout(wire, ring);
  size_t orig_id_at = l.mac + U16At(wire, l.mac_size);
  PutU16At(wire, orig_id_at, 0x9999);  // but the original ID field itself is covered
  EXPECT_EQ(Verify(wire, ring), TsigStatus::kBadSig);
}

TEST(TsigVerify, EveryTamperedByteFails) {
  TsigKeyring ring = Ring({Key()});
  std::string wire = Signed(Key());
  for (size_t i = 2; i < wire.size(); ++i) {
    std::string bad = wire;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    TsigStatus s = Verify(bad, ring);
    EXPECT_NE(s, TsigStatus::kNoError) << "byte " << i;
  }
  for (size_t n = 0; n < wire.size(); ++n) {
    TsigStatus s = Verify(wire.substr(0, n), ring);
    EXPECT_TRUE(s == TsigStatus::kFormErr || s == TsigStatus::kUnsigned) << "cut at " << n;
  }
}

TEST(TsigVerify, TruncatedMacs) {
  TsigKeyring sha256 = Ring({Key("hmac-sha256")});
  std::string wire = Signed(Key("hmac-sha256"));
  EXPECT_EQ(Verify(WithMacSize(wire, sha256, 16), sha256), TsigStatus::kNoError);  // half
  EXPECT_EQ(Verify(WithMacSize(wire, sha256, 20), sha256), TsigStatus::kNoError);
  EXPECT_EQ(Verify(WithMacSize(wire, sha256, 15), sha256), TsigStatus::kFormErr);  // below half
  EXPECT_EQ(Verify(WithMacSize(wire, sha256, 33), sha256), TsigStatus::kFormErr);  // above hash
  EXPECT_EQ(Verify(WithMacSize(wire, sha256, 0), sha256), TsigStatus::kFormErr);
  // Local policy demanding the full MAC: an allowed truncation becomes BADTRUNC (§5.2.4)...
  EXPECT_EQ(Verify(WithMacSize(wire, sha256, 16), sha256, kNow, {32}), TsigStatus::kBadTrunc);
  EXPECT_EQ(Verify(wire, sha256, kNow, {32}), TsigStatus::kNoError);
  // ...but only after the MAC itself checked out.
  std::string bad = WithMacSize(wire, sha256, 16);
  bad[Layout(bad, sha256).mac] ^= 1;
  EXPECT_EQ(Verify(bad, sha256, kNow, {32}), TsigStatus::kBadSig);
  // MD5 (16 bytes) and SHA-1 (20): the 10-byte floor rules, not half the hash.
  for (const char* alg : {"hmac-md5", "hmac-sha1"}) {
    SCOPED_TRACE(alg);
    TsigKeyring ring = Ring({Key(alg)});
    std::string w = Signed(Key(alg));
    EXPECT_EQ(Verify(WithMacSize(w, ring, 10), ring), TsigStatus::kNoError);
    EXPECT_EQ(Verify(WithMacSize(w, ring, 9), ring), TsigStatus::kFormErr);
  }
}

TEST(TsigVerify, TsigMustBeLastAndWellFormed) {
  TsigKey key = Key();
  TsigKeyring ring = Ring({key});
  std::string wire = Signed(key);
  TsigLayout l = Layout(wire, ring);
  std::string rr = wire.substr(l.rr);

  std::string extra = wire + std::string("\x00\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc0\x00\x02\x01", 15);
  PutU16At(extra, 10, static_cast<uint16_t>(U16At(extra, 10) + 1));
  EXPECT_EQ(Verify(extra, ring), TsigStatus::kFormErr);  // a record after the TSIG

  std::string twice = wire + rr;
  PutU16At(twice, 10, static_cast<uint16_t>(U16At(twice, 10) + 1));
  EXPECT_EQ(Verify(twice, ring), TsigStatus::kFormErr);

  std::string in_answer = Query(0x1234, false);  // the TSIG counted as an answer record
  ASSERT_TRUE(SignRequest(in_answer, key, kNow).ok());
  EXPECT_EQ(Verify(in_answer, ring), TsigStatus::kNoError);
  PutU16At(in_answer, 6, 1);
  PutU16At(in_answer, 10, 0);
  EXPECT_EQ(Verify(in_answer, ring), TsigStatus::kFormErr);

  EXPECT_EQ(Verify(wire + '\0', ring), TsigStatus::kFormErr);  // trailing byte

  std::string bad_class = wire;
  size_t class_at = l.rr + 1 + 7 + 1 + 2;  // "\x07testkey\x00" then TYPE
  PutU16At(bad_class, class_at, cls::kIN);
  EXPECT_EQ(Verify(bad_class, ring), TsigStatus::kFormErr);

  std::string bad_ttl = wire;
  bad_ttl[class_at + 5] = 1;
  EXPECT_EQ(Verify(bad_ttl, ring), TsigStatus::kFormErr);

  std::string long_rdlen = wire;
  PutU16At(long_rdlen, l.rdlen, static_cast<uint16_t>(U16At(wire, l.rdlen) - 1));
  EXPECT_EQ(Verify(long_rdlen, ring), TsigStatus::kFormErr);
}

TEST(TsigVerify, CompressedKeyNameAcceptedCompressedAlgorithmRejected) {
  // Key "example." compresses to the question name at offset 12.
  TsigKey key = Key("hmac-sha256", "example");
  TsigKeyring ring = Ring({key});
  std::string wire = Signed(key);
  size_t rr = VerifyRequest(B(wire), wire.size(), ring, kNow).tsig_offset;
  std::string compressed = wire.substr(0, rr) + std::string("\xc0\x0c", 2) + wire.substr(rr + 9);
  EXPECT_EQ(Verify(compressed, ring), TsigStatus::kNoError);
}

TEST(TsigResponse, SignAndVerify) {
  TsigKey key = Key();
  TsigKeyring ring = Ring({key});
  std::string request = Signed(key);
  TsigVerifyResult req = VerifyRequest(B(request), request.size(), ring, kNow);
  ASSERT_EQ(req.status, TsigStatus::kNoError);

  std::string response = request.substr(0, req.tsig_offset);
  PutU16At(response, 2, flag::kQR | flag::kAA);
  PutU16At(response, 10, 0);
  response.resize(kQueryNoEdns);
  ASSERT_TRUE(SignResponse(response, key, req.mac, kNow + 1).ok());
  EXPECT_EQ(VerifyResponse(B(response), response.size(), key, req.mac, kNow).status, TsigStatus::kNoError);
  // The request MAC is part of the digest: another request's MAC does not verify.
  std::string other_mac = req.mac;
  other_mac[0] ^= 1;
  EXPECT_EQ(VerifyResponse(B(response), response.size(), key, other_mac, kNow).status, TsigStatus::kBadSig);
  // Nor does it verify as a request (no prior MAC).
  EXPECT_EQ(Verify(response, ring), TsigStatus::kBadSig);
  EXPECT_EQ(VerifyResponse(B(response), response.size(), Key("hmac-sha256", "x"), req.mac, kNow).status,
            TsigStatus::kBadKey);
  std::string unsigned_response = response.substr(0, kQueryNoEdns);
  PutU16At(unsigned_response, 10, 0);
  EXPECT_EQ(VerifyResponse(B(unsigned_response), unsigned_response.size(), key, req.mac, kNow).status,
            TsigStatus::kFormErr);
}

TEST(TsigResponse, BadTimeCarriesOurTime) {
  TsigKey key = Key();
  TsigKeyring ring = Ring({key});
  std::string request = Signed(key, kNow);
  TsigVerifyResult req = VerifyRequest(B(request), request.size(), ring, kNow + 3600);
  ASSERT_EQ(req.status, TsigStatus::kBadTime);
  std::string response = request.substr(0, req.tsig_offset);
  PutU16At(response, 2, flag::kQR | rcode::kNotAuth);
  PutU16At(response, 10, 0);
  response.resize(kQueryNoEdns);
  ASSERT_TRUE(SignResponse(response, *req.key, req.mac, req.time_signed, rcode::kBadTime, kNow + 3600).ok());
  TsigVerifyResult r = VerifyResponse(B(response), response.size(), key, req.mac, kNow);
  EXPECT_EQ(r.status, TsigStatus::kBadTime);  // the MAC verified; the error is reported
  EXPECT_EQ(r.error, rcode::kBadTime);
  EXPECT_EQ(r.time_signed, kNow);
  // Other Data = 6 bytes of our clock, just before the end of the record.
  EXPECT_EQ(U16At(response, response.size() - 8), 6u);
  EXPECT_EQ(response.substr(response.size() - 6), std::string("\x00\x00\x65\x53\xff\x10", 6));
}

TEST(TsigResponse, UnsignedErrorRecord) {
  TsigKeyring ring = Ring({Key("hmac-sha256", "known")});
  std::string request = Signed(Key("hmac-sha384", "Stranger"));
  TsigVerifyResult req = VerifyRequest(B(request), request.size(), ring, kNow);
  ASSERT_EQ(req.status, TsigStatus::kBadKey);
  std::string response = request.substr(0, kQueryNoEdns);
  PutU16At(response, 2, flag::kQR | rcode::kNotAuth);
  PutU16At(response, 10, 0);
  ASSERT_TRUE(AppendUnsignedTsigError(response, req, kNow, rcode::kBadKey).ok());
  EXPECT_EQ(U16At(response, 10), 1u);
  auto parsed = Message::Parse(B(response), response.size());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->additional.size(), 1u);
  EXPECT_EQ(parsed->additional[0].name, *Name::FromText("stranger."));
  TsigVerifyResult r = VerifyResponse(B(response), response.size(), Key("hmac-sha384", "stranger"), req.mac, kNow);
  EXPECT_EQ(r.status, TsigStatus::kBadKey);
  EXPECT_TRUE(r.mac.empty());
}

TEST(TsigSign, RejectsBadInput) {
  TsigKey key = Key();
  std::string tiny = "abc";
  EXPECT_FALSE(SignRequest(tiny, key, kNow).ok());
  std::string full = Query();
  PutU16At(full, 10, 0xFFFF);
  EXPECT_FALSE(SignRequest(full, key, kNow).ok());
  std::string huge = Query();
  huge.resize(65500);
  EXPECT_FALSE(SignRequest(huge, key, kNow).ok());
  std::string late = Query();
  EXPECT_FALSE(SignRequest(late, key, uint64_t{1} << 48).ok());
}

// A response "message" of a zone transfer: header + `n` bytes of payload in the answer.
std::string StreamMessage(int i) {
  Message m;
  m.id = 0x4242;
  m.flags = flag::kQR | flag::kAA;
  m.answers.push_back({*Name::FromText("h" + std::to_string(i) + ".example."), type::kA, cls::kIN, 60,
                       std::string("\xc0\x00\x02", 3) + static_cast<char>(i)});
  return m.Build();
}

TEST(TsigStream, RoundTripWithUnsignedMessages) {
  TsigKey key = Key("hmac-sha384");
  std::string request_mac = "0123456789abcdef0123456789abcdef";
  TsigStreamSigner signer(key, request_mac);
  TsigStreamVerifier verifier(key, request_mac);
  const int n = 260;
  int signed_count = 0;
  for (int i = 0; i < n; ++i) {
    std::string wire = StreamMessage(i);
    bool want_sign = (i % 7 == 0 && i < 150) || i == n - 1;  // then 99 unsigned force one
    ASSERT_TRUE(signer.Add(wire, kNow + i, want_sign).ok());
    bool has_tsig = U16At(wire, 10) == 1;
    signed_count += has_tsig;
    if (i == 0 || want_sign) {
      EXPECT_TRUE(has_tsig) << i;
    }
    TsigVerifyResult r = verifier.Next(B(wire), wire.size(), kNow + i);
    EXPECT_EQ(r.status, has_tsig ? TsigStatus::kNoError : TsigStatus::kUnsigned) << i;
    EXPECT_EQ(verifier.AtSignedBoundary(), has_tsig) << i;
  }
  EXPECT_EQ(signed_count, 22 + 1 + 1);  // 0, 7, ..., 147; forced 247; the last
}

TEST(TsigStream, ForcesASignatureEvery100Messages) {
  TsigKey key = Key();
  TsigStreamSigner signer(key, "request-mac-request-mac");
  std::vector<int> signed_at;
  for (int i = 0; i < 250; ++i) {
    std::string wire = StreamMessage(i);
    ASSERT_TRUE(signer.Add(wire, kNow, false).ok());
    if (U16At(wire, 10) == 1) signed_at.push_back(i);
  }
  EXPECT_EQ(signed_at, (std::vector<int>{0, 100, 200}));
}

TEST(TsigStream, DetectsTamperingAndBadShapes) {
  TsigKey key = Key();
  std::string mac = "request-mac-request-mac";
  std::vector<std::string> msgs;
  TsigStreamSigner signer(key, mac);
  for (int i = 0; i < 4; ++i) {
    msgs.push_back(StreamMessage(i));
    ASSERT_TRUE(signer.Add(msgs.back(), kNow, i == 0 || i == 3).ok());
  }
  {  // an unsigned message in the middle altered: the next signed one fails
    TsigStreamVerifier v(key, mac);
    std::string bad = msgs[1];
    bad[bad.size() - 1] ^= 1;
    EXPECT_EQ(v.Next(B(msgs[0]), msgs[0].size(), kNow).status, TsigStatus::kNoError);
    EXPECT_EQ(v.Next(B(bad), bad.size(), kNow).status, TsigStatus::kUnsigned);
    EXPECT_EQ(v.Next(B(msgs[2]), msgs[2].size(), kNow).status, TsigStatus::kUnsigned);
    EXPECT_EQ(v.Next(B(msgs[3]), msgs[3].size(), kNow).status, TsigStatus::kBadSig);
    EXPECT_FALSE(v.AtSignedBoundary());
    EXPECT_EQ(v.Next(B(msgs[0]), msgs[0].size(), kNow).status, TsigStatus::kFormErr);  // stays failed
  }
  {  // a dropped message breaks the chain
    TsigStreamVerifier v(key, mac);
    EXPECT_EQ(v.Next(B(msgs[0]), msgs[0].size(), kNow).status, TsigStatus::kNoError);
    EXPECT_EQ(v.Next(B(msgs[1]), msgs[1].size(), kNow).status, TsigStatus::kUnsigned);
    EXPECT_EQ(v.Next(B(msgs[3]), msgs[3].size(), kNow).status, TsigStatus::kBadSig);
  }
  {  // the first message must be signed
    TsigStreamVerifier v(key, mac);
    EXPECT_EQ(v.Next(B(msgs[1]), msgs[1].size(), kNow).status, TsigStatus::kFormErr);
  }
  {  // 100 unsigned in a row is too many
    TsigStreamVerifier v(key, mac);
    EXPECT_EQ(v.Next(B(msgs[0]), msgs[0].size(), kNow).status, TsigStatus::kNoError);
    for (int i = 0; i < 99; ++i) EXPECT_EQ(v.Next(B(msgs[1]), msgs[1].size(), kNow).status, TsigStatus::kUnsigned);
    EXPECT_EQ(v.Next(B(msgs[1]), msgs[1].size(), kNow).status, TsigStatus::kFormErr);
  }
  {  // a later message outside the fudge
    TsigStreamVerifier v(key, mac);
    EXPECT_EQ(v.Next(B(msgs[0]), msgs[0].size(), kNow).status, TsigStatus::kNoError);
    EXPECT_EQ(v.Next(B(msgs[1]), msgs[1].size(), kNow).status, TsigStatus::kUnsigned);
    EXPECT_EQ(v.Next(B(msgs[2]), msgs[2].size(), kNow).status, TsigStatus::kUnsigned);
    EXPECT_EQ(v.Next(B(msgs[3]), msgs[3].size(), kNow + 1000).status, TsigStatus::kBadTime);
  }
}

// ---- Real peers: kdig (Knot) and nsupdate (BIND) sign, we verify and answer. ----

struct Peer {
  pid_t pid = -1;
  std::string out_path;

  // Runs argv with `input` on stdin and stdout+stderr to a temp file.
  static Peer Start(const std::vector<std::string>& argv, const std::string& input) {
    Peer p;
    char tmpl[] = "/tmp/berth-tsig-peer-XXXXXX";
    int out = mkstemp(tmpl);
    p.out_path = tmpl;
    int in_pipe[2];
    if (out < 0 || pipe(in_pipe) != 0) return p;
    p.pid = fork();
    if (p.pid == 0) {
      dup2(in_pipe[0], 0);
      dup2(out, 1);
      dup2(out, 2);
      close(in_pipe[0]);
      close(in_pipe[1]);
      std::vector<char*> args;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execvp(args[0], args.data());
      _exit(127);
    }
    close(in_pipe[0]);
    close(out);
    if (!input.empty()) (void)!write(in_pipe[1], input.data(), input.size());
    close(in_pipe[1]);
    return p;
  }

  // Exit code, or -1 when it had to be killed after `timeout`.
  int Wait(std::chrono::milliseconds timeout) {
    if (pid <= 0) return -1;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        pid = -1;
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::string Output() const {
    std::ifstream in(out_path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  ~Peer() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    if (!out_path.empty()) unlink(out_path.c_str());
  }
};

// A socket of `type` bound to 127.0.0.1 port 0 (listening when TCP); *port stays 0 on failure.
int BindLoopback(int type, uint16_t* port) {
  int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  *port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && (type != SOCK_STREAM || listen(fd, 1) == 0) &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    *port = ntohs(a.sin_port);
  return fd;
}

struct UdpServer {
  uint16_t port = 0;
  int fd = BindLoopback(SOCK_DGRAM, &port);
  sockaddr_in peer{};

  ~UdpServer() { close(fd); }

  std::optional<std::string> Receive(int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) != 1) return std::nullopt;
    char buf[65535];
    socklen_t len = sizeof peer;
    ssize_t n = recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&peer), &len);
    if (n < 0) return std::nullopt;
    return std::string(buf, static_cast<size_t>(n));
  }
  void Send(const std::string& wire) {
    sendto(fd, wire.data(), wire.size(), 0, reinterpret_cast<sockaddr*>(&peer), sizeof peer);
  }
};

// When BERTH_TSIG_CORPUS is set, captured messages are written there (the fuzz seeds).
void Capture(const std::string& name, const std::string& wire) {
  const char* dir = std::getenv("BERTH_TSIG_CORPUS");
  if (!dir) return;
  std::ofstream(std::string(dir) + "/" + name, std::ios::binary) << wire;
}

// The answer skeleton: the request's header (QR set, ID kept) and its question/zone section.
std::string ResponseSkeleton(const std::string& request, uint16_t rc, uint16_t extra_flags) {
  WireReader r(B(request), request.size(), kHeaderSize);
  uint16_t qd = U16At(request, 4);
  for (uint16_t i = 0; i < qd; ++i) {
    r.SkipName();
    r.Skip(4);
  }
  EXPECT_TRUE(r.ok());
  std::string out = request.substr(0, r.pos());
  uint16_t flags = U16At(request, 2);
  PutU16At(out, 2, static_cast<uint16_t>((flags & 0x7900) | flag::kQR | extra_flags | rc));
  for (size_t at : {6, 8, 10}) PutU16At(out, at, 0);
  return out;
}

uint64_t WallClock() { return static_cast<uint64_t>(std::time(nullptr)); }

// Receives one signed request from a peer and checks it the four ways the brief asks.
TsigVerifyResult ReceiveAndCheck(UdpServer& server, const TsigKey& key, const std::string& capture_name,
                                 std::string* request) {
  auto got = server.Receive(5000);
  EXPECT_TRUE(got.has_value()) << "peer sent nothing";
  if (!got) return {};
  *request = *got;
  Capture(capture_name, *got);
  uint64_t now = WallClock();
  TsigKeyring ring = Ring({key});
  TsigKey wrong_secret = key;
  wrong_secret.secret = "not the secret";
  EXPECT_EQ(Verify(*got, Ring({wrong_secret}), now), TsigStatus::kBadSig);
  EXPECT_EQ(Verify(*got, Ring({Key("hmac-sha256", "someone-else")}), now), TsigStatus::kBadKey);
  EXPECT_EQ(Verify(*got, ring, now + 3600), TsigStatus::kBadTime);
  EXPECT_EQ(Verify(*got, ring, now - 3600), TsigStatus::kBadTime);
  TsigVerifyResult r = VerifyRequest(B(*got), got->size(), ring, now);
  EXPECT_EQ(r.status, TsigStatus::kNoError) << TsigStatusName(r.status);
  EXPECT_EQ(r.original_id, U16At(*got, 0));
  return r;
}

bool HasTsigComplaint(const std::string& out) {
  for (const char* bad : {"BADSIG", "BADKEY", "BADTIME", "failed", "error", "WARNING"})
    if (out.find(bad) != std::string::npos) return true;
  return false;
}

// kdig sends a signed SOA query; answered with `sign_key` (the right key, or not).
void RunKdig(const char* alg, const TsigKey& key, const TsigKey& answer_key, bool expect_accept) {
  UdpServer server;
  ASSERT_NE(server.port, 0);
  std::string key_arg = std::string(alg) + ":" + key.name.ToText() + ":" + kSecret;
  Peer kdig = Peer::Start({"kdig", "-p", std::to_string(server.port), "@127.0.0.1", "-y", key_arg, "example.",
                           "SOA", "+retry=0", "+timeout=2"},
                          "");
  std::string request;
  TsigVerifyResult r = ReceiveAndCheck(server, key, std::string("kdig-") + alg, &request);
  ASSERT_EQ(r.status, TsigStatus::kNoError);
  std::string response = ResponseSkeleton(request, rcode::kNoError, flag::kAA);
  ASSERT_TRUE(SignResponse(response, answer_key, r.mac, WallClock()).ok());
  server.Send(response);
  int rc = kdig.Wait(std::chrono::seconds(8));
  std::string out = kdig.Output();
  if (expect_accept) {
    EXPECT_EQ(rc, 0) << out;
    EXPECT_FALSE(HasTsigComplaint(out)) << out;
    EXPECT_NE(out.find("NOERROR"), std::string::npos) << out;
  } else {
    // kdig still exits 0 here; it says so in a warning.
    EXPECT_NE(out.find("failed to verify TSIG"), std::string::npos) << "rc " << rc << ": " << out;
  }
}

TEST(TsigPeers, KdigEveryAlgorithm) {
  for (const char* alg : kAlgNames) {
    SCOPED_TRACE(alg);
    TsigKey key = Key(alg, std::string(alg) == "hmac-sha256" ? "testkey" : (std::string("testkey-") + alg).c_str());
    RunKdig(alg, key, key, true);
  }
}

// The peer's check is real: an answer signed with another secret is refused.
TEST(TsigPeers, KdigRejectsAnswerWithWrongSecret) {
  TsigKey key = Key("hmac-sha256");
  TsigKey wrong = key;
  wrong.secret = "not the secret";
  RunKdig("hmac-sha256", key, wrong, false);
}

// Error answers as kdig sees them: an unsigned BADKEY (our AppendUnsignedTsigError) and a
// signed BADTIME carrying our clock (SignResponse with the error).
TEST(TsigPeers, KdigSeesBadKeyAndBadTime) {
  for (bool bad_key : {true, false}) {
    SCOPED_TRACE(bad_key ? "BADKEY" : "BADTIME");
    TsigKey key = Key("hmac-sha256", bad_key ? "unknown-key" : "testkey");
    UdpServer server;
    ASSERT_NE(server.port, 0);
    Peer kdig = Peer::Start({"kdig", "-p", std::to_string(server.port), "@127.0.0.1", "-y",
                             "hmac-sha256:" + key.name.ToText() + ":" + kSecret, "example.", "SOA", "+retry=0",
                             "+timeout=2"},
                            "");
    auto request = server.Receive(5000);
    ASSERT_TRUE(request.has_value());
    uint64_t our_clock = WallClock() + (bad_key ? 0 : 3600);
    TsigKeyring ring = Ring({Key()});  // r.key points into it
    TsigVerifyResult r = VerifyRequest(B(*request), request->size(), ring, our_clock);
    ASSERT_EQ(r.status, bad_key ? TsigStatus::kBadKey : TsigStatus::kBadTime);
    std::string response = ResponseSkeleton(*request, rcode::kNotAuth, 0);
    if (bad_key) {
      ASSERT_TRUE(AppendUnsignedTsigError(response, r, our_clock, TsigErrorCode(r.status)).ok());
    } else {
      ASSERT_TRUE(SignResponse(response, *r.key, r.mac, r.time_signed, rcode::kBadTime, our_clock).ok());
    }
    server.Send(response);
    kdig.Wait(std::chrono::seconds(8));
    std::string out = kdig.Output();
    EXPECT_NE(out.find(bad_key ? "BADKEY" : "BADTIME"), std::string::npos) << out;
    if (!bad_key) {
      EXPECT_EQ(out.find("failed to verify"), std::string::npos) << out;
    }
  }
}

// nsupdate sends a signed UPDATE; answered with `answer_rcode`, signed right or not. An
// empty `expect_output` means success is expected (exit 0).
void RunNsupdate(uint16_t answer_rcode, bool sign_answer_right, const std::string& expect_output) {
  TsigKey key = Key("hmac-sha512");
  UdpServer server;
  ASSERT_NE(server.port, 0);
  std::string script = "server 127.0.0.1 " + std::to_string(server.port) +
                       "\nzone example.\nupdate add x.example. 60 A 192.0.2.1\nsend\n";
  Peer nsupdate = Peer::Start({"nsupdate", "-t", "4", "-u", "2", "-r", "0", "-y",
                               std::string("hmac-sha512:testkey:") + kSecret},
                              script);
  std::string request;
  TsigVerifyResult r = ReceiveAndCheck(server, key, "nsupdate-hmac-sha512", &request);
  ASSERT_EQ(r.status, TsigStatus::kNoError);
  EXPECT_EQ((U16At(request, 2) >> 11) & 0xF, opcode::kUpdate);
  std::string response = ResponseSkeleton(request, answer_rcode, 0);
  TsigKey answer_key = key;
  if (!sign_answer_right) answer_key.secret = "not the secret";
  ASSERT_TRUE(SignResponse(response, answer_key, r.mac, WallClock()).ok());
  server.Send(response);
  int rc = nsupdate.Wait(std::chrono::seconds(8));
  std::string out = nsupdate.Output();
  if (expect_output.empty()) {
    EXPECT_EQ(rc, 0) << out;
  } else {
    EXPECT_NE(rc, 0) << out;
    EXPECT_NE(out.find(expect_output), std::string::npos) << out;
  }
}

TEST(TsigPeers, NsupdateAcceptsSignedNoError) { RunNsupdate(rcode::kNoError, true, ""); }
TEST(TsigPeers, NsupdateRejectsWrongSignature) { RunNsupdate(rcode::kNoError, false, "tsig verify failure"); }
TEST(TsigPeers, NsupdateSeesRefused) { RunNsupdate(rcode::kRefused, true, "update failed: REFUSED"); }

// A TCP listener for one AXFR: the peer checks the TSIGs of our multi-message answer.
struct TcpServer {
  uint16_t port = 0;
  int fd = BindLoopback(SOCK_STREAM, &port);

  ~TcpServer() { close(fd); }

  // Accepts one connection (bounded wait); -1 on timeout.
  int Accept(int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) != 1) return -1;
    return accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
  }
};

bool ReadFull(int fd, char* buf, size_t n, int timeout_ms) {
  for (size_t got = 0; got < n;) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) != 1) return false;
    ssize_t r = read(fd, buf + got, n - got);
    if (r <= 0) return false;
    got += static_cast<size_t>(r);
  }
  return true;
}

void SendFramed(int fd, const std::string& wire) {
  std::string framed(2, '\0');
  PutU16At(framed, 0, static_cast<uint16_t>(wire.size()));
  framed += wire;
  EXPECT_EQ(write(fd, framed.data(), framed.size()), static_cast<ssize_t>(framed.size()));
}

std::string SoaRdata() {
  std::string rdata(Name::FromText("ns.example.")->wire());
  rdata += Name::FromText("host.example.")->wire();
  for (int i = 0; i < 5; ++i) rdata += std::string("\x00\x00\x0e\x10", 4);
  return rdata;
}

// The transfer: SOA, `n` A records one per message, SOA; every `sign_every`th message
// signed (plus the first and last). A non-zero `tamper_at` alters that message after signing.
// kdig (Knot 3.2) only checks the first message of a transfer; dig (BIND) checks the chain.
int RunAxfr(const char* peer, size_t n, size_t sign_every, size_t tamper_at, std::string* out) {
  TsigKey key = Key("hmac-sha256");
  TcpServer server;
  EXPECT_NE(server.port, 0);
  std::string key_arg = std::string("hmac-sha256:testkey:") + kSecret;
  bool dig = std::string(peer) == "dig";
  Peer kdig = Peer::Start({peer, "-p", std::to_string(server.port), "@127.0.0.1", "-y", key_arg, "example.",
                           "AXFR", dig ? "+tries=1" : "+retry=0", dig ? "+time=2" : "+timeout=2"},
                          "");
  int conn = server.Accept(5000);
  EXPECT_GE(conn, 0) << "kdig did not connect";
  if (conn < 0) return -1;
  char len_buf[2];
  std::string request;
  if (ReadFull(conn, len_buf, 2, 3000)) {
    request.resize(static_cast<uint8_t>(len_buf[0]) << 8 | static_cast<uint8_t>(len_buf[1]));
    if (!ReadFull(conn, request.data(), request.size(), 3000)) request.clear();
  }
  Capture("kdig-axfr-hmac-sha256", request);
  TsigVerifyResult r = VerifyRequest(B(request), request.size(), Ring({key}), WallClock());
  EXPECT_EQ(r.status, TsigStatus::kNoError) << TsigStatusName(r.status);
  TsigStreamSigner signer(key, r.mac);
  for (size_t i = 0; i < n + 2; ++i) {
    Message m;
    m.id = U16At(request, 0);
    m.flags = flag::kQR | flag::kAA;
    if (i == 0) m.questions.push_back({*Name::FromText("example."), type::kAXFR, cls::kIN});
    if (i == 0 || i == n + 1) {
      m.answers.push_back({*Name::FromText("example."), type::kSOA, cls::kIN, 3600, SoaRdata()});
    } else {
      std::string a("\xc0\x00\x02", 3);
      a.push_back(static_cast<char>(i));
      m.answers.push_back({*Name::FromText("h" + std::to_string(i) + ".example."), type::kA, cls::kIN, 60, a});
    }
    std::string wire = m.Build();
    EXPECT_TRUE(signer.Add(wire, WallClock(), i % sign_every == 0 || i == n + 1).ok());
    if (tamper_at != 0 && i == tamper_at) wire[13] ^= 1;  // the owner name of the answer
    SendFramed(conn, wire);
  }
  int rc = kdig.Wait(std::chrono::seconds(8));
  close(conn);
  *out = kdig.Output();
  return rc;
}

TEST(TsigPeers, AxfrStreamAcceptedByKdigAndDig) {
  for (const char* peer : {"kdig", "dig"}) {
    SCOPED_TRACE(peer);
    std::string out;
    int rc = RunAxfr(peer, 20, 7, 0, &out);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_FALSE(HasTsigComplaint(out)) << out;
    EXPECT_NE(out.find("h20.example."), std::string::npos) << out;
  }
}

// An altered unsigned message (2), signed message (7) or last message (21) breaks the chain.
TEST(TsigPeers, DigRejectsTamperedAxfrStream) {
  for (size_t at : {2, 7, 21}) {
    std::string out;
    RunAxfr("dig", 20, 7, at, &out);  // dig exits 0 but says so
    EXPECT_NE(out.find("tsig verify failure"), std::string::npos) << "message " << at << ": " << out;
  }
}

}  // namespace
}  // namespace berth::dns
