// Credential management for the admin: API tokens, dyndns2 users and TSIG keys created here
// are stored (they survive restarts); secrets are never listed, and a generated one is shown
// only in the answer that created it.
#include <nlohmann/json.hpp>

#include "api/access.h"
#include "api/write_routes.h"
#include "auth/secret.h"
#include "http/auth.h"
#include "http/json.h"

namespace berth::api {
namespace {

using nlohmann::json;
using auth::CredentialKind;

constexpr size_t kMinTokenLength = 16;

std::optional<std::string> OptString(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

json InfoJson(const auth::CredentialInfo& c) {
  json out = {{"name", c.name}, {"scope", auth::ScopeToJson(c.scope)}, {"source", c.from_config ? "config" : "api"}};
  if (c.kind == CredentialKind::kTsigKey) out["algorithm"] = c.algorithm;
  if (!c.from_config) out["created_at"] = c.created_at;
  return out;
}

// Parses a create request: the name and scope every kind has; the rest per kind.
http::Response Create(auth::AuthPolicy& policy, CredentialKind kind, const http::Request& req) {
  auto body = http::ParseJsonBody(req);
  if (!body.ok()) return http::ErrorResponse(body.status());
  if (!body->is_object()) return http::JsonError(400, "expected a JSON object {name, scope, ...}");
  std::string name = OptString(*body, "name").value_or("");
  auth::Scope scope;
  if (auto s = body->find("scope"); s != body->end()) {
    auto parsed = auth::ScopeFromJson(*s);
    if (!parsed.ok()) return http::JsonError(422, parsed.status().message());
    scope = std::move(*parsed);
  }
  json out = {{"name", name}, {"scope", auth::ScopeToJson(scope)}};
  Status status;
  switch (kind) {
    case CredentialKind::kToken: {
      auto secret = OptString(*body, "secret");
      auto hash = OptString(*body, "secret_hash");
      auth::Secret stored;
      if (secret && hash) return http::JsonError(422, "give secret or secret_hash, not both");
      if (hash) {
        auto h = auth::Secret::CryptHash(*hash);
        if (!h.ok()) return http::JsonError(422, "secret_hash: " + h.status().message());
        stored = std::move(*h);
      } else {
        if (!secret) {
          auto generated = auth::RandomToken();
          if (!generated.ok()) return http::ErrorResponse(generated.status());
          secret = *generated;
          out["secret"] = *secret;  // shown once
        }
        if (secret->size() < kMinTokenLength || !http::ParseBearerToken("Bearer " + *secret)) {
          return http::JsonError(422, "a token secret must be at least 16 characters of A-Z a-z 0-9 - . _ ~ + /");
        }
        stored = auth::Secret::Sha256Of(*secret);
      }
      status = policy.CreateToken(name, std::move(stored), std::move(scope));
      break;
    }
    case CredentialKind::kUser: {
      auto password = OptString(*body, "password");
      auto hash = OptString(*body, "password_hash");
      if (password.has_value() == hash.has_value()) return http::JsonError(422, "give password or password_hash");
      if (password) {
        if (password->empty()) return http::JsonError(422, "password is empty");
        auto h = auth::HashPassword(*password);  // yescrypt: the store never holds the password
        if (!h.ok()) return http::ErrorResponse(h.status());
        hash = *h;
      }
      auto secret = auth::Secret::CryptHash(*hash);
      if (!secret.ok()) return http::JsonError(422, "password_hash: " + secret.status().message());
      status = policy.CreateUser(name, std::move(*secret), std::move(scope));
      break;
    }
    case CredentialKind::kTsigKey: {
      std::string algorithm = OptString(*body, "algorithm").value_or("hmac-sha256");
      auto secret = OptString(*body, "secret");
      if (!secret) {
        auto generated = auth::RandomBytes(32);
        if (!generated.ok()) return http::ErrorResponse(generated.status());
        secret = http::Base64Encode(*generated);
        out["secret"] = *secret;
      }
      auto key = dns::TsigKey::Make(name, algorithm, *secret);
      if (!key.ok()) return http::JsonError(422, key.status().message());
      out["name"] = key->name.ToText();
      out["algorithm"] = algorithm;
      status = policy.CreateTsigKey(std::move(*key), std::move(scope));
      break;
    }
  }
  if (!status.ok()) {
    return status.code() == Code::kInvalidArgument ? http::JsonError(422, status.message()) : http::ErrorResponse(status);
  }
  return http::Response::Json(201, out);
}

}  // namespace

Status RegisterAuthRoutes(http::Router& router, std::shared_ptr<const ApiContext> ctx) {
  for (auto [path, kind_binding] : {std::pair{"tokens", CredentialKind::kToken}, {"users", CredentialKind::kUser},
                                    {"tsig-keys", CredentialKind::kTsigKey}}) {
    CredentialKind kind = kind_binding;  // lambdas capture variables, not structured bindings (clang 14)
    std::string base = std::string("/api/v1/auth/") + path;
    auto admin_only = [ctx](auto fn) {
      return RequireAuth(ctx->auth, [ctx, fn](const http::Request& req, const auth::Principal& who) {
        if (!who.is_admin()) return Forbidden("credential management is for the admin");
        if (ctx->auth == nullptr) return http::JsonError(503, "no access policy configured");
        return fn(*ctx->auth, req);
      });
    };
    RETURN_IF_ERROR(router.Add("GET", base, admin_only([kind](auth::AuthPolicy& p, const http::Request&) {
      json out = json::array();
      for (const auto& c : p.List(kind)) out.push_back(InfoJson(c));
      return http::Response::Json(200, out);
    })));
    RETURN_IF_ERROR(router.Add("POST", base, admin_only([kind](auth::AuthPolicy& p, const http::Request& req) {
      return Create(p, kind, req);
    })));
    RETURN_IF_ERROR(router.Add("DELETE", base + "/{name}", admin_only([kind](auth::AuthPolicy& p, const http::Request& req) {
      if (Status s = p.Remove(kind, req.params.at("name")); !s.ok()) return http::ErrorResponse(s);
      return http::Response{204, "", "", {}};
    })));
  }
  return Status::Ok();
}

}  // namespace berth::api
