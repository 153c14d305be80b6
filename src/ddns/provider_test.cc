#include "ddns/provider.h"

#include <gtest/gtest.h>

#include "ddns/alidns.h"
#include "dns/wire/types.h"

namespace berth::ddns {
namespace {

dns::Name N(const char* text) { return dns::Name::FromText(text).value(); }

// An in-memory provider: the record store the shared Push logic talks to.
class MemoryProvider : public RecordProvider {
 public:
  std::vector<ExistingRecord> records;
  int creates = 0, updates = 0;
  std::string updated_id;

 protected:
  Result<std::vector<ExistingRecord>> Get(const Desired&) override { return records; }
  Status Create(const Desired& want) override {
    ++creates;
    records.push_back({"r" + std::to_string(records.size()), want.address.ToString(), want.ttl});
    return Status::Ok();
  }
  Status Update(const Desired& want, const ExistingRecord& existing) override {
    ++updates;
    updated_id = existing.id;
    for (auto& r : records)
      if (r.id == existing.id) r = {r.id, want.address.ToString(), want.ttl};
    return Status::Ok();
  }
};

TEST(RecordProvider, CreatesUpdatesOrLeavesAlone) {
  MemoryProvider p;
  Desired want{"job", N("example.test."), N("home.example.test."), dns::type::kA, 60,
               IpAddress::Parse("198.51.100.7").value()};
  EXPECT_EQ(*p.Push(want), Action::kCreated);
  EXPECT_EQ(*p.Push(want), Action::kUnchanged);
  EXPECT_EQ(p.creates, 1);
  EXPECT_EQ(p.updates, 0);
  want.address = IpAddress::Parse("198.51.100.8").value();
  EXPECT_EQ(*p.Push(want), Action::kUpdated);
  EXPECT_EQ(p.records[0].value, "198.51.100.8");
  want.ttl = 300;  // a TTL change is a change too
  EXPECT_EQ(*p.Push(want), Action::kUpdated);
  EXPECT_EQ(p.records[0].ttl, 300u);
  // Someone changed it at the provider: repaired.
  p.records[0].value = "203.0.113.1";
  EXPECT_EQ(*p.Push(want), Action::kUpdated);
  EXPECT_EQ(p.updates, 3);
  // Several records, ours among them: left alone; none ours: the first is updated.
  p.records = {{"a", "203.0.113.1", 300}, {"b", "198.51.100.8", 300}};
  EXPECT_EQ(*p.Push(want), Action::kUnchanged);
  p.records = {{"a", "203.0.113.1", 300}, {"b", "203.0.113.2", 300}};
  EXPECT_EQ(*p.Push(want), Action::kUpdated);
  EXPECT_EQ(p.updated_id, "a");
  // An unparsable value at the provider is not ours.
  p.records = {{"a", "not-an-ip", 300}};
  EXPECT_EQ(*p.Push(want), Action::kUpdated);
}

TEST(ProviderNames, BareAndRelative) {
  EXPECT_EQ(BareName(N("home.example.com.")), "home.example.com");
  EXPECT_EQ(RelativeName(N("home.example.com."), N("example.com.")), "home");
  EXPECT_EQ(RelativeName(N("a.b.example.com."), N("example.com.")), "a.b");
  EXPECT_EQ(RelativeName(N("example.com."), N("example.com.")), "@");
}

// The worked example of Alibaba Cloud's RPC signature documentation.
TEST(Alidns, SignatureMatchesTheDocumentedExample) {
  std::map<std::string, std::string> params = {
      {"Format", "XML"},
      {"AccessKeyId", "testid"},
      {"Action", "DescribeDomainRecords"},
      {"SignatureMethod", "HMAC-SHA1"},
      {"DomainName", "example.com"},
      {"SignatureNonce", "f59ed6a9-83fc-473b-9cc6-99c95df3856e"},
      {"SignatureVersion", "1.0"},
      {"Version", "2015-01-09"},
      {"Timestamp", "2016-03-24T16:41:54Z"}};
  EXPECT_EQ(AlidnsStringToSign("GET", params),
            "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeDomainRecords%26DomainName%3Dexample.com%26Format%3DXML%"
            "26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3Df59ed6a9-83fc-473b-9cc6-99c95df3856e%26SignatureVersion%"
            "3D1.0%26Timestamp%3D2016-03-24T16%253A41%253A54Z%26Version%3D2015-01-09");
  EXPECT_EQ(AlidnsSignature("GET", params, "testsecret"), "uRpHwaSEt3J+6KQD//svCh/x+pI=");
  params["Signature"] = "ignored";  // never signs itself
  EXPECT_EQ(AlidnsSignature("GET", params, "testsecret"), "uRpHwaSEt3J+6KQD//svCh/x+pI=");
}

TEST(MakeProvider, RefusesIncompleteSettings) {
  ProviderConfig c;
  c.name = "cf";
  c.type = ProviderType::kCloudflare;
  c.base_url = "https://api.cloudflare.com/client/v4";
  auto p = MakeProvider(c);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("provider 'cf' (cloudflare): missing"), std::string::npos);
  c.token = Credential("t");
  EXPECT_TRUE(MakeProvider(c).ok());
}

}  // namespace
}  // namespace berth::ddns
