// Tokenizer for RFC 1035 §5.1 presentation text, shared by the zone file parser and the
// one-line RDATA parser. Tokens are raw slices of the input: quoted tokens keep their quotes
// and escapes are left for the field decoders. Not thread-safe (one lexer per text).
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace berth::dns::zonefile_internal {

// One logical line (an entry): its tokens, with parentheses, comments and line breaks
// inside parentheses removed.
struct Entry {
  std::vector<std::string_view> tokens;
  size_t line = 0;           // line where the entry starts (1-based)
  bool blank_owner = false;  // the line starts with a space or tab (owner = previous owner)
};

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  // Reads the next entry into `entry`: true when one was read, false at the end of the text.
  // kInvalidArgument on unbalanced or nested parentheses, unterminated quotes, control
  // characters or a dangling backslash; error_line() then says where.
  Result<bool> Next(Entry* entry);
  size_t error_line() const { return line_; }

 private:
  Status Fail(std::string reason) const { return InvalidArgument(std::move(reason)); }
  // Scans one token (bare or quoted) starting at pos_ and appends it to `entry`.
  Status ScanToken(Entry* entry);

  std::string_view text_;
  size_t pos_ = 0;
  size_t line_ = 1;
  bool at_line_start_ = true;
};

// True for a token written in double quotes.
inline bool IsQuoted(std::string_view token) { return !token.empty() && token.front() == '"'; }

}  // namespace berth::dns::zonefile_internal
