#include "auth/secret.h"

#include <crypt.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include "http/auth.h"

namespace berth::auth {
namespace {

bool IsHex(std::string_view s) {
  return s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// crypt_r with its (large) scratch area on the heap. Empty on failure: libxcrypt returns a
// string starting with '*' for a malformed setting.
std::string Crypt(std::string_view phrase, const std::string& setting) {
  auto data = std::make_unique<crypt_data>();
  std::string p(phrase);
  const char* out = crypt_r(p.c_str(), setting.c_str(), data.get());
  if (out == nullptr || out[0] == '*') return {};
  return out;
}

}  // namespace

const std::string Secret::kEmpty;

Secret Secret::Plain(std::string secret) {
  Secret s;
  s.kind_ = Kind::kPlain;
  s.value_ = std::move(secret);
  return s;
}

Result<Secret> Secret::CryptHash(std::string hash) {
  if (!hash.starts_with("$y$") && !hash.starts_with("$6$") && !hash.starts_with("$2b$")) {
    return InvalidArgument("unsupported password hash format (want yescrypt $y$, sha512crypt $6$ or bcrypt $2b$)");
  }
  std::string check = Crypt("", hash);
  if (check.empty() || check.substr(0, 3) != hash.substr(0, 3)) return InvalidArgument("malformed password hash");
  Secret s;
  s.kind_ = Kind::kCrypt;
  s.value_ = std::move(hash);
  return s;
}

Result<Secret> Secret::FromStored(std::string stored) {
  if (stored.starts_with("sha256:")) {
    std::string hex = stored.substr(7);
    if (hex.size() != 64 || !IsHex(hex)) return InvalidArgument("malformed sha256 secret digest");
    Secret s;
    s.kind_ = Kind::kSha256;
    s.value_ = std::move(hex);
    return s;
  }
  return CryptHash(std::move(stored));
}

Secret Secret::Sha256Of(std::string_view secret) {
  Secret s;
  s.kind_ = Kind::kSha256;
  s.value_ = Sha256Hex(secret);
  return s;
}

bool Secret::Verify(std::string_view presented) const {
  switch (kind_) {
    case Kind::kPlain:
      return !value_.empty() && http::ConstantTimeEquals(presented, value_);
    case Kind::kSha256:
      return http::ConstantTimeEquals(Sha256Hex(presented), value_);
    case Kind::kCrypt: {
      std::string out = Crypt(presented, value_);
      return !out.empty() && http::ConstantTimeEquals(out, value_);
    }
  }
  return false;
}

std::string Secret::ToStored() const {
  switch (kind_) {
    case Kind::kPlain: return "sha256:" + Sha256Hex(value_);
    case Kind::kSha256: return "sha256:" + value_;
    case Kind::kCrypt: return value_;
  }
  return {};
}

Result<std::string> ReadSecret(std::string_view what, const std::optional<std::string>& inline_value,
                               const std::optional<std::string>& file, const std::optional<std::string>& env) {
  std::string w(what);
  int given = (inline_value ? 1 : 0) + (file ? 1 : 0) + (env ? 1 : 0);
  if (given == 0) return InvalidArgument(w + ": no secret given (inline, _file or _env)");
  if (given > 1) return InvalidArgument(w + ": give the secret one way only (inline, _file or _env)");
  std::string value;
  if (inline_value) {
    value = *inline_value;
  } else if (file) {
    std::ifstream in(*file, std::ios::binary);
    if (!in) return IoError(w + ": reading " + *file, errno);
    std::ostringstream buf;
    buf << in.rdbuf();
    value = std::move(buf).str();
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  } else {
    const char* v = std::getenv(env->c_str());
    if (v == nullptr) return NotFound(w + ": environment variable " + *env + " is not set");
    value = v;
  }
  if (value.empty()) return InvalidArgument(w + ": the secret is empty");
  return value;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

Result<std::string> HashPassword(std::string_view password) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$y$", 0, nullptr, 0, setting, sizeof(setting)) == nullptr) {
    return Internal("crypt_gensalt failed");
  }
  std::string hash = Crypt(password, setting);
  if (hash.empty()) return Internal("crypt failed");
  return hash;
}

Result<std::string> RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return Internal("no random bytes from OpenSSL");
  }
  return out;
}

Result<std::string> RandomToken() {
  ASSIGN_OR_RETURN(std::string bytes, RandomBytes(32));
  std::string b64 = http::Base64Encode(bytes);
  for (char& c : b64) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return b64;
}

}  // namespace berth::auth
