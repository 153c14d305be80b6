// Provider: one DNS provider's API behind one interface. A job hands it the record it wants
// (name, type, TTL, address) and gets back what was done. Providers that can read their records
// derive from RecordProvider, where the create / update / leave-alone decision lives once.
// A provider is used by one thread at a time (the updater's); MakeProvider is thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/net_address.h"
#include "core/status.h"
#include "ddns/ddns_config.h"
#include "dns/wire/name.h"

namespace berth::ddns {

struct Desired {
  std::string job;
  dns::Name zone;
  dns::Name name;  // absolute, inside zone
  uint16_t type = 1;
  uint32_t ttl = 300;
  IpAddress address;
};

enum class Action : uint8_t { kUnchanged, kCreated, kUpdated };
// "unchanged", "created", "updated".
std::string_view ActionName(Action action);

class Provider {
 public:
  virtual ~Provider() = default;
  // Makes the provider serve `want`. Errors carry the provider's own message (kUnauthenticated
  // for refused credentials, kUnavailable for unreachable or failing APIs, kFailedPrecondition
  // for answers we cannot act on, e.g. an unknown zone).
  virtual Result<Action> Push(const Desired& want) = 0;
};

// A record as the provider holds it.
struct ExistingRecord {
  std::string id;       // the provider's record id ("" for RFC 2136)
  std::string value;    // the address text as the provider returned it
  uint32_t ttl = 0;
};

class RecordProvider : public Provider {
 public:
  // No record: Create. One record with our address and TTL: unchanged. Otherwise: Update the
  // first record (others of the same name and type are left as they are).
  Result<Action> Push(const Desired& want) final;

 protected:
  // The records of want.name / want.type.
  virtual Result<std::vector<ExistingRecord>> Get(const Desired& want) = 0;
  virtual Status Create(const Desired& want) = 0;
  virtual Status Update(const Desired& want, const ExistingRecord& existing) = 0;
  // Whether `existing` already says what `want` says; providers with special TTLs override.
  virtual bool Matches(const Desired& want, const ExistingRecord& existing) const;
};

// The provider for `config` (its type's module). kInvalidArgument for settings the type needs
// but lacks (the config parser already checks them; this guards other callers).
Result<std::unique_ptr<Provider>> MakeProvider(const ProviderConfig& config);

// Each provider module's constructor, called by MakeProvider.
std::unique_ptr<Provider> MakeRfc2136Provider(const ProviderConfig& config);
std::unique_ptr<Provider> MakeDyndns2Provider(const ProviderConfig& config);
std::unique_ptr<Provider> MakeCloudflareProvider(const ProviderConfig& config);
std::unique_ptr<Provider> MakeDnspodProvider(const ProviderConfig& config);
std::unique_ptr<Provider> MakeAlidnsProvider(const ProviderConfig& config);
std::unique_ptr<Provider> MakeWebhookProvider(const ProviderConfig& config);

// "home.example.com" (no trailing dot), as HTTP APIs spell names.
std::string BareName(const dns::Name& name);
// The part of `name` left of `zone` ("home" for home.example.com in example.com; "@" for the apex).
std::string RelativeName(const dns::Name& name, const dns::Name& zone);

}  // namespace berth::ddns
