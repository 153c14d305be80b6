// The `ddns:` section of berthd's config: providers with their credentials, the records each job
// keeps pointing at this host, how the address is detected, and notification hooks. Parsed by
// ParseDdnsConfig (called from config/config.cc with its error formatter). Plain values:
// thread-compatible. Credentials live in Credential, whose text form never shows the secret.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/net_address.h"
#include "core/status.h"
#include "dns/tsig/tsig.h"
#include "dns/wire/name.h"

namespace YAML {
class Node;
class Mark;
}  // namespace YAML

namespace berth::ddns {

// A secret from the config (API token, password, key secret). reveal() is for building the
// request that needs it; everything else (logs, API, operator<<) sees "<redacted>".
class Credential {
 public:
  Credential() = default;
  explicit Credential(std::string value) : value_(std::move(value)) {}
  const std::string& reveal() const { return value_; }
  bool empty() const { return value_.empty(); }
  std::string ToString() const { return value_.empty() ? "" : "<redacted>"; }
  bool operator==(const Credential&) const = default;

 private:
  std::string value_;
};

enum class ProviderType : uint8_t { kRfc2136, kDyndns2, kCloudflare, kDnspod, kAlidns, kWebhook };
// "rfc2136", "dyndns2", "cloudflare", "dnspod", "alidns", "webhook".
std::string_view ProviderTypeName(ProviderType type);
// The inverse of ProviderTypeName; nullopt for anything else.
std::optional<ProviderType> ProviderTypeFromText(std::string_view text);

// An HTTP request whose url, header values and body are templates (ddns/template.h).
struct HookRequest {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool operator==(const HookRequest&) const = default;
};

struct ProviderConfig {
  std::string name;
  ProviderType type = ProviderType::kRfc2136;
  // HTTP providers: API root; defaults to the provider's public endpoint (see docs/ddns.md).
  std::string base_url;
  std::string ca_file;  // https: extra CA bundle (PEM) to trust, e.g. a test CA
  std::chrono::milliseconds timeout{10'000};
  // rfc2136
  std::optional<SocketAddress> server;
  std::optional<dns::TsigKey> tsig;
  // dyndns2: username/password; dnspod: id/token; cloudflare: token; alidns: access key id/secret
  std::string username;
  Credential password;
  Credential token;
  bool proxied = false;  // cloudflare: orange cloud for created/updated records
  HookRequest webhook;   // webhook: the request sent per name
  bool operator==(const ProviderConfig&) const = default;
};

struct SourceConfig {
  enum class Kind : uint8_t { kInterface, kUrls, kCmd };
  Kind kind = Kind::kCmd;
  std::string interface;        // kInterface: interface name; "" = any interface
  std::string match;            // kInterface: regex the address text must match ("" = any)
  uint32_t index = 0;           // kInterface: which of the matching addresses (kernel order)
  bool allow_private = false;   // kInterface: also RFC 1918 / CGNAT / ULA addresses
  std::vector<std::string> urls;  // kUrls: tried in order
  std::string cmd;              // kCmd: run with /bin/sh -c, the first address printed wins
  std::chrono::milliseconds timeout{5'000};  // per URL / command
  bool operator==(const SourceConfig&) const = default;
};

struct RecordConfig {
  std::string job;       // name in the API; default "<provider>-<index in records>"
  std::string provider;  // a ProviderConfig name
  dns::Name zone;
  std::vector<dns::Name> names;  // each inside zone
  uint16_t type = 1;             // A (1) or AAAA (28)
  uint32_t ttl = 300;
  SourceConfig source;
  bool operator==(const RecordConfig&) const = default;
};

struct NotifyConfig {
  HookRequest request;
  bool on_change = true;
  bool on_failure = true;
  bool operator==(const NotifyConfig&) const = default;
};

struct DdnsConfig {
  std::chrono::milliseconds interval{300'000};
  uint32_t recheck_every = 6;  // re-read the provider's records every N runs without a change
  std::chrono::milliseconds retry_base{5'000};  // first retry after a failure (before jitter)
  std::chrono::milliseconds retry_max{600'000};
  uint32_t failure_threshold = 3;  // consecutive failures before a failure notification
  std::vector<ProviderConfig> providers;
  std::vector<RecordConfig> records;
  std::vector<NotifyConfig> notify;

  bool empty() const { return providers.empty() && records.empty(); }
  const ProviderConfig* FindProvider(std::string_view name) const;
  bool operator==(const DdnsConfig&) const = default;
};

// What the caller's config parser lends us, so errors read like the rest of the file
// ("file:line:column: key 'ddns.records[0].type': reason") and durations parse alike.
struct YamlContext {
  std::function<Status(const YAML::Mark& mark, std::string_view key, std::string_view reason)> error;
  std::function<Result<std::chrono::milliseconds>(std::string_view)> parse_duration;
};

// Parses the mapping under `ddns:`. kInvalidArgument (through ctx.error) for unknown keys, an
// unknown provider type, missing or unreadable credentials, bad names/types/TTLs, a record
// naming an unknown provider or a name outside its zone, a template with an unknown variable.
Result<DdnsConfig> ParseDdnsConfig(const YAML::Node& node, const YamlContext& ctx);

}  // namespace berth::ddns
