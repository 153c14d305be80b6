#include "http/json.h"

namespace berth::http {
namespace {

constexpr int kMaxDepth = 128;

// nlohmann's destructor and dump() recurse; bounding nesting keeps a hostile 8 MiB "[[[[..."
// body from exhausting an io thread's stack.
bool NestingWithin(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

}  // namespace

Result<nlohmann::json> ParseJsonBody(const Request& request) {
  if (request.body.empty()) return InvalidArgument("request body is empty; expected a JSON document");
  if (!NestingWithin(request.body, kMaxDepth)) {
    return InvalidArgument("JSON body nests deeper than " + std::to_string(kMaxDepth) + " levels");
  }
  try {
    return nlohmann::json::parse(request.body);
  } catch (const nlohmann::json::parse_error& e) {
    return InvalidArgument("malformed JSON body at byte " + std::to_string(e.byte));
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("malformed JSON body: ") + e.what());
  }
}

Response JsonError(int status, std::string message) {
  return Response::Json(status, nlohmann::json{{"error", std::move(message)}});
}

int HttpStatusFor(Code code) {
  switch (code) {
    case Code::kOk: return 200;
    case Code::kInvalidArgument: return 400;
    case Code::kUnauthenticated: return 401;
    case Code::kPermissionDenied: return 403;
    case Code::kNotFound: return 404;
    case Code::kAlreadyExists: return 409;
    case Code::kFailedPrecondition: return 409;
    case Code::kResourceExhausted: return 429;
    case Code::kUnavailable: return 503;
    case Code::kDeadlineExceeded: return 504;
    case Code::kIo: return 500;
    case Code::kInternal: return 500;
  }
  return 500;
}

Response ErrorResponse(const Status& status) {
  return JsonError(HttpStatusFor(status.code()), status.message());
}

}  // namespace berth::http
