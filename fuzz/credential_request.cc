// Fuzzes the bodies of the admin's credential requests (POST /api/v1/auth/{tokens,users,
// tsig-keys}) as the routes parse them: the scope list and a TSIG key's name, algorithm and
// secret. An accepted scope must survive its own JSON form unchanged; an accepted key has an
// absolute name and a non-empty secret. (Password hashes are left out: each costs a crypt(3).)
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "auth/scope.h"
#include "dns/tsig/tsig.h"
#include "http/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace berth;
  http::Request req;
  req.body.assign(reinterpret_cast<const char*>(data), size);
  auto body = http::ParseJsonBody(req);
  if (!body.ok() || !body->is_object()) return 0;
  if (auto s = body->find("scope"); s != body->end()) {
    auto scope = auth::ScopeFromJson(*s);
    if (scope.ok()) {
      nlohmann::json once = auth::ScopeToJson(*scope);
      auto again = auth::ScopeFromJson(once);
      if (!again.ok() || auth::ScopeToJson(*again) != once) __builtin_trap();
      for (const auto& rule : *scope) {
        if (rule.names.empty() || !(rule.zone.Lowercased() == rule.zone)) __builtin_trap();
      }
    }
  }
  auto text = [&](const char* key, const char* fallback) {
    auto it = body->find(key);
    return it != body->end() && it->is_string() ? it->get<std::string>() : std::string(fallback);
  };
  auto key = dns::TsigKey::Make(text("name", ""), text("algorithm", "hmac-sha256"), text("secret", ""));
  if (key.ok() && (key->secret.empty() || key->name.LabelCount() == 0)) __builtin_trap();
  return 0;
}
