// Small pieces of text handling shared by the parsers of untrusted input (query strings,
// CNI_ARGS, lists in environment values). Pure functions over string_views: thread-safe.
#pragma once

#include <string_view>

namespace berth {

// The value of one hexadecimal digit (either case), or -1.
inline int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Splits off the text before the first `separator` in `rest` and returns it (all of `rest` when
// there is none), leaving `rest` just after that separator. Loop `while (!rest.empty())`.
inline std::string_view NextField(std::string_view& rest, char separator) {
  size_t at = rest.find(separator);
  std::string_view field = rest.substr(0, at);
  rest = at == std::string_view::npos ? std::string_view() : rest.substr(at + 1);
  return field;
}

}  // namespace berth
