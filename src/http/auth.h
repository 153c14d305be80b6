// Parsers for the Authorization header schemes berth's APIs accept (Basic for dyndns2
// clients, Bearer for the JSON API), and a timing-safe comparison for checking secrets.
// Pure functions: thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace berth::http {

// Strict base64 (RFC 4648, padded, no whitespace). nullopt for any malformed input.
std::optional<std::string> Base64Decode(std::string_view in);
// Standard padded base64.
std::string Base64Encode(std::string_view in);

// Parses "Basic <base64(user:pass)>" (scheme case-insensitive) into {user, pass}. nullopt
// when the scheme differs, the base64 is malformed, or there is no ':' separator.
std::optional<std::pair<std::string, std::string>> ParseBasicAuth(std::string_view header);

// Parses "Bearer <token>" (scheme case-insensitive; token68 characters only). nullopt
// when the scheme differs or the token is empty or malformed.
std::optional<std::string> ParseBearerToken(std::string_view header);

// Compares secrets in time independent of where they differ (length is not hidden).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace berth::http
