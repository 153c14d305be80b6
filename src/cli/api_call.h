// How `berth` commands talk to berthd: the endpoint and token they use (Env), one request with
// the API's error printed for the user (Call, CallJson), and small helpers. Single-threaded,
// like the CLI.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace berth::cli {

inline constexpr char kDefaultApi[] = "./var/berthd.sock";

struct Env {
  std::string api;
  std::string token;  // Bearer token for TCP endpoints; the unix socket needs none
  bool json_output = false;
  std::ostream& out;
  std::ostream& err;
};

// Percent-encodes a path segment or query value.
std::string Encode(std::string_view s);

// Sends one request; on success returns the body, else prints the API's error and returns
// the exit code through `code`.
std::optional<std::string> Call(Env& env, std::string_view method, const std::string& target, int* code,
                                std::string_view body = "", std::string content_type = "");
// Call() whose answer must be JSON.
std::optional<nlohmann::json> CallJson(Env& env, std::string_view method, const std::string& target, int* code,
                                       std::string_view request_body = "");

// j[key] when it is a string, else "".
std::string Str(const nlohmann::json& j, const char* key);

}  // namespace berth::cli
