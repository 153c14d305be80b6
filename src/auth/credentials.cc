#include "auth/credentials.h"

#include <cctype>

namespace berth::auth {

std::string_view CredentialKindName(CredentialKind kind) {
  switch (kind) {
    case CredentialKind::kToken: return "token";
    case CredentialKind::kUser: return "user";
    case CredentialKind::kTsigKey: return "tsig_key";
  }
  return "?";
}

Status ValidateCredentialName(std::string_view name) {
  if (name.empty() || name.size() > 64) return InvalidArgument("name must be 1-64 characters");
  for (unsigned char c : name) {
    if (!std::isalnum(c) && c != '.' && c != '_' && c != '-') {
      return InvalidArgument("name '" + std::string(name) + "' may only hold letters, digits, '.', '_' and '-'");
    }
  }
  return Status::Ok();
}

}  // namespace berth::auth
