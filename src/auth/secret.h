// Secrets of credentials: where they come from (inline, a file, an environment variable) and
// how a presented secret is checked against what is kept (the plain secret, compared in
// constant time; a SHA-256 digest, for the high-entropy API tokens berth generates; or a
// crypt(3) hash: yescrypt "$y$", sha512crypt "$6$", bcrypt "$2b$"). Secret is an immutable
// value, safe to share across threads; the free functions are thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace berth::auth {

class Secret {
 public:
  enum class Kind : uint8_t { kPlain, kSha256, kCrypt };

  Secret() = default;
  static Secret Plain(std::string secret);
  // A crypt(3) hash in one of the accepted formats. kInvalidArgument for another format or a
  // malformed hash (checked by hashing once, so config errors show at start).
  static Result<Secret> CryptHash(std::string hash);
  // The stored form of ToStored(): "sha256:<hex>" or a crypt hash. kInvalidArgument otherwise.
  static Result<Secret> FromStored(std::string stored);
  // "sha256:<hex of SHA-256(secret)>", for tokens berth stores.
  static Secret Sha256Of(std::string_view secret);

  Kind kind() const { return kind_; }
  bool empty() const { return value_.empty(); }
  // True when `presented` is the secret. Costs one crypt(3) for kCrypt (milliseconds).
  bool Verify(std::string_view presented) const;
  // What a store may keep: kSha256 and kCrypt as is; a plain secret as its SHA-256 form.
  std::string ToStored() const;
  // Plain secrets only: the secret itself (TSIG needs the key bytes). Empty otherwise.
  const std::string& plain() const { return kind_ == Kind::kPlain ? value_ : kEmpty; }

 private:
  static const std::string kEmpty;
  Kind kind_ = Kind::kPlain;
  std::string value_;  // plain secret, lower-case hex digest, or crypt hash
};

// Reads a secret given by exactly one of: an inline value, a file (its content without the
// trailing newline), an environment variable. `what` names the key in errors. kInvalidArgument
// when none or several are given, or the value is empty; kIo when the file cannot be read;
// kNotFound when the variable is unset.
Result<std::string> ReadSecret(std::string_view what, const std::optional<std::string>& inline_value,
                               const std::optional<std::string>& file, const std::optional<std::string>& env);

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);
// A yescrypt hash of `password` with a fresh salt. kInternal when libcrypt fails.
Result<std::string> HashPassword(std::string_view password);
// `n` random bytes from OpenSSL's CSPRNG. kInternal when it fails.
Result<std::string> RandomBytes(size_t n);
// A fresh random token: 32 bytes from the OS, URL-safe base64 without padding (43 chars).
Result<std::string> RandomToken();

}  // namespace berth::auth
