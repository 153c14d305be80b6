// Cloudflare API v4: Bearer token; zone id looked up by name (GET /zones?name=), records listed
// by type and name, created with POST and replaced with PUT. Every answer is the v4 envelope
// {"success", "errors": [{"code", "message"}], "result"}; TTL 1 means "automatic".
#include <nlohmann/json.hpp>

#include "ddns/fetch.h"
#include "ddns/provider.h"
#include "dns/wire/types.h"
#include "http/url.h"

namespace berth::ddns {
namespace {

using nlohmann::json;

class Cloudflare : public RecordProvider {
 public:
  explicit Cloudflare(ProviderConfig c) : c_(std::move(c)) {}

 protected:
  Result<std::vector<ExistingRecord>> Get(const Desired& want) override {
    ASSIGN_OR_RETURN(std::string zone_id, ZoneId(want.zone));
    ASSIGN_OR_RETURN(json result, Call("GET", "/zones/" + zone_id + "/dns_records?type=" + dns::TypeToText(want.type) +
                                                  "&name=" + http::PercentEncode(BareName(want.name)) + "&per_page=100",
                                       ""));
    std::vector<ExistingRecord> out;
    if (!result.is_array()) return Unavailable("cloudflare: dns_records answer without a result list");
    for (const auto& r : result) {
      if (!r.is_object() || !r.contains("id") || !r["id"].is_string() || !r.contains("content") || !r["content"].is_string()) {
        return Unavailable("cloudflare: malformed record in dns_records answer");
      }
      ExistingRecord e{r["id"].get<std::string>(), r["content"].get<std::string>(), 0};
      if (r.contains("ttl") && r["ttl"].is_number_unsigned()) e.ttl = r["ttl"].get<uint32_t>();
      proxied_[e.id] = r.value("proxied", false);
      out.push_back(std::move(e));
    }
    return out;
  }
  Status Create(const Desired& want) override {
    ASSIGN_OR_RETURN(std::string zone_id, ZoneId(want.zone));
    return Call("POST", "/zones/" + zone_id + "/dns_records", Body(want).dump()).status();
  }
  Status Update(const Desired& want, const ExistingRecord& existing) override {
    ASSIGN_OR_RETURN(std::string zone_id, ZoneId(want.zone));
    return Call("PUT", "/zones/" + zone_id + "/dns_records/" + http::PercentEncode(existing.id), Body(want).dump()).status();
  }
  bool Matches(const Desired& want, const ExistingRecord& existing) const override {
    auto ip = IpAddress::Parse(existing.value);
    auto p = proxied_.find(existing.id);
    bool proxied = p != proxied_.end() && p->second;
    // Proxied records always report TTL 1 (automatic): only the address and the flag count.
    bool ttl_ok = c_.proxied || existing.ttl == want.ttl;
    return ip.ok() && *ip == want.address && ttl_ok && proxied == c_.proxied;
  }

 private:
  json Body(const Desired& want) const {
    return {{"type", dns::TypeToText(want.type)}, {"name", BareName(want.name)}, {"content", want.address.ToString()},
            {"ttl", want.ttl}, {"proxied", c_.proxied}};
  }

  Result<std::string> ZoneId(const dns::Name& zone) {
    std::string key = BareName(zone.Lowercased());
    if (auto it = zone_ids_.find(key); it != zone_ids_.end()) return it->second;
    ASSIGN_OR_RETURN(json result, Call("GET", "/zones?name=" + http::PercentEncode(key), ""));
    if (!result.is_array() || result.empty() || !result[0].is_object() || !result[0].contains("id") ||
        !result[0]["id"].is_string()) {
      return FailedPrecondition("cloudflare: zone '" + key + "' not found for this token");
    }
    zone_ids_[key] = result[0]["id"].get<std::string>();
    return zone_ids_[key];
  }

  // One API call; the envelope's errors become the Status, with Cloudflare's own messages.
  Result<json> Call(const std::string& method, const std::string& path, const std::string& body) {
    FetchRequest req;
    req.method = method;
    req.url = c_.base_url + path;
    req.body = body;
    req.content_type = "application/json";
    req.timeout = c_.timeout;
    req.ca_file = c_.ca_file;
    req.headers = {{"Authorization", "Bearer " + c_.token.reveal()}, {"Accept", "application/json"}};
    auto r = Fetch(req);
    if (!r.ok()) return r.status().WithContext("cloudflare");
    json j = json::parse(r->body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("success")) {
      return Unavailable("cloudflare: " + method + " " + RedactUrl(req.url) + ": HTTP " + std::to_string(r->status) +
                         " without a v4 envelope");
    }
    if (j["success"] != true) {
      std::string msg;
      if (j.contains("errors") && j["errors"].is_array()) {
        for (const auto& e : j["errors"]) {
          if (!e.is_object()) continue;
          msg += (msg.empty() ? "" : "; ") + (e.contains("code") ? e["code"].dump() + " " : std::string()) +
                 (e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>() : "");
        }
      }
      if (msg.empty()) msg = "HTTP " + std::to_string(r->status);
      Code code = r->status == 401 || r->status == 403 ? Code::kUnauthenticated : Code::kUnavailable;
      return Status(code, "cloudflare: " + method + " " + RedactUrl(req.url) + ": " + msg);
    }
    return j.contains("result") ? j["result"] : json();
  }

  ProviderConfig c_;
  std::map<std::string, std::string> zone_ids_;
  std::map<std::string, bool> proxied_;
};

}  // namespace

std::unique_ptr<Provider> MakeCloudflareProvider(const ProviderConfig& config) {
  return std::make_unique<Cloudflare>(config);
}

}  // namespace berth::ddns
