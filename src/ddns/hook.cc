#include "ddns/hook.h"

#include "ddns/fetch.h"

namespace berth::ddns {

Status SendHook(const HookRequest& hook, const TemplateVars& vars, std::chrono::milliseconds timeout,
                std::string_view what) {
  FetchRequest req;
  req.method = hook.method;
  ASSIGN_OR_RETURN(req.url, RenderTemplate(hook.url, vars, Escape::kUrl));
  for (const auto& [name, value] : hook.headers) {
    ASSIGN_OR_RETURN(std::string v, RenderTemplate(value, vars));
    req.headers.emplace_back(name, std::move(v));
  }
  ASSIGN_OR_RETURN(req.body, RenderTemplate(hook.body, vars));
  req.timeout = timeout;
  auto r = Fetch(req);
  if (!r.ok()) return r.status().WithContext(what);
  if (r->status < 200 || r->status > 299) {
    return Unavailable(std::string(what) + ": " + req.method + " " + RedactUrl(req.url) + " answered HTTP " +
                       std::to_string(r->status) + (r->body.empty() ? "" : ": " + r->body.substr(0, 200)));
  }
  return Status::Ok();
}

}  // namespace berth::ddns
