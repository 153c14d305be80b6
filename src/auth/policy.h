// AuthPolicy: who may read and change what. It authenticates API tokens (Bearer), dyndns2
// users (HTTP Basic) and the admin token, answers scope questions for every door (REST,
// RFC 2136 with TSIG, dyndns2), holds the TSIG keyring the DNS side verifies with, and manages
// the credentials created at runtime (persisted in the store; config-defined ones are not).
// Thread-safe: reads use an immutable snapshot swapped atomically (no lock on the read path
// except the small hash-verification cache); changes are serialized by a mutex.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auth/credentials.h"
#include "core/status.h"
#include "dns/tsig/tsig.h"
#include "dns/wire/name.h"
#include "store/store.h"

namespace berth::auth {

// Who is asking. Non-admin principals are looked up by kind and name in the current
// credentials, so a removed credential loses its rights at once.
struct Principal {
  enum class Kind : uint8_t { kAdmin, kToken, kUser, kTsigKey };
  Kind kind = Kind::kAdmin;
  std::string name;  // token/user name; TSIG key name in lower-case text ("ddns-key.")

  static Principal Admin(std::string name = "admin") { return {Kind::kAdmin, std::move(name)}; }
  static Principal Token(std::string name) { return {Kind::kToken, std::move(name)}; }
  static Principal User(std::string name) { return {Kind::kUser, std::move(name)}; }
  static Principal TsigKey(const dns::Name& key) { return {Kind::kTsigKey, key.Lowercased().ToText()}; }
  bool is_admin() const { return kind == Kind::kAdmin; }
};

// A credential as listed by the admin API: never its secret.
struct CredentialInfo {
  CredentialKind kind = CredentialKind::kToken;
  std::string name;
  std::string algorithm;   // TSIG keys only
  Scope scope;
  bool from_config = false;
  int64_t created_at = 0;  // runtime credentials only (Unix seconds)
};

class AuthPolicy {
 public:
  // Builds the policy from config credentials plus the runtime ones in `store` (null: runtime
  // credentials are kept in memory only). A stored credential whose name a config one also
  // uses is shadowed by the config one. Errors: kIo / kInvalidArgument for an unreadable or
  // corrupt stored credential, kAlreadyExists for two config TSIG keys with one name.
  static Result<std::unique_ptr<AuthPolicy>> Make(AuthConfig config, store::Store* store);

  // SIGHUP: replaces the config-defined credentials; runtime ones stay. Errors as Make.
  Status Reconfigure(AuthConfig config);

  // Authentication. kUnauthenticated ("invalid token" / "bad user name or password").
  Result<Principal> AuthenticateBearer(std::string_view token) const;
  Result<Principal> AuthenticateUser(std::string_view name, std::string_view password) const;

  // Authorization; admin may do everything. `zone` is the zone as served (exact match with
  // scope rules); `owner` must be inside it for MayWrite.
  bool MayRead(const Principal& who, const dns::Name& zone) const;
  bool MayReadRecord(const Principal& who, const dns::Name& zone, const dns::Name& owner, uint16_t type) const;
  bool MayWrite(const Principal& who, const dns::Name& zone, const dns::Name& owner, uint16_t type) const;
  // Create or delete `zone`: admin, or a write rule on that zone covering all names and types.
  bool MayManageZone(const Principal& who, const dns::Name& zone) const;
  // The zones of `zones` that `who` may read, in the same order.
  std::vector<dns::Name> VisibleZones(const Principal& who, const std::vector<dns::Name>& zones) const;

  // Every TSIG key (config and runtime), for the DNS side to verify with. The snapshot stays
  // valid while held; a new one is made after each change.
  std::shared_ptr<const dns::TsigKeyring> Keyring() const;

  // Credential management (the admin API). Creates are durable (the store) before they take
  // effect. kInvalidArgument (bad name), kAlreadyExists (name taken, by config or runtime).
  Status CreateToken(std::string name, Secret secret, Scope scope);
  Status CreateUser(std::string name, Secret password, Scope scope);
  Status CreateTsigKey(dns::TsigKey key, Scope scope);
  // kNotFound; kFailedPrecondition for a config-defined credential. TSIG key names compare
  // case-insensitively (a missing final dot is added).
  Status Remove(CredentialKind kind, std::string_view name);
  std::vector<CredentialInfo> List(CredentialKind kind) const;

  // Successful crypt(3) verifications are remembered this long (dyndns2 clients poll often).
  static constexpr std::chrono::seconds kVerifyCacheTtl{300};

 private:
  struct Entry {
    Secret secret;
    Scope scope;
    std::string algorithm;
    dns::TsigKey key;
    bool from_config = false;
    int64_t created_at = 0;
  };
  struct Snapshot;
  using Clock = std::chrono::steady_clock;

  AuthPolicy(store::Store* store) : store_(store) {}
  // Rebuilds and publishes the snapshot from config_ and runtime_ (write_mu_ held).
  Status Publish();
  Result<std::shared_ptr<const Snapshot>> Build() const;
  std::shared_ptr<const Snapshot> snapshot() const { return snap_.load(); }
  const Scope* ScopeOf(const Snapshot& s, const Principal& who) const;
  // check(scope) for a non-admin principal's current scope; false when it has none.
  template <class Check>
  bool ScopeAllows(const Principal& who, Check check) const;
  // Verifies with the cache for crypt hashes.
  bool VerifyCached(std::string_view kind, const std::string& name, const Secret& secret,
                    std::string_view presented) const;
  Status CreateRuntime(CredentialKind kind, std::string key, Entry entry, std::string stored_secret);

  store::Store* const store_;
  std::mutex write_mu_;
  AuthConfig config_;
  // Runtime credentials by kind and key (token/user name; lower-case TSIG key name).
  std::map<std::pair<CredentialKind, std::string>, Entry> runtime_;
  std::atomic<std::shared_ptr<const Snapshot>> snap_;

  mutable std::mutex cache_mu_;
  mutable std::unordered_map<std::string, Clock::time_point> verified_;  // digest -> expiry
};

}  // namespace berth::auth
