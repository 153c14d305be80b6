#include "api/access.h"

#include "http/auth.h"
#include "http/json.h"

namespace berth::api {

Result<auth::Principal> Authenticate(const auth::AuthPolicy* policy, const http::Request& req) {
  if (req.remote_address == "unix") return auth::Principal::Admin("unix-socket");
  std::string_view header = req.header("Authorization");
  if (header.empty()) return Unauthenticated("authentication required: send Authorization: Bearer <token>");
  auto token = http::ParseBearerToken(header);
  if (!token) return Unauthenticated("malformed Authorization header (want Bearer <token>)");
  if (policy == nullptr) return Unauthenticated("invalid token");
  return policy->AuthenticateBearer(*token);
}

http::Handler RequireAuth(const auth::AuthPolicy* policy, AuthedHandler handler) {
  return [policy, handler = std::move(handler)](const http::Request& req) {
    auto who = Authenticate(policy, req);
    if (!who.ok()) {
      http::Response r = http::ErrorResponse(who.status());
      r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"berth\"");
      return r;
    }
    return handler(req, *who);
  };
}

http::Response Forbidden(std::string message) { return http::JsonError(403, std::move(message)); }

}  // namespace berth::api
