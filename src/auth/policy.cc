#include "auth/policy.h"

#include <ctime>
#include <map>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "http/auth.h"

namespace berth::auth {

struct AuthPolicy::Snapshot {
  std::optional<Secret> admin;
  // Keyed by name (tokens, users) or lower-case key name text (TSIG keys).
  std::map<std::string, const Entry*> tokens, users, keys;
  // SHA-256 of the secret -> token name, for plain and digest tokens: one lookup per request.
  std::unordered_map<std::string, std::string> token_by_digest;
  std::vector<std::string> crypt_tokens;  // tried one by one (with the verification cache)
  std::shared_ptr<const dns::TsigKeyring> keyring;
  // Owns the entries the maps point to.
  std::vector<Entry> entries;
};

namespace {

constexpr size_t kMaxCacheEntries = 4096;

std::string KeyName(const dns::Name& name) { return name.Lowercased().ToText(); }

// A TSIG key name as typed in a URL or JSON ("ddns-key" = "ddns-key.").
std::string KeyNameText(std::string_view text) {
  std::string t(text);
  if (t.empty() || t.back() != '.') t += '.';
  auto name = dns::Name::FromText(t);
  return name.ok() ? KeyName(*name) : t;
}


}  // namespace

Result<std::unique_ptr<AuthPolicy>> AuthPolicy::Make(AuthConfig config, store::Store* store) {
  std::unique_ptr<AuthPolicy> policy(new AuthPolicy(store));
  if (store != nullptr) {
    ASSIGN_OR_RETURN(auto rows, store->ListCredentials());
    for (auto& row : rows) {
      auto bad = [&](const std::string& why) {
        return Status(Code::kIo, "stored " + row.kind + " '" + row.name + "' is corrupt: " + why);
      };
      Entry e;
      e.created_at = row.created_at;
      auto scope_json = nlohmann::json::parse(row.scope, nullptr, false);
      auto scope = ScopeFromJson(scope_json);
      if (scope_json.is_discarded() || !scope.ok()) return bad("scope");
      e.scope = std::move(*scope);
      CredentialKind kind;
      std::string key = row.name;
      if (row.kind == "tsig_key") {
        kind = CredentialKind::kTsigKey;
        auto k = dns::TsigKey::Make(row.name, row.algorithm, row.secret);
        if (!k.ok()) return bad(k.status().message());
        e.key = std::move(*k);
        e.algorithm = row.algorithm;
        key = KeyName(e.key.name);
      } else {
        kind = row.kind == "token" ? CredentialKind::kToken : CredentialKind::kUser;
        auto secret = Secret::FromStored(row.secret);
        if (!secret.ok()) return bad(secret.status().message());
        e.secret = std::move(*secret);
      }
      policy->runtime_[{kind, key}] = std::move(e);
    }
  }
  std::lock_guard lock(policy->write_mu_);
  policy->config_ = std::move(config);
  RETURN_IF_ERROR(policy->Publish());
  return policy;
}

Status AuthPolicy::Reconfigure(AuthConfig config) {
  std::lock_guard lock(write_mu_);
  AuthConfig old = std::move(config_);
  config_ = std::move(config);
  Status s = Publish();
  if (!s.ok()) config_ = std::move(old);
  return s;
}

Status AuthPolicy::Publish() {
  ASSIGN_OR_RETURN(std::shared_ptr<const Snapshot> snap, Build());
  snap_.store(std::move(snap));
  return Status::Ok();
}

Result<std::shared_ptr<const AuthPolicy::Snapshot>> AuthPolicy::Build() const {
  auto snap = std::make_shared<Snapshot>();
  snap->admin = config_.admin_token;
  // Config entries first: on a name clash the config one wins (runtime ones are skipped).
  struct Pending {
    CredentialKind kind;
    std::string key;
    Entry entry;
  };
  std::vector<Pending> all;
  for (const auto& t : config_.tokens) all.push_back({CredentialKind::kToken, t.name, {t.secret, t.scope, "", {}, true, 0}});
  for (const auto& u : config_.users) all.push_back({CredentialKind::kUser, u.name, {u.password, u.scope, "", {}, true, 0}});
  for (const auto& k : config_.tsig_keys) {
    Entry e{{}, k.scope, std::string(dns::TsigAlgorithmName(k.key.algorithm).ToText()), k.key, true, 0};
    all.push_back({CredentialKind::kTsigKey, KeyName(k.key.name), std::move(e)});
  }
  for (const auto& [id, e] : runtime_) all.push_back({id.first, id.second, e});
  snap->entries.reserve(all.size());
  std::vector<dns::TsigKey> keys;
  for (auto& p : all) {
    auto& map = p.kind == CredentialKind::kToken ? snap->tokens : p.kind == CredentialKind::kUser ? snap->users : snap->keys;
    if (map.contains(p.key)) {
      if (!p.entry.from_config) {
        spdlog::warn("auth: stored {} '{}' is shadowed by the config one of the same name",
                     CredentialKindName(p.kind), p.key);
        continue;
      }
      if (p.kind == CredentialKind::kTsigKey) return AlreadyExists("TSIG key '" + p.key + "' is configured twice");
      return AlreadyExists(std::string(CredentialKindName(p.kind)) + " '" + p.key + "' is configured twice");
    }
    snap->entries.push_back(std::move(p.entry));
    const Entry* e = &snap->entries.back();
    map[p.key] = e;
    if (p.kind == CredentialKind::kTsigKey) keys.push_back(e->key);
    if (p.kind == CredentialKind::kToken) {
      if (e->secret.kind() == Secret::Kind::kCrypt) {
        snap->crypt_tokens.push_back(p.key);
      } else {
        std::string digest = e->secret.kind() == Secret::Kind::kPlain ? Sha256Hex(e->secret.plain())
                                                                        : e->secret.ToStored().substr(7);
        if (!snap->token_by_digest.emplace(digest, p.key).second) {
          return AlreadyExists("token '" + p.key + "' has the same secret as token '" +
                               snap->token_by_digest[digest] + "'");
        }
      }
    }
  }
  ASSIGN_OR_RETURN(dns::TsigKeyring ring, dns::TsigKeyring::Make(std::move(keys)));
  snap->keyring = std::make_shared<const dns::TsigKeyring>(std::move(ring));
  return std::shared_ptr<const Snapshot>(std::move(snap));
}

bool AuthPolicy::VerifyCached(std::string_view kind, const std::string& name, const Secret& secret,
                              std::string_view presented) const {
  if (secret.kind() != Secret::Kind::kCrypt) return secret.Verify(presented);
  // The key binds the credential, its current hash and the presented secret: a changed hash
  // or another user's password never hits an old entry.
  std::string key = Sha256Hex(std::string(kind) + '\0' + name + '\0' + secret.ToStored() + '\0' + std::string(presented));
  auto now = Clock::now();
  {
    std::lock_guard lock(cache_mu_);
    auto it = verified_.find(key);
    if (it != verified_.end()) {
      if (it->second > now) return true;
      verified_.erase(it);
    }
  }
  if (!secret.Verify(presented)) return false;
  std::lock_guard lock(cache_mu_);
  if (verified_.size() >= kMaxCacheEntries) {
    std::erase_if(verified_, [&](const auto& kv) { return kv.second <= now; });
    if (verified_.size() >= kMaxCacheEntries) verified_.clear();
  }
  verified_[key] = now + kVerifyCacheTtl;
  return true;
}

Result<Principal> AuthPolicy::AuthenticateBearer(std::string_view token) const {
  auto s = snapshot();
  if (s->admin && s->admin->Verify(token)) return Principal::Admin();
  auto it = s->token_by_digest.find(Sha256Hex(token));
  if (it != s->token_by_digest.end()) return Principal::Token(it->second);
  for (const auto& name : s->crypt_tokens) {
    if (VerifyCached("token", name, s->tokens.at(name)->secret, token)) return Principal::Token(name);
  }
  return Unauthenticated("invalid token");
}

Result<Principal> AuthPolicy::AuthenticateUser(std::string_view name, std::string_view password) const {
  auto s = snapshot();
  auto it = s->users.find(std::string(name));
  if (it == s->users.end() || !VerifyCached("user", it->first, it->second->secret, password)) {
    return Unauthenticated("bad user name or password");
  }
  return Principal::User(it->first);
}

const Scope* AuthPolicy::ScopeOf(const Snapshot& s, const Principal& who) const {
  const std::map<std::string, const Entry*>* map = nullptr;
  switch (who.kind) {
    case Principal::Kind::kAdmin: return nullptr;
    case Principal::Kind::kToken: map = &s.tokens; break;
    case Principal::Kind::kUser: map = &s.users; break;
    case Principal::Kind::kTsigKey: map = &s.keys; break;
  }
  auto it = map->find(who.name);
  return it == map->end() ? nullptr : &it->second->scope;
}

template <class Check>
bool AuthPolicy::ScopeAllows(const Principal& who, Check check) const {
  auto s = snapshot();
  const Scope* scope = ScopeOf(*s, who);
  return scope != nullptr && check(*scope);
}

bool AuthPolicy::MayRead(const Principal& who, const dns::Name& zone) const {
  return who.is_admin() || ScopeAllows(who, [&](const Scope& s) { return ScopeMayRead(s, zone); });
}

bool AuthPolicy::MayReadRecord(const Principal& who, const dns::Name& zone, const dns::Name& owner,
                               uint16_t type) const {
  return who.is_admin() || ScopeAllows(who, [&](const Scope& s) { return ScopeMayReadRecord(s, zone, owner, type); });
}

bool AuthPolicy::MayWrite(const Principal& who, const dns::Name& zone, const dns::Name& owner, uint16_t type) const {
  if (who.is_admin()) return owner.IsSubdomainOf(zone);
  return ScopeAllows(who, [&](const Scope& s) { return ScopeMayWrite(s, zone, owner, type); });
}

bool AuthPolicy::MayManageZone(const Principal& who, const dns::Name& zone) const {
  return who.is_admin() || ScopeAllows(who, [&](const Scope& s) { return ScopeMayManageZone(s, zone); });
}

std::vector<dns::Name> AuthPolicy::VisibleZones(const Principal& who, const std::vector<dns::Name>& zones) const {
  if (who.is_admin()) return zones;
  auto s = snapshot();
  const Scope* scope = ScopeOf(*s, who);
  std::vector<dns::Name> out;
  if (scope == nullptr) return out;
  for (const auto& z : zones)
    if (ScopeMayRead(*scope, z)) out.push_back(z);
  return out;
}

std::shared_ptr<const dns::TsigKeyring> AuthPolicy::Keyring() const { return snapshot()->keyring; }

Status AuthPolicy::CreateRuntime(CredentialKind kind, std::string key, Entry entry, std::string stored_secret) {
  std::lock_guard lock(write_mu_);
  auto s = snapshot();
  const auto& map = kind == CredentialKind::kToken ? s->tokens : kind == CredentialKind::kUser ? s->users : s->keys;
  auto existing = map.find(key);
  if (existing != map.end()) {
    return AlreadyExists(std::string(CredentialKindName(kind)) + " '" + key + "' already exists" +
                         (existing->second->from_config ? " (defined in the config)" : ""));
  }
  entry.created_at = static_cast<int64_t>(std::time(nullptr));
  std::pair<CredentialKind, std::string> id{kind, key};
  runtime_[id] = entry;
  // Built first (it may refuse, e.g. a token secret equal to another token's), stored, then
  // published: a credential works only once it is durable.
  auto fresh = Build();
  if (!fresh.ok()) {
    runtime_.erase(id);
    return fresh.status();
  }
  if (store_ != nullptr) {
    store::StoredCredential row{std::string(CredentialKindName(kind)),
                                kind == CredentialKind::kTsigKey ? entry.key.name.ToText() : key,
                                std::move(stored_secret), entry.algorithm, ScopeToJson(entry.scope).dump(),
                                entry.created_at};
    if (Status st = store_->PutCredential(row); !st.ok()) {
      runtime_.erase(id);
      return st;
    }
  }
  snap_.store(std::move(*fresh));
  return Status::Ok();
}

Status AuthPolicy::CreateToken(std::string name, Secret secret, Scope scope) {
  RETURN_IF_ERROR(ValidateCredentialName(name));
  if (secret.empty()) return InvalidArgument("token '" + name + "' has no secret");
  std::string stored = secret.ToStored();
  return CreateRuntime(CredentialKind::kToken, name, {std::move(secret), std::move(scope), "", {}, false, 0},
                       std::move(stored));
}

Status AuthPolicy::CreateUser(std::string name, Secret password, Scope scope) {
  RETURN_IF_ERROR(ValidateCredentialName(name));
  if (password.empty()) return InvalidArgument("user '" + name + "' has no password");
  std::string stored = password.ToStored();
  return CreateRuntime(CredentialKind::kUser, name, {std::move(password), std::move(scope), "", {}, false, 0},
                       std::move(stored));
}

Status AuthPolicy::CreateTsigKey(dns::TsigKey key, Scope scope) {
  std::string name = KeyName(key.name);
  std::string algorithm(dns::TsigAlgorithmName(key.algorithm).ToText());
  // TsigKey::Make reads "hmac-md5.sig-alg.reg.int." back, so the wire name is stored as is.
  std::string secret = http::Base64Encode(key.secret);
  return CreateRuntime(CredentialKind::kTsigKey, name, {{}, std::move(scope), algorithm, std::move(key), false, 0},
                       std::move(secret));
}

Status AuthPolicy::Remove(CredentialKind kind, std::string_view name_in) {
  std::string name = kind == CredentialKind::kTsigKey ? KeyNameText(name_in) : std::string(name_in);
  std::lock_guard lock(write_mu_);
  std::pair<CredentialKind, std::string> id{kind, name};
  auto s = snapshot();
  const auto& map = kind == CredentialKind::kToken ? s->tokens : kind == CredentialKind::kUser ? s->users : s->keys;
  auto it = map.find(name);
  std::string what = std::string(CredentialKindName(kind)) + " '" + name + "'";
  if (it != map.end() && it->second->from_config) {
    return FailedPrecondition(what + " is defined in the config; remove it there");
  }
  auto rt = runtime_.find(id);
  if (rt == runtime_.end()) return NotFound(what + " does not exist");
  if (store_ != nullptr) {
    std::string stored_name = kind == CredentialKind::kTsigKey ? rt->second.key.name.ToText() : name;
    RETURN_IF_ERROR(store_->DeleteCredential(CredentialKindName(kind), stored_name));
  }
  runtime_.erase(rt);
  return Publish();
}

std::vector<CredentialInfo> AuthPolicy::List(CredentialKind kind) const {
  auto s = snapshot();
  const auto& map = kind == CredentialKind::kToken ? s->tokens : kind == CredentialKind::kUser ? s->users : s->keys;
  std::vector<CredentialInfo> out;
  for (const auto& [name, e] : map) {
    out.push_back({kind, kind == CredentialKind::kTsigKey ? e->key.name.ToText() : name, e->algorithm, e->scope,
                   e->from_config, e->created_at});
  }
  return out;
}

}  // namespace berth::auth
