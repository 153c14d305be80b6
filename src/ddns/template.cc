#include "ddns/template.h"

#include <algorithm>

#include "core/log.h"
#include "http/url.h"

namespace berth::ddns {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// Walks the template once; `emit` gets literal text and (variable, escape) pairs.
template <class Literal, class Var>
Status Walk(std::string_view tmpl, Escape bare, Literal literal, Var var) {
  size_t pos = 0;
  while (pos < tmpl.size()) {
    size_t open = tmpl.find("{{", pos);
    if (open == std::string_view::npos) {
      literal(tmpl.substr(pos));
      break;
    }
    literal(tmpl.substr(pos, open - pos));
    size_t close = tmpl.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return InvalidArgument("template: '{{' at offset " + std::to_string(open) + " is never closed");
    }
    std::string_view inner = tmpl.substr(open + 2, close - open - 2);
    Escape escape = bare;
    if (size_t bar = inner.find('|'); bar != std::string_view::npos) {
      std::string_view filter = Trim(inner.substr(bar + 1));
      inner = inner.substr(0, bar);
      if (filter == "url") escape = Escape::kUrl;
      else if (filter == "json") escape = Escape::kJson;
      else if (filter == "raw") escape = Escape::kRaw;
      else return InvalidArgument("template: unknown filter '" + std::string(filter) + "' (want url, json or raw)");
    }
    RETURN_IF_ERROR(var(Trim(inner), escape));
    pos = close + 2;
  }
  return Status::Ok();
}

}  // namespace

Status ValidateTemplate(std::string_view tmpl, const std::vector<std::string_view>& known) {
  return Walk(
      tmpl, Escape::kRaw, [](std::string_view) {},
      [&](std::string_view name, Escape) {
        if (std::find(known.begin(), known.end(), name) != known.end()) return Status::Ok();
        std::string list;
        for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        return InvalidArgument("template: unknown variable '" + std::string(name) + "' (known: " + list + ")");
      });
}

Result<std::string> RenderTemplate(std::string_view tmpl, const TemplateVars& vars, Escape bare) {
  std::string out;
  Status s = Walk(
      tmpl, bare, [&](std::string_view text) { out += text; },
      [&](std::string_view name, Escape escape) {
        auto it = vars.find(name);
        if (it == vars.end()) return InvalidArgument("template: unknown variable '" + std::string(name) + "'");
        switch (escape) {
          case Escape::kRaw: out += it->second; break;
          case Escape::kUrl: out += http::PercentEncode(it->second); break;
          case Escape::kJson: log::AppendJsonEscaped(it->second, out); break;
        }
        return Status::Ok();
      });
  if (!s.ok()) return s;
  return out;
}

const std::vector<std::string_view>& WebhookVariables() {
  static const std::vector<std::string_view> v = {"address", "name", "zone", "type", "ttl", "job"};
  return v;
}

const std::vector<std::string_view>& NotifyVariables() {
  static const std::vector<std::string_view> v = {"address", "names", "type", "ttl", "job",
                                                  "event", "previous", "error", "failures"};
  return v;
}

}  // namespace berth::ddns
