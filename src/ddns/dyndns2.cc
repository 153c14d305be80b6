// dyndns2 (the DynDNS protocol ddclient and routers speak): GET /nic/update?hostname=&myip=
// with HTTP Basic auth; the first word of the answer says what happened ("good", "nochg",
// "badauth", "nohost", ...). It cannot read records, so every push is an update request.
#include <openssl/evp.h>

#include "ddns/fetch.h"
#include "ddns/provider.h"
#include "http/url.h"

namespace berth::ddns {
namespace {

std::string Base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

class Dyndns2 : public Provider {
 public:
  explicit Dyndns2(ProviderConfig c) : c_(std::move(c)) {}

  Result<Action> Push(const Desired& want) override {
    FetchRequest req;
    req.url = c_.base_url + "/nic/update?hostname=" + http::PercentEncode(BareName(want.name)) +
              "&myip=" + http::PercentEncode(want.address.ToString());
    req.timeout = c_.timeout;
    req.ca_file = c_.ca_file;
    req.headers = {{"Authorization", "Basic " + Base64(c_.username + ":" + c_.password.reveal())},
                   {"User-Agent", "berth-ddns/0.1"}};
    auto r = Fetch(req);
    if (!r.ok()) return r.status().WithContext("dyndns2");
    std::string_view body = r->body;
    std::string_view first = body.substr(0, body.find_first_of(" \r\n"));
    if (first == "good") return Action::kUpdated;
    if (first == "nochg") return Action::kUnchanged;
    std::string line(body.substr(0, std::min<size_t>(body.find('\n'), 200)));
    if (line.empty()) line = "HTTP " + std::to_string(r->status) + " with an empty answer";
    Code code = first == "badauth" || r->status == 401 ? Code::kUnauthenticated
                : first == "nohost" || first == "notfqdn" || first == "numhost" ? Code::kFailedPrecondition
                                                                                 : Code::kUnavailable;
    return Status(code, "dyndns2: " + BareName(want.name) + ": " + line);
  }

 private:
  ProviderConfig c_;
};

}  // namespace

std::unique_ptr<Provider> MakeDyndns2Provider(const ProviderConfig& config) { return std::make_unique<Dyndns2>(config); }

}  // namespace berth::ddns
