// Alibaba Cloud DNS (alidns, API version 2015-01-09): signed GET requests for
// DescribeSubDomainRecords / AddDomainRecord / UpdateDomainRecord. Errors come back as
// {"RequestId", "Code", "Message"} with a 4xx/5xx status.
#include "ddns/alidns.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <ctime>

#include <nlohmann/json.hpp>

#include "auth/secret.h"
#include "ddns/fetch.h"
#include "ddns/provider.h"
#include "dns/wire/types.h"
#include "http/url.h"

namespace berth::ddns {

std::string AlidnsStringToSign(std::string_view method, const std::map<std::string, std::string>& params) {
  std::string query;
  for (const auto& [k, v] : params) {  // std::map: sorted by name, as the signature wants
    if (k == "Signature") continue;
    query += (query.empty() ? "" : "&") + http::PercentEncode(k) + "=" + http::PercentEncode(v);
  }
  return std::string(method) + "&" + http::PercentEncode("/") + "&" + http::PercentEncode(query);
}

std::string AlidnsSignature(std::string_view method, const std::map<std::string, std::string>& params,
                            std::string_view access_key_secret) {
  std::string key = std::string(access_key_secret) + "&";
  std::string data = AlidnsStringToSign(method, params);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &mac_len);
  std::string out(4 * ((mac_len + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac, static_cast<int>(mac_len));
  out.resize(static_cast<size_t>(n));
  return out;
}

namespace {

using nlohmann::json;

class Alidns : public RecordProvider {
 public:
  explicit Alidns(ProviderConfig c) : c_(std::move(c)) {}

 protected:
  Result<std::vector<ExistingRecord>> Get(const Desired& want) override {
    ASSIGN_OR_RETURN(json j, Call({{"Action", "DescribeSubDomainRecords"},
                                   {"SubDomain", BareName(want.name)},
                                   {"DomainName", BareName(want.zone)},
                                   {"Type", dns::TypeToText(want.type)}}));
    std::vector<ExistingRecord> out;
    if (!j.contains("DomainRecords")) return out;
    const json& dr = j["DomainRecords"];
    if (!dr.is_object() || !dr.contains("Record") || !dr["Record"].is_array()) {
      return Unavailable("alidns: DescribeSubDomainRecords: malformed DomainRecords");
    }
    for (const auto& r : dr["Record"]) {
      if (!r.is_object() || !r.contains("RecordId") || !r["RecordId"].is_string() || !r.contains("Value") ||
          !r["Value"].is_string()) {
        return Unavailable("alidns: DescribeSubDomainRecords: malformed record");
      }
      ExistingRecord e{r["RecordId"].get<std::string>(), r["Value"].get<std::string>(), 0};
      if (r.contains("TTL") && r["TTL"].is_number_unsigned()) e.ttl = r["TTL"].get<uint32_t>();
      out.push_back(std::move(e));
    }
    return out;
  }
  Status Create(const Desired& want) override {
    auto p = Fields(want);
    p["Action"] = "AddDomainRecord";
    p["DomainName"] = BareName(want.zone);
    return Call(p).status();
  }
  Status Update(const Desired& want, const ExistingRecord& existing) override {
    auto p = Fields(want);
    p["Action"] = "UpdateDomainRecord";
    p["RecordId"] = existing.id;
    return Call(p).status();
  }

 private:
  static std::map<std::string, std::string> Fields(const Desired& want) {
    return {{"RR", RelativeName(want.name, want.zone)},
            {"Type", dns::TypeToText(want.type)},
            {"Value", want.address.ToString()},
            {"TTL", std::to_string(want.ttl)}};
  }

  Result<json> Call(std::map<std::string, std::string> params) {
    std::string action = params["Action"];
    char stamp[32];
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    ASSIGN_OR_RETURN(std::string nonce, auth::RandomBytes(16));
    params["Format"] = "JSON";
    params["Version"] = "2015-01-09";
    params["AccessKeyId"] = c_.username;
    params["SignatureMethod"] = "HMAC-SHA1";
    params["SignatureVersion"] = "1.0";
    params["SignatureNonce"] = auth::Sha256Hex(nonce).substr(0, 32);
    params["Timestamp"] = stamp;
    params["Signature"] = AlidnsSignature("GET", params, c_.token.reveal());
    std::string query;
    for (const auto& [k, v] : params) query += (query.empty() ? "?" : "&") + http::PercentEncode(k) + "=" + http::PercentEncode(v);
    FetchRequest req;
    req.url = c_.base_url + "/" + query;
    req.timeout = c_.timeout;
    req.ca_file = c_.ca_file;
    req.headers = {{"Accept", "application/json"}};
    auto r = Fetch(req);
    if (!r.ok()) return r.status().WithContext("alidns");
    json j = json::parse(r->body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      return Unavailable("alidns: " + action + ": HTTP " + std::to_string(r->status) + " without a JSON answer");
    }
    if (r->status != 200 || j.contains("Code")) {
      std::string code = j.contains("Code") && j["Code"].is_string() ? j["Code"].get<std::string>() : "HTTP " + std::to_string(r->status);
      std::string message = j.contains("Message") && j["Message"].is_string() ? j["Message"].get<std::string>() : "";
      bool auth = code.starts_with("InvalidAccessKeyId") || code == "SignatureDoesNotMatch" ||
                  code == "IncompleteSignature" || code == "Forbidden.RAM";
      return Status(auth ? Code::kUnauthenticated : Code::kUnavailable, "alidns: " + action + ": " + code + ": " + message);
    }
    return j;
  }

  ProviderConfig c_;
};

}  // namespace

std::unique_ptr<Provider> MakeAlidnsProvider(const ProviderConfig& config) { return std::make_unique<Alidns>(config); }

}  // namespace berth::ddns
