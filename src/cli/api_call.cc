#include "cli/api_call.h"

#include <cctype>

#include <fmt/format.h>

#include "http/client.h"

namespace berth::cli {

using nlohmann::json;

// Percent-encodes a path segment or query value.
std::string Encode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out.push_back(static_cast<char>(c));
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

// Sends one request; on success returns the body, else prints the API's error and returns
// the exit code through `code`.
std::optional<std::string> Call(Env& env, std::string_view method, const std::string& target, int* code,
                                std::string_view body, std::string content_type) {
  http::Client client(env.api);
  std::vector<std::pair<std::string, std::string>> headers;
  if (!content_type.empty()) headers.emplace_back("Content-Type", content_type);
  if (!env.token.empty()) headers.emplace_back("Authorization", "Bearer " + env.token);
  auto r = client.Do(method, target, body, headers);
  if (!r.ok()) {
    env.err << "berth: " << r.status().message() << "\n";
    *code = 1;
    return std::nullopt;
  }
  if (r->status >= 300) {
    std::string msg = r->body;
    auto parsed = json::parse(r->body, nullptr, false);
    if (!parsed.is_discarded() && parsed.is_object() && parsed.contains("error") && parsed["error"].is_string())
      msg = parsed["error"].get<std::string>();
    env.err << "berth: " << msg << " (HTTP " << r->status << ")\n";
    if (r->status == 401 && env.token.empty()) env.err << "berth: give a token with --token or BERTH_TOKEN\n";
    *code = 1;
    return std::nullopt;
  }
  return r->body;
}

std::optional<json> CallJson(Env& env, std::string_view method, const std::string& target, int* code,
                                       std::string_view request_body) {
  auto body = Call(env, method, target, code, request_body);
  if (!body) return std::nullopt;
  auto parsed = json::parse(*body, nullptr, false);
  if (parsed.is_discarded()) {
    env.err << "berth: the daemon sent invalid JSON\n";
    *code = 1;
    return std::nullopt;
  }
  return parsed;
}

std::string Str(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

}  // namespace berth::cli
