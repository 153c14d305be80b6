#include "daemon/dns_control.h"

#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>
#include <future>

#include "dns/query/query.h"
#include "dns/wire/types.h"

namespace berth::daemon {
namespace {

namespace fs = std::filesystem;

dns::Name N(std::string_view t) { return *dns::Name::FromText(t); }

void Put16(std::string& s, uint16_t v) {
  s.push_back(static_cast<char>(v >> 8));
  s.push_back(static_cast<char>(v));
}

// An UPDATE of `zone` adding `owner` A 10.0.0.<last>.
std::string UpdateAdd(std::string_view zone, std::string_view owner, uint8_t last, uint16_t id = 42) {
  std::string m;
  Put16(m, id);
  Put16(m, static_cast<uint16_t>(dns::opcode::kUpdate << 11));
  Put16(m, 1);  // zone
  Put16(m, 0);  // prerequisites
  Put16(m, 1);  // updates
  Put16(m, 0);
  m += N(zone).wire();
  Put16(m, dns::type::kSOA);
  Put16(m, dns::cls::kIN);
  m += N(owner).wire();
  Put16(m, dns::type::kA);
  Put16(m, dns::cls::kIN);
  Put16(m, 0);
  Put16(m, 60);
  Put16(m, 4);
  m += std::string("\x0a\x00\x00", 3) + static_cast<char>(last);
  return m;
}

std::string Query(std::string_view name, uint16_t type, uint16_t id = 7) {
  std::string m;
  Put16(m, id);
  Put16(m, 0);
  Put16(m, 1);
  Put16(m, 0);
  Put16(m, 0);
  Put16(m, 0);
  m += N(name).wire();
  Put16(m, type);
  Put16(m, dns::cls::kIN);
  return m;
}

uint16_t Rcode(const std::string& r) { return static_cast<uint8_t>(r[3]) & 0xF; }

class DnsControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("berth-ctl-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    auto s = store::Store::Open(dir_.string());
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
    zones_ = std::make_unique<ZoneService>(*store_, table_);
    ASSERT_TRUE(zones_->Import(N("example."), "$ORIGIN example.\n$TTL 300\n@ SOA ns hostmaster 1 7200 900 "
                                              "1209600 60\n@ NS ns\nns A 192.0.2.1\n")
                    .ok());
    auto key = dns::TsigKey::Make("ddns-key.", "hmac-sha256", "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0");
    ASSERT_TRUE(key.ok());
    key_ = *key;
    auto ring = dns::TsigKeyring::Make({key_});
    ring_ = std::make_shared<dns::TsigKeyring>(*ring);
    DnsControlPolicy policy;
    policy.keyring = [this] { return ring_; };
    policy.may_update = [](const dns::Name& key, const dns::Name& zone, const dns::Name& owner, uint16_t type) {
      return key == N("ddns-key.") && zone == N("example.") && owner.IsSubdomainOf(N("dyn.example.")) &&
             type == dns::type::kA;
    };
    policy.may_transfer = [](const dns::Name&, const IpAddress&, const dns::Name* key) { return key != nullptr; };
    control_ = std::make_unique<DnsControl>(*zones_, table_, policy, 1232);
  }
  void TearDown() override {
    control_.reset();
    zones_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }
  std::vector<std::string> Send(const std::string& msg, bool tcp = false) {
    dns::ParsedQuery q;
    EXPECT_EQ(dns::ParseQuery(reinterpret_cast<const uint8_t*>(msg.data()), msg.size(), &q), dns::ParseOutcome::kOk);
    std::promise<std::vector<std::string>> p;
    auto f = p.get_future();
    control_->Handle(q, msg, {SocketAddress(IpAddress::V4({127, 0, 0, 1}), 5353), tcp},
                     [&p](std::vector<std::string> r) { p.set_value(std::move(r)); });
    return f.get();
  }
  std::string Signed(std::string msg) {
    EXPECT_TRUE(dns::SignRequest(msg, key_, static_cast<uint64_t>(std::time(nullptr))).ok());
    return msg;
  }
  uint32_t Serial() { return table_.Get()->Get(N("example."))->serial(); }

  fs::path dir_;
  std::unique_ptr<store::Store> store_;
  dns::ZoneTable table_;
  std::unique_ptr<ZoneService> zones_;
  dns::TsigKey key_;
  std::shared_ptr<dns::TsigKeyring> ring_;
  std::unique_ptr<DnsControl> control_;
};

TEST_F(DnsControlTest, SignedUpdateInScopeLandsAndAnswerIsSigned) {
  std::string req = Signed(UpdateAdd("example.", "h1.dyn.example.", 5));
  auto r = Send(req);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(Rcode(r[0]), dns::rcode::kNoError);
  // The answer verifies with the request's MAC.
  auto v = dns::VerifyRequest(reinterpret_cast<const uint8_t*>(req.data()), req.size(), *ring_,
                              static_cast<uint64_t>(std::time(nullptr)));
  auto resp = dns::VerifyResponse(reinterpret_cast<const uint8_t*>(r[0].data()), r[0].size(), key_, v.mac,
                                  static_cast<uint64_t>(std::time(nullptr)));
  EXPECT_EQ(resp.status, dns::TsigStatus::kNoError);
  EXPECT_EQ(Serial(), 2u);
  EXPECT_NE(table_.Get()->Get(N("example."))->Find(N("h1.dyn.example.").wire()), nullptr);
  EXPECT_EQ(control_->stats().updates.load(), 1u);
}

TEST_F(DnsControlTest, UpdatesOutsideScopeUnsignedOrForeignZonesChangeNothing) {
  EXPECT_EQ(Rcode(Send(Signed(UpdateAdd("example.", "www.example.", 5)))[0]), dns::rcode::kRefused);
  EXPECT_EQ(Rcode(Send(UpdateAdd("example.", "h1.dyn.example.", 5))[0]), dns::rcode::kRefused);
  EXPECT_EQ(Rcode(Send(Signed(UpdateAdd("other.", "h1.dyn.other.", 5)))[0]), dns::rcode::kNotAuth);
  EXPECT_EQ(Rcode(Send(Signed(UpdateAdd("example.", "h1.dyn.other.", 5)))[0]), dns::rcode::kNotZone);
  EXPECT_EQ(Serial(), 1u);
}

TEST_F(DnsControlTest, BadKeysGetNotAuthWithTheTsigError) {
  auto other = dns::TsigKey::Make("ddns-key.", "hmac-sha256", "b3RoZXJvdGhlcm90aGVyb3RoZXI=");
  std::string msg = UpdateAdd("example.", "h1.dyn.example.", 5);
  ASSERT_TRUE(dns::SignRequest(msg, *other, static_cast<uint64_t>(std::time(nullptr))).ok());
  auto r = Send(msg);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(Rcode(r[0]), dns::rcode::kNotAuth);
  auto unknown = dns::TsigKey::Make("nobody.", "hmac-sha256", "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0");
  msg = UpdateAdd("example.", "h1.dyn.example.", 5);
  ASSERT_TRUE(dns::SignRequest(msg, *unknown, static_cast<uint64_t>(std::time(nullptr))).ok());
  EXPECT_EQ(Rcode(Send(msg)[0]), dns::rcode::kNotAuth);
  // Stale time: BADTIME, signed.
  msg = UpdateAdd("example.", "h1.dyn.example.", 5);
  ASSERT_TRUE(dns::SignRequest(msg, key_, static_cast<uint64_t>(std::time(nullptr)) - 3600).ok());
  EXPECT_EQ(Rcode(Send(msg)[0]), dns::rcode::kNotAuth);
  EXPECT_EQ(Serial(), 1u);
  EXPECT_EQ(control_->stats().tsig_failures.load(), 3u);
}

TEST_F(DnsControlTest, TransfersNeedTheAclAndStreamTheZone) {
  EXPECT_EQ(Rcode(Send(Query("example.", dns::type::kAXFR), true)[0]), dns::rcode::kRefused);
  auto r = Send(Signed(Query("example.", dns::type::kAXFR)), true);
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(Rcode(r[0]), dns::rcode::kNoError);
  EXPECT_EQ(Rcode(Send(Signed(Query("nope.", dns::type::kAXFR)), true)[0]), dns::rcode::kNotAuth);
}

TEST_F(DnsControlTest, SignedQueriesAreAnsweredAndSigned) {
  std::string req = Signed(Query("ns.example.", dns::type::kA));
  auto r = Send(req);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(Rcode(r[0]), dns::rcode::kNoError);
  EXPECT_GT(static_cast<uint8_t>(r[0][7]), 0);  // one answer
  auto v = dns::VerifyRequest(reinterpret_cast<const uint8_t*>(req.data()), req.size(), *ring_,
                              static_cast<uint64_t>(std::time(nullptr)));
  EXPECT_EQ(dns::VerifyResponse(reinterpret_cast<const uint8_t*>(r[0].data()), r[0].size(), key_, v.mac,
                                static_cast<uint64_t>(std::time(nullptr)))
                .status,
            dns::TsigStatus::kNoError);
}

}  // namespace
}  // namespace berth::daemon
