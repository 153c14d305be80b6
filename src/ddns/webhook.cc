// The generic webhook provider: one templated HTTP request per name (method, URL, headers,
// body with {{address}}, {{name}}, {{zone}}, {{type}}, {{ttl}}, {{job}}); any 2xx is success.
#include "ddns/hook.h"
#include "ddns/provider.h"
#include "dns/wire/types.h"

namespace berth::ddns {

namespace {

class Webhook : public Provider {
 public:
  explicit Webhook(ProviderConfig c) : c_(std::move(c)) {}

  Result<Action> Push(const Desired& want) override {
    TemplateVars vars = {{"address", want.address.ToString()}, {"name", BareName(want.name)},
                         {"zone", BareName(want.zone)},        {"type", dns::TypeToText(want.type)},
                         {"ttl", std::to_string(want.ttl)},    {"job", want.job}};
    RETURN_IF_ERROR(SendHook(c_.webhook, vars, c_.timeout, "webhook " + c_.name));
    return Action::kUpdated;
  }

 private:
  ProviderConfig c_;
};

}  // namespace

std::unique_ptr<Provider> MakeWebhookProvider(const ProviderConfig& config) { return std::make_unique<Webhook>(config); }

}  // namespace berth::ddns
