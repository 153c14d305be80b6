#include "http/auth.h"

#include <openssl/crypto.h>

#include <cctype>

namespace berth::http {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Returns the credentials after "<scheme> " when `header` uses `scheme`, else nullopt.
std::optional<std::string_view> StripScheme(std::string_view header, std::string_view scheme) {
  if (header.size() <= scheme.size() || header[scheme.size()] != ' ') return std::nullopt;
  for (size_t i = 0; i < scheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != std::tolower(static_cast<unsigned char>(scheme[i]))) {
      return std::nullopt;
    }
  }
  std::string_view rest = header.substr(scheme.size());
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
  return rest;
}

}  // namespace

std::optional<std::string> Base64Decode(std::string_view in) {
  if (in.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (size_t i = 0; i < in.size(); i += 4) {
    bool last = i + 4 == in.size();
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = in[i + k];
      if (c == '=' && last && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return std::nullopt;  // data after padding
      v[k] = Base64Value(c);
      if (v[k] < 0) return std::nullopt;
    }
    unsigned triple = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out.push_back(static_cast<char>(triple >> 16));
    if (pad < 2) out.push_back(static_cast<char>((triple >> 8) & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(triple & 0xff));
  }
  return out;
}

std::string Base64Encode(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    size_t n = std::min<size_t>(3, in.size() - i);
    unsigned triple = static_cast<unsigned char>(in[i]) << 16;
    if (n > 1) triple |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (n > 2) triple |= static_cast<unsigned char>(in[i + 2]);
    out.push_back(kAlphabet[(triple >> 18) & 63]);
    out.push_back(kAlphabet[(triple >> 12) & 63]);
    out.push_back(n > 1 ? kAlphabet[(triple >> 6) & 63] : '=');
    out.push_back(n > 2 ? kAlphabet[triple & 63] : '=');
  }
  return out;
}

std::optional<std::pair<std::string, std::string>> ParseBasicAuth(std::string_view header) {
  std::optional<std::string_view> creds = StripScheme(header, "Basic");
  if (!creds || creds->empty()) return std::nullopt;
  std::optional<std::string> decoded = Base64Decode(*creds);
  if (!decoded) return std::nullopt;
  size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::make_pair(decoded->substr(0, colon), decoded->substr(colon + 1));
}

std::optional<std::string> ParseBearerToken(std::string_view header) {
  std::optional<std::string_view> token = StripScheme(header, "Bearer");
  if (!token || token->empty()) return std::nullopt;
  // token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
  size_t i = 0;
  for (; i < token->size() && (*token)[i] != '='; ++i) {
    char c = (*token)[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && std::string_view("-._~+/").find(c) == std::string_view::npos) {
      return std::nullopt;
    }
  }
  if (i == 0) return std::nullopt;
  for (; i < token->size(); ++i) {
    if ((*token)[i] != '=') return std::nullopt;
  }
  return std::string(*token);
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace berth::http
