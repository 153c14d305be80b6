#include "dns/zonefile/lexer.h"

#include <string>

namespace berth::dns::zonefile_internal {
namespace {

constexpr size_t kMaxTokens = 2 * 65535 + 16;

bool IsControl(unsigned char c) { return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f; }

bool EndsBareToken(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';' || c == '(' || c == ')' ||
         c == '"';
}

}  // namespace

Status Lexer::ScanToken(Entry* entry) {
  size_t start = pos_;
  bool quoted = text_[pos_] == '"';
  if (quoted) ++pos_;
  while (pos_ < text_.size()) {
    unsigned char c = static_cast<unsigned char>(text_[pos_]);
    if (IsControl(c)) return Fail("control character in text");
    if (c == '\\') {
      if (pos_ + 1 >= text_.size() || text_[pos_ + 1] == '\n' || text_[pos_ + 1] == '\r' ||
          IsControl(static_cast<unsigned char>(text_[pos_ + 1])))
        return Fail("dangling backslash");
      pos_ += 2;
      continue;
    }
    if (quoted) {
      if (c == '\n') return Fail("unterminated quoted string");
      ++pos_;
      if (c == '"') {
        if (pos_ < text_.size() && (text_[pos_] == '"' || !EndsBareToken(text_[pos_])))
          return Fail("missing space after quoted string");
        entry->tokens.push_back(text_.substr(start, pos_ - start));
        return Status::Ok();
      }
      continue;
    }
    if (EndsBareToken(static_cast<char>(c))) break;
    ++pos_;
  }
  if (quoted) return Fail("unterminated quoted string");
  if (pos_ < text_.size() && text_[pos_] == '"')
    return Fail("unexpected quote in '" + std::string(text_.substr(start, pos_ - start)) + "'");
  entry->tokens.push_back(text_.substr(start, pos_ - start));
  return Status::Ok();
}

Result<bool> Lexer::Next(Entry* entry) {
  entry->tokens.clear();
  entry->line = line_;
  entry->blank_owner = false;
  size_t open_line = 0;  // line of the open parenthesis, 0 when none is open
  while (pos_ < text_.size()) {
    char c = text_[pos_];
    if (at_line_start_ && open_line == 0 && entry->tokens.empty()) {
      entry->line = line_;
      entry->blank_owner = c == ' ' || c == '\t';
    }
    at_line_start_ = false;
    if (c == '\n') {
      ++pos_;
      ++line_;
      at_line_start_ = true;
      if (open_line == 0 && !entry->tokens.empty()) return true;
    } else if (c == ' ' || c == '\t' || c == '\r') {
      ++pos_;
    } else if (c == ';') {
      while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
    } else if (c == '(') {
      if (open_line != 0) return Fail("nested parentheses");
      open_line = line_;
      ++pos_;
    } else if (c == ')') {
      if (open_line == 0) return Fail("')' without '('");
      open_line = 0;
      ++pos_;
    } else {
      // RDATA is at most 65535 bytes, two hex digits a byte: more tokens is only hostile
      // input trying to grow the token vector (16 bytes a token) past the text's size.
      if (entry->tokens.size() >= kMaxTokens) return Fail("too many fields in one entry");
      RETURN_IF_ERROR(ScanToken(entry));
    }
  }
  if (open_line != 0) {
    line_ = open_line;
    return Fail("'(' is never closed");
  }
  return !entry->tokens.empty();
}

}  // namespace berth::dns::zonefile_internal
