#include "ddns/provider.h"

namespace berth::ddns {

std::string_view ActionName(Action action) {
  switch (action) {
    case Action::kUnchanged: return "unchanged";
    case Action::kCreated: return "created";
    case Action::kUpdated: return "updated";
  }
  return "?";
}

bool RecordProvider::Matches(const Desired& want, const ExistingRecord& existing) const {
  auto ip = IpAddress::Parse(existing.value);
  return ip.ok() && *ip == want.address && existing.ttl == want.ttl;
}

Result<Action> RecordProvider::Push(const Desired& want) {
  ASSIGN_OR_RETURN(std::vector<ExistingRecord> records, Get(want));
  if (records.empty()) {
    RETURN_IF_ERROR(Create(want));
    return Action::kCreated;
  }
  if (records.size() == 1 && Matches(want, records.front())) return Action::kUnchanged;
  for (const auto& r : records)
    if (Matches(want, r) && records.size() > 1) return Action::kUnchanged;  // ours is among several
  RETURN_IF_ERROR(Update(want, records.front()));
  return Action::kUpdated;
}

Result<std::unique_ptr<Provider>> MakeProvider(const ProviderConfig& c) {
  auto need = [&](bool ok, const char* what) {
    return ok ? Status::Ok() : InvalidArgument("provider '" + c.name + "' (" + std::string(ProviderTypeName(c.type)) + "): missing " + what);
  };
  switch (c.type) {
    case ProviderType::kRfc2136:
      RETURN_IF_ERROR(need(c.server.has_value(), "server"));
      return MakeRfc2136Provider(c);
    case ProviderType::kDyndns2:
      RETURN_IF_ERROR(need(!c.base_url.empty() && !c.username.empty() && !c.password.empty(), "base_url, username or password"));
      return MakeDyndns2Provider(c);
    case ProviderType::kCloudflare:
      RETURN_IF_ERROR(need(!c.base_url.empty() && !c.token.empty(), "base_url or token"));
      return MakeCloudflareProvider(c);
    case ProviderType::kDnspod:
      RETURN_IF_ERROR(need(!c.base_url.empty() && !c.username.empty() && !c.token.empty(), "base_url, id or token"));
      return MakeDnspodProvider(c);
    case ProviderType::kAlidns:
      RETURN_IF_ERROR(need(!c.base_url.empty() && !c.username.empty() && !c.token.empty(),
                           "base_url, access_key_id or access_key_secret"));
      return MakeAlidnsProvider(c);
    case ProviderType::kWebhook:
      RETURN_IF_ERROR(need(!c.webhook.url.empty(), "url"));
      return MakeWebhookProvider(c);
  }
  return InvalidArgument("unknown provider type");
}

std::string BareName(const dns::Name& name) {
  std::string text = name.ToText();
  if (text.size() > 1 && text.back() == '.') text.pop_back();
  return text;
}

std::string RelativeName(const dns::Name& name, const dns::Name& zone) {
  if (name == zone) return "@";
  std::string full = BareName(name);
  size_t keep = full.size() - BareName(zone).size() - 1;
  return full.substr(0, keep);
}

}  // namespace berth::ddns
