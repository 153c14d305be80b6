// Alibaba Cloud DNS request signing (RPC signature version 1.0, HMAC-SHA1), exposed for tests:
// the provider module itself is ddns/alidns.cc behind ddns/provider.h. Pure functions: thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace berth::ddns {

// "GET&%2F&" + the percent-encoded, sorted, percent-encoded query (Signature itself excluded).
std::string AlidnsStringToSign(std::string_view method, const std::map<std::string, std::string>& params);
// base64(HMAC-SHA1(secret + "&", string_to_sign)).
std::string AlidnsSignature(std::string_view method, const std::map<std::string, std::string>& params,
                            std::string_view access_key_secret);

}  // namespace berth::ddns
