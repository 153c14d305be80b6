// Internal to src/http (not for other folders): the Boost.Beast/Asio aliases, header
// conversion and RFC 9110 syntax checks that server.cc and client.cc share. Including it
// pulls in Beast, which is why the public headers do not. Pure functions: thread-safe.
#pragma once

#include <cctype>
#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "http/message.h"

namespace berth::http::wire {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using unix_socket = net::local::stream_protocol;
using boost::system::error_code;

// True for errors of Beast's HTTP parser (malformed message), as opposed to socket errors.
inline bool IsParseError(const error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category();
}

// An RFC 9110 token: method names and header field names.
inline bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (!std::isalnum(c) && std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

// A header field value without CR, LF, NUL or other control bytes (header injection).
inline bool IsFieldValue(std::string_view s) {
  for (unsigned char c : s) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

template <class Fields>
HeaderMap ToHeaderMap(const Fields& fields) {
  HeaderMap out;
  for (const auto& field : fields) out.emplace(std::string(field.name_string()), std::string(field.value()));
  return out;
}

}  // namespace berth::http::wire
