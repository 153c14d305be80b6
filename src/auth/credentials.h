// The credentials berthd knows, as the config declares them and the admin API creates them:
// API tokens (Bearer), dyndns2 users (HTTP Basic), TSIG keys, each with its scope, plus the
// admin token. Plain values: thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/scope.h"
#include "auth/secret.h"
#include "core/status.h"
#include "dns/tsig/tsig.h"

namespace berth::auth {

enum class CredentialKind : uint8_t { kToken, kUser, kTsigKey };
// "token", "user", "tsig_key" (the store's kind column).
std::string_view CredentialKindName(CredentialKind kind);

struct TokenSpec {
  std::string name;
  Secret secret;
  Scope scope;
};

struct UserSpec {
  std::string name;
  Secret password;
  Scope scope;
};

struct TsigKeySpec {
  dns::TsigKey key;
  Scope scope;
};

struct AuthConfig {
  std::optional<Secret> admin_token;  // nullopt: only the unix socket has admin rights
  std::vector<TokenSpec> tokens;
  std::vector<UserSpec> users;
  std::vector<TsigKeySpec> tsig_keys;
};

// Token and user names: 1-64 of [A-Za-z0-9._-]. kInvalidArgument otherwise.
Status ValidateCredentialName(std::string_view name);

}  // namespace berth::auth
