// DNSPod (dnsapi.cn): form-encoded POSTs to Record.List / Record.Create / Record.Modify with
// login_token "ID,TOKEN" and format=json. Every answer carries {"status": {"code", "message"}};
// code "1" is success and Record.List answers "10" when there is no such record.
#include <nlohmann/json.hpp>

#include "ddns/fetch.h"
#include "ddns/provider.h"
#include "dns/wire/types.h"
#include "http/url.h"

namespace berth::ddns {
namespace {

using nlohmann::json;

class Dnspod : public RecordProvider {
 public:
  explicit Dnspod(ProviderConfig c) : c_(std::move(c)) {}

 protected:
  Result<std::vector<ExistingRecord>> Get(const Desired& want) override {
    ASSIGN_OR_RETURN(json j, Call("Record.List", want, {{"sub_domain", RelativeName(want.name, want.zone)},
                                                        {"record_type", dns::TypeToText(want.type)}}));
    std::vector<ExistingRecord> out;
    if (!j.contains("records")) return out;  // code 10: none
    if (!j["records"].is_array()) return Unavailable("dnspod: Record.List: 'records' is not a list");
    for (const auto& r : j["records"]) {
      if (!r.is_object() || !r.contains("id") || !r.contains("value") || !r["value"].is_string()) {
        return Unavailable("dnspod: Record.List: malformed record");
      }
      ExistingRecord e;
      e.id = r["id"].is_string() ? r["id"].get<std::string>() : r["id"].dump();
      e.value = r["value"].get<std::string>();
      // DNSPod sends numbers as strings ("600").
      if (r.contains("ttl")) {
        std::string t = r["ttl"].is_string() ? r["ttl"].get<std::string>() : r["ttl"].dump();
        if (!t.empty() && t.size() < 10 && t.find_first_not_of("0123456789") == std::string::npos) e.ttl = std::stoul(t);
      }
      out.push_back(std::move(e));
    }
    return out;
  }
  Status Create(const Desired& want) override { return Call("Record.Create", want, Fields(want)).status(); }
  Status Update(const Desired& want, const ExistingRecord& existing) override {
    auto fields = Fields(want);
    fields.emplace_back("record_id", existing.id);
    return Call("Record.Modify", want, fields).status();
  }

 private:
  using Form = std::vector<std::pair<std::string, std::string>>;
  static Form Fields(const Desired& want) {
    return {{"sub_domain", RelativeName(want.name, want.zone)},
            {"record_type", dns::TypeToText(want.type)},
            {"record_line", "\xE9\xBB\x98\xE8\xAE\xA4"},  // "默认": the default line
            {"value", want.address.ToString()},
            {"ttl", std::to_string(want.ttl)}};
  }

  Result<json> Call(const std::string& action, const Desired& want, const Form& fields) {
    std::string body = "login_token=" + http::PercentEncode(c_.username + "," + c_.token.reveal()) +
                       "&format=json&lang=en&error_on_empty=no&domain=" + http::PercentEncode(BareName(want.zone));
    for (const auto& [k, v] : fields) body += "&" + k + "=" + http::PercentEncode(v);
    FetchRequest req;
    req.method = "POST";
    req.url = c_.base_url + "/" + action;
    req.body = body;
    req.content_type = "application/x-www-form-urlencoded";
    req.timeout = c_.timeout;
    req.ca_file = c_.ca_file;
    // DNSPod asks every client to identify itself with a User-Agent naming the program.
    req.headers = {{"User-Agent", "berth-ddns/0.1 (https://github.com/berth)"}, {"Accept", "application/json"}};
    auto r = Fetch(req);
    if (!r.ok()) return r.status().WithContext("dnspod");
    json j = json::parse(r->body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("status") || !j["status"].is_object()) {
      return Unavailable("dnspod: " + action + ": HTTP " + std::to_string(r->status) + " without a status object");
    }
    const json& st = j["status"];
    std::string code = st.contains("code") ? (st["code"].is_string() ? st["code"].get<std::string>() : st["code"].dump()) : "";
    std::string message = st.contains("message") && st["message"].is_string() ? st["message"].get<std::string>() : "";
    if (code == "1" || (code == "10" && action == "Record.List")) return j;
    Code c = code == "-1" ? Code::kUnauthenticated : Code::kUnavailable;
    return Status(c, "dnspod: " + action + ": code " + code + ": " + message);
  }

  ProviderConfig c_;
};

}  // namespace

std::unique_ptr<Provider> MakeDnspodProvider(const ProviderConfig& config) { return std::make_unique<Dnspod>(config); }

}  // namespace berth::ddns
