#include "ddns/ddns_config.h"

#include <regex>
#include <set>

#include <yaml-cpp/yaml.h>

#include "auth/secret.h"
#include "ddns/template.h"
#include "dns/wire/types.h"

namespace berth::ddns {

std::string_view ProviderTypeName(ProviderType type) {
  switch (type) {
    case ProviderType::kRfc2136: return "rfc2136";
    case ProviderType::kDyndns2: return "dyndns2";
    case ProviderType::kCloudflare: return "cloudflare";
    case ProviderType::kDnspod: return "dnspod";
    case ProviderType::kAlidns: return "alidns";
    case ProviderType::kWebhook: return "webhook";
  }
  return "?";
}

std::optional<ProviderType> ProviderTypeFromText(std::string_view text) {
  for (auto t : {ProviderType::kRfc2136, ProviderType::kDyndns2, ProviderType::kCloudflare, ProviderType::kDnspod,
                 ProviderType::kAlidns, ProviderType::kWebhook}) {
    if (ProviderTypeName(t) == text) return t;
  }
  return std::nullopt;
}

const ProviderConfig* DdnsConfig::FindProvider(std::string_view name) const {
  for (const auto& p : providers)
    if (p.name == name) return &p;
  return nullptr;
}

namespace {

// One mapping being read: remembers which keys were seen so that unknown ones are reported.
class Reader {
 public:
  Reader(const YamlContext& ctx, const YAML::Node& node, std::string path)
      : ctx_(ctx), node_(node), path_(std::move(path)) {}

  Status Error(std::string_view key, std::string_view reason) const {
    return ctx_.error(node_.Mark(), key.empty() ? path_ : path_ + "." + std::string(key), reason);
  }
  Status ErrorAt(const YAML::Node& n, std::string_view key, std::string_view reason) const {
    YAML::Mark m = n.Mark().is_null() ? node_.Mark() : n.Mark();
    return ctx_.error(m, path_ + "." + std::string(key), reason);
  }
  Status ExpectMap(std::string_view what) const {
    return node_.IsMap() ? Status::Ok() : ctx_.error(node_.Mark(), path_, "expected a mapping " + std::string(what));
  }
  // Unknown keys: anything not in `allowed`.
  Status OnlyKeys(const std::set<std::string, std::less<>>& allowed) const {
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      std::string k = it->first.IsScalar() ? it->first.Scalar() : "";
      if (!allowed.contains(k)) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        return ctx_.error(it->first.Mark(), path_ + "." + k, "unknown key (want " + list + ")");
      }
    }
    return Status::Ok();
  }
  bool Has(std::string_view key) const { return node_[std::string(key)].IsDefined() && !node_[std::string(key)].IsNull(); }
  YAML::Node Get(std::string_view key) const { return node_[std::string(key)]; }

  Result<std::optional<std::string>> OptString(std::string_view key) const {
    if (!Has(key)) return std::optional<std::string>();
    YAML::Node v = Get(key);
    if (!v.IsScalar()) return ErrorAt(v, key, "expected a single value");
    return std::optional<std::string>(v.Scalar());
  }
  Status String(std::string_view key, std::string* out, bool required = false) const {
    ASSIGN_OR_RETURN(auto v, OptString(key));
    if (!v) return required ? Error(key, "missing") : Status::Ok();
    if (required && v->empty()) return ErrorAt(Get(key), key, "must not be empty");
    *out = std::move(*v);
    return Status::Ok();
  }
  Status Strings(std::string_view key, std::vector<std::string>* out) const {
    if (!Has(key)) return Status::Ok();
    YAML::Node v = Get(key);
    out->clear();
    if (v.IsScalar()) {
      out->push_back(v.Scalar());
      return Status::Ok();
    }
    if (!v.IsSequence()) return ErrorAt(v, key, "expected a list");
    for (size_t i = 0; i < v.size(); ++i) {
      if (!v[i].IsScalar()) return ErrorAt(v[i], std::string(key) + "[" + std::to_string(i) + "]", "expected a single value");
      out->push_back(v[i].Scalar());
    }
    return Status::Ok();
  }
  Status Unsigned(std::string_view key, uint64_t min, uint64_t max, uint64_t* out) const {
    ASSIGN_OR_RETURN(auto v, OptString(key));
    if (!v) return Status::Ok();
    uint64_t n = 0;
    bool ok = !v->empty() && v->size() <= 19 && v->find_first_not_of("0123456789") == std::string::npos;
    if (ok) n = std::stoull(*v);
    if (!ok || n < min || n > max) {
      return ErrorAt(Get(key), key, "want a whole number from " + std::to_string(min) + " to " + std::to_string(max));
    }
    *out = n;
    return Status::Ok();
  }
  Status Bool(std::string_view key, bool* out) const {
    ASSIGN_OR_RETURN(auto v, OptString(key));
    if (!v) return Status::Ok();
    if (*v == "true" || *v == "yes") *out = true;
    else if (*v == "false" || *v == "no") *out = false;
    else return ErrorAt(Get(key), key, "want true or false");
    return Status::Ok();
  }
  Status Duration(std::string_view key, std::chrono::milliseconds* out, std::chrono::milliseconds min) const {
    ASSIGN_OR_RETURN(auto v, OptString(key));
    if (!v) return Status::Ok();
    auto d = ctx_.parse_duration(*v);
    if (!d.ok()) return ErrorAt(Get(key), key, d.status().message());
    if (*d < min) return ErrorAt(Get(key), key, "must be at least " + std::to_string(min.count()) + "ms");
    *out = *d;
    return Status::Ok();
  }
  // A secret given as `key`, `key_file` or `key_env` (exactly one; see auth::ReadSecret).
  Status Secret(std::string_view key, Credential* out, bool required) const {
    std::string k(key);
    ASSIGN_OR_RETURN(auto inline_value, OptString(k));
    ASSIGN_OR_RETURN(auto file, OptString(k + "_file"));
    ASSIGN_OR_RETURN(auto env, OptString(k + "_env"));
    if (!inline_value && !file && !env) {
      return required ? Error(k, "missing (give " + k + ", " + k + "_file or " + k + "_env)") : Status::Ok();
    }
    auto secret = auth::ReadSecret(k, inline_value, file, env);
    if (!secret.ok()) return Error(k, secret.status().message());
    *out = Credential(std::move(*secret));
    return Status::Ok();
  }
  // A template string checked against `vars`.
  Status Template(std::string_view key, std::string* out, const std::vector<std::string_view>& vars,
                  bool required) const {
    RETURN_IF_ERROR(String(key, out, required));
    Status s = ValidateTemplate(*out, vars);
    return s.ok() ? s : ErrorAt(Get(key), key, s.message());
  }

  Reader Child(std::string_view key) const { return Reader(ctx_, Get(key), path_ + "." + std::string(key)); }
  const std::string& path() const { return path_; }
  const YAML::Node& node() const { return node_; }

 private:
  const YamlContext& ctx_;
  YAML::Node node_;
  std::string path_;
};

Status ParseUrl(const Reader& r, std::string_view key, const std::string& url) {
  if (!url.starts_with("http://") && !url.starts_with("https://")) {
    return r.ErrorAt(r.Get(key), key, "'" + url + "' is not an http:// or https:// URL");
  }
  return Status::Ok();
}

Status ParseHook(const Reader& r, HookRequest* hook, const std::vector<std::string_view>& vars) {
  RETURN_IF_ERROR(r.Template("url", &hook->url, vars, true));
  RETURN_IF_ERROR(ParseUrl(r, "url", hook->url));
  RETURN_IF_ERROR(r.String("method", &hook->method));
  if (hook->method.empty() || hook->method.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos) {
    return r.ErrorAt(r.Get("method"), "method", "want an upper-case HTTP method such as GET or POST");
  }
  RETURN_IF_ERROR(r.Template("body", &hook->body, vars, false));
  if (r.Has("headers")) {
    YAML::Node h = r.Get("headers");
    if (!h.IsMap()) return r.ErrorAt(h, "headers", "expected a mapping of header: value");
    for (auto it = h.begin(); it != h.end(); ++it) {
      std::string name = it->first.Scalar();
      if (!it->second.IsScalar()) return r.ErrorAt(it->second, "headers." + name, "expected a single value");
      Status s = ValidateTemplate(it->second.Scalar(), vars);
      if (!s.ok()) return r.ErrorAt(it->second, "headers." + name, s.message());
      hook->headers.emplace_back(name, it->second.Scalar());
    }
  }
  return Status::Ok();
}

Result<ProviderConfig> ParseProvider(const Reader& r) {
  RETURN_IF_ERROR(r.ExpectMap("{name, type, ...}"));
  ProviderConfig p;
  RETURN_IF_ERROR(r.String("name", &p.name, true));
  std::string type_text;
  RETURN_IF_ERROR(r.String("type", &type_text, true));
  auto type = ProviderTypeFromText(type_text);
  if (!type) {
    return r.ErrorAt(r.Get("type"), "type",
                     "unknown provider type '" + type_text + "' (want rfc2136, dyndns2, cloudflare, dnspod, alidns or webhook)");
  }
  p.type = *type;
  std::set<std::string, std::less<>> keys = {"name", "type", "timeout"};
  auto allow = [&](std::initializer_list<const char*> more) { keys.insert(more.begin(), more.end()); };
  auto secret_keys = [&](const char* k) { allow({k, (std::string(k) + "_file").c_str(), (std::string(k) + "_env").c_str()}); };
  RETURN_IF_ERROR(r.Duration("timeout", &p.timeout, std::chrono::milliseconds(100)));
  if (p.type != ProviderType::kRfc2136 && p.type != ProviderType::kWebhook) {
    allow({"base_url", "ca_file"});
    RETURN_IF_ERROR(r.String("base_url", &p.base_url));
    RETURN_IF_ERROR(r.String("ca_file", &p.ca_file));
    if (!p.base_url.empty()) RETURN_IF_ERROR(ParseUrl(r, "base_url", p.base_url));
    while (p.base_url.ends_with('/')) p.base_url.pop_back();
  }
  switch (p.type) {
    case ProviderType::kRfc2136: {
      allow({"server", "tsig"});
      std::string server;
      RETURN_IF_ERROR(r.String("server", &server, true));
      auto a = SocketAddress::Parse(server, 53);
      if (!a.ok()) return r.ErrorAt(r.Get("server"), "server", a.status().message());
      p.server = *a;
      if (r.Has("tsig")) {
        Reader t = r.Child("tsig");
        RETURN_IF_ERROR(t.ExpectMap("{name, algorithm, secret}"));
        RETURN_IF_ERROR(t.OnlyKeys({"name", "algorithm", "secret", "secret_file", "secret_env"}));
        std::string name, algorithm = "hmac-sha256";
        RETURN_IF_ERROR(t.String("name", &name, true));
        RETURN_IF_ERROR(t.String("algorithm", &algorithm));
        Credential secret;
        RETURN_IF_ERROR(t.Secret("secret", &secret, true));
        auto key = dns::TsigKey::Make(name, algorithm, secret.reveal());
        if (!key.ok()) return t.Error("", key.status().message());
        p.tsig = std::move(*key);
      }
      break;
    }
    case ProviderType::kDyndns2:
      allow({"username"});
      secret_keys("password");
      RETURN_IF_ERROR(r.String("username", &p.username, true));
      RETURN_IF_ERROR(r.Secret("password", &p.password, true));
      if (p.base_url.empty()) return r.Error("base_url", "missing (the dyndns2 service, e.g. https://members.dyndns.org)");
      break;
    case ProviderType::kCloudflare:
      allow({"proxied"});
      secret_keys("token");
      RETURN_IF_ERROR(r.Secret("token", &p.token, true));
      RETURN_IF_ERROR(r.Bool("proxied", &p.proxied));
      if (p.base_url.empty()) p.base_url = "https://api.cloudflare.com/client/v4";
      break;
    case ProviderType::kDnspod:
      allow({"id"});
      secret_keys("token");
      RETURN_IF_ERROR(r.String("id", &p.username, true));
      RETURN_IF_ERROR(r.Secret("token", &p.token, true));
      if (p.base_url.empty()) p.base_url = "https://dnsapi.cn";
      break;
    case ProviderType::kAlidns:
      allow({"access_key_id"});
      secret_keys("access_key_secret");
      RETURN_IF_ERROR(r.String("access_key_id", &p.username, true));
      RETURN_IF_ERROR(r.Secret("access_key_secret", &p.token, true));
      if (p.base_url.empty()) p.base_url = "https://alidns.aliyuncs.com";
      break;
    case ProviderType::kWebhook:
      allow({"url", "method", "headers", "body"});
      RETURN_IF_ERROR(ParseHook(r, &p.webhook, WebhookVariables()));
      break;
  }
  RETURN_IF_ERROR(r.OnlyKeys(keys));
  return p;
}

Result<SourceConfig> ParseSource(const Reader& r) {
  RETURN_IF_ERROR(r.ExpectMap("{cmd: ...} or {interface: ...} or {urls: [...]}"));
  RETURN_IF_ERROR(r.OnlyKeys({"cmd", "interface", "match", "index", "allow_private", "urls", "timeout"}));
  SourceConfig s;
  int kinds = r.Has("cmd") + r.Has("interface") + r.Has("urls");
  if (kinds != 1) return r.Error("", "give exactly one of cmd, interface or urls");
  RETURN_IF_ERROR(r.Duration("timeout", &s.timeout, std::chrono::milliseconds(100)));
  if (r.Has("cmd")) {
    s.kind = SourceConfig::Kind::kCmd;
    RETURN_IF_ERROR(r.String("cmd", &s.cmd, true));
  } else if (r.Has("urls")) {
    s.kind = SourceConfig::Kind::kUrls;
    RETURN_IF_ERROR(r.Strings("urls", &s.urls));
    if (s.urls.empty()) return r.Error("urls", "must not be empty");
    for (const auto& u : s.urls) RETURN_IF_ERROR(ParseUrl(r, "urls", u));
  } else {
    s.kind = SourceConfig::Kind::kInterface;
    RETURN_IF_ERROR(r.String("interface", &s.interface));
  }
  if (s.kind != SourceConfig::Kind::kInterface && (r.Has("match") || r.Has("index") || r.Has("allow_private"))) {
    return r.Error("", "match, index and allow_private apply to interface sources only");
  }
  RETURN_IF_ERROR(r.String("match", &s.match));
  if (!s.match.empty()) {
    try {
      std::regex re(s.match, std::regex::extended);
    } catch (const std::regex_error& e) {
      return r.ErrorAt(r.Get("match"), "match", std::string("bad regular expression: ") + e.what());
    }
  }
  uint64_t index = 0;
  RETURN_IF_ERROR(r.Unsigned("index", 0, 1000, &index));
  s.index = static_cast<uint32_t>(index);
  RETURN_IF_ERROR(r.Bool("allow_private", &s.allow_private));
  return s;
}

Result<RecordConfig> ParseRecord(const Reader& r, const DdnsConfig& c, size_t index) {
  RETURN_IF_ERROR(r.ExpectMap("{provider, zone, names, type, ttl, source}"));
  RETURN_IF_ERROR(r.OnlyKeys({"job", "provider", "zone", "names", "type", "ttl", "source"}));
  RecordConfig rec;
  RETURN_IF_ERROR(r.String("provider", &rec.provider, true));
  if (c.FindProvider(rec.provider) == nullptr) {
    return r.ErrorAt(r.Get("provider"), "provider", "unknown provider '" + rec.provider + "' (not in ddns.providers)");
  }
  rec.job = rec.provider + "-" + std::to_string(index);
  RETURN_IF_ERROR(r.String("job", &rec.job));
  if (rec.job.empty() || rec.job.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
                             std::string::npos) {
    return r.ErrorAt(r.Get("job"), "job", "a job name is letters, digits, '-', '_' and '.'");
  }
  std::string zone_text;
  RETURN_IF_ERROR(r.String("zone", &zone_text, true));
  if (!zone_text.ends_with('.')) zone_text += '.';
  auto zone = dns::Name::FromText(zone_text);
  if (!zone.ok() || zone->IsRoot()) {
    return r.ErrorAt(r.Get("zone"), "zone", "bad zone '" + zone_text + "'" + (zone.ok() ? "" : ": " + zone.status().message()));
  }
  rec.zone = *zone;
  std::vector<std::string> names;
  RETURN_IF_ERROR(r.Strings("names", &names));
  if (names.empty()) return r.Error("names", "missing (the names this job keeps pointing here)");
  for (size_t i = 0; i < names.size(); ++i) {
    std::string key = "names[" + std::to_string(i) + "]";
    // Relative names are taken inside the zone, like a zone file does; "@" is the apex.
    auto name = dns::Name::FromText(names[i], &rec.zone);
    if (!name.ok()) return r.ErrorAt(r.Get("names"), key, "bad domain '" + names[i] + "': " + name.status().message());
    if (!name->IsSubdomainOf(rec.zone)) {
      return r.ErrorAt(r.Get("names"), key, "'" + name->ToText() + "' is not inside zone " + rec.zone.ToText());
    }
    rec.names.push_back(*name);
  }
  std::string type = "A";
  RETURN_IF_ERROR(r.String("type", &type));
  if (type == "A" || type == "a") rec.type = dns::type::kA;
  else if (type == "AAAA" || type == "aaaa") rec.type = dns::type::kAAAA;
  else return r.ErrorAt(r.Get("type"), "type", "want A or AAAA, not '" + type + "'");
  uint64_t ttl = rec.ttl;
  RETURN_IF_ERROR(r.Unsigned("ttl", 1, 86400 * 7, &ttl));
  rec.ttl = static_cast<uint32_t>(ttl);
  if (!r.Has("source")) return r.Error("source", "missing ({cmd: ...}, {interface: ...} or {urls: [...]})");
  ASSIGN_OR_RETURN(rec.source, ParseSource(r.Child("source")));
  return rec;
}

}  // namespace

Result<DdnsConfig> ParseDdnsConfig(const YAML::Node& node, const YamlContext& ctx) {
  Reader top(ctx, node, "ddns");
  RETURN_IF_ERROR(top.ExpectMap("{interval, providers, records, ...}"));
  RETURN_IF_ERROR(top.OnlyKeys({"interval", "recheck_every", "retry_base", "retry_max", "failure_threshold",
                                "providers", "records", "notify"}));
  DdnsConfig c;
  RETURN_IF_ERROR(top.Duration("interval", &c.interval, std::chrono::seconds(1)));
  RETURN_IF_ERROR(top.Duration("retry_base", &c.retry_base, std::chrono::milliseconds(100)));
  RETURN_IF_ERROR(top.Duration("retry_max", &c.retry_max, std::chrono::milliseconds(100)));
  if (c.retry_max < c.retry_base) return top.Error("retry_max", "must not be below retry_base");
  uint64_t n = c.recheck_every;
  RETURN_IF_ERROR(top.Unsigned("recheck_every", 1, 1'000'000, &n));
  c.recheck_every = static_cast<uint32_t>(n);
  n = c.failure_threshold;
  RETURN_IF_ERROR(top.Unsigned("failure_threshold", 1, 1'000'000, &n));
  c.failure_threshold = static_cast<uint32_t>(n);

  auto list = [&](std::string_view key, auto each) -> Status {
    if (!top.Has(key)) return Status::Ok();
    YAML::Node seq = top.Get(key);
    if (!seq.IsSequence()) return top.ErrorAt(seq, key, "expected a list");
    for (size_t i = 0; i < seq.size(); ++i) {
      RETURN_IF_ERROR(each(Reader(ctx, seq[i], "ddns." + std::string(key) + "[" + std::to_string(i) + "]"), i));
    }
    return Status::Ok();
  };
  RETURN_IF_ERROR(list("providers", [&](const Reader& r, size_t) -> Status {
    ASSIGN_OR_RETURN(ProviderConfig p, ParseProvider(r));
    if (c.FindProvider(p.name)) return r.ErrorAt(r.Get("name"), "name", "provider '" + p.name + "' is listed twice");
    c.providers.push_back(std::move(p));
    return Status::Ok();
  }));
  RETURN_IF_ERROR(list("records", [&](const Reader& r, size_t i) -> Status {
    ASSIGN_OR_RETURN(RecordConfig rec, ParseRecord(r, c, i));
    for (const auto& other : c.records)
      if (other.job == rec.job) return r.Error("job", "job '" + rec.job + "' is listed twice");
    c.records.push_back(std::move(rec));
    return Status::Ok();
  }));
  RETURN_IF_ERROR(list("notify", [&](const Reader& r, size_t) -> Status {
    RETURN_IF_ERROR(r.ExpectMap("{url, on, ...}"));
    RETURN_IF_ERROR(r.OnlyKeys({"url", "method", "headers", "body", "on"}));
    NotifyConfig nc;
    RETURN_IF_ERROR(ParseHook(r, &nc.request, NotifyVariables()));
    if (r.Has("on")) {
      std::vector<std::string> on;
      RETURN_IF_ERROR(r.Strings("on", &on));
      nc.on_change = nc.on_failure = false;
      for (const auto& e : on) {
        if (e == "change") nc.on_change = true;
        else if (e == "failure") nc.on_failure = true;
        else return r.ErrorAt(r.Get("on"), "on", "unknown event '" + e + "' (want change, failure)");
      }
    }
    c.notify.push_back(std::move(nc));
    return Status::Ok();
  }));
  if (!c.records.empty() && c.providers.empty()) return top.Error("providers", "missing");
  return c;
}

}  // namespace berth::ddns
