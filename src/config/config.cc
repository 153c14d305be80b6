#include "config/config.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>

#include "dns/transfer/acl.h"

namespace berth::config {
namespace {

// ---- Value parsers shared by the file and the flags -----------------------------------------

Result<int64_t> ParseInteger(std::string_view text, int64_t min, int64_t max) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value < min ||
      value > max) {
    return InvalidArgument("'" + std::string(text) + "' is not an integer from " +
                           std::to_string(min) + " to " + std::to_string(max));
  }
  return value;
}

Result<dns::Name> ParseZoneName(std::string_view text) {
  // Zone names are absolute; accept "internal" as "internal." rather than reject it.
  std::string absolute(text);
  if (absolute.empty()) return InvalidArgument("zone name is empty");
  if (absolute.back() != '.') absolute += '.';
  auto name = dns::Name::FromText(absolute);
  if (!name.ok()) {
    return InvalidArgument("bad zone name '" + std::string(text) + "': " +
                           name.status().message());
  }
  return name;
}

// `zone.file` may be empty only for a store zone declared in the file (settings only).
Status AddZone(Config& c, std::string_view name_text, ZoneConfig zone, bool need_file) {
  ASSIGN_OR_RETURN(dns::Name name, ParseZoneName(name_text));
  if (need_file && zone.file.empty()) return InvalidArgument("zone '" + name.ToText() + "' has no file");
  for (const auto& z : c.zones) {
    if (z.name == name) return InvalidArgument("zone '" + name.ToText() + "' is listed twice");
  }
  zone.name = name.Lowercased();
  c.zones.push_back(std::move(zone));
  return Status::Ok();
}

Result<bool> ParseBool(std::string_view v) {
  if (v == "true" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "no" || v == "off") return false;
  return InvalidArgument("'" + std::string(v) + "' is not true or false");
}

// One source of the admin token (the last one given wins; flags override the file).
Status SetAdminToken(Config& c, std::optional<std::string> inline_value, std::optional<std::string> file,
                     std::optional<std::string> env) {
  ASSIGN_OR_RETURN(std::string token, auth::ReadSecret("admin token", inline_value, file, env));
  if (token.size() < 16) return InvalidArgument("the admin token must be at least 16 characters");
  c.auth.admin_token = auth::Secret::Plain(std::move(token));
  return Status::Ok();
}

// ---- The key table: one entry per leaf key, used by both the YAML walker and the flags -----

using ApplyFn = Status (*)(Config&, std::string_view);
using ClearFn = void (*)(Config&);

struct Key {
  std::string_view path;  // "dns.tcp.idle_timeout"
  std::string_view flag;  // "--dns-tcp-idle-timeout"
  std::string_view help;
  ApplyFn apply;          // parses one value (one list item for list keys) into the Config
  ClearFn clear;          // list keys: empties the list before items are applied; else null
  bool non_empty = false; // list keys that must keep at least one item
  bool boolean = false;   // a flag without a value ("--insecure-api"); "true"/"false" in YAML
};

template <typename T>
Status SetUnsigned(std::string_view text, int64_t min, int64_t max, T& field) {
  ASSIGN_OR_RETURN(int64_t v, ParseInteger(text, min, max));
  field = static_cast<T>(v);
  return Status::Ok();
}

// A load-moderation pause: "250us" or a duration, at most 1ms; 0 turns it off.
Status SetPause(std::string_view text, std::chrono::microseconds& field) {
  if (text.size() > 2 && text.substr(text.size() - 2) == "us") {
    ASSIGN_OR_RETURN(int64_t n, ParseInteger(text.substr(0, text.size() - 2), 0, 1000));
    field = std::chrono::microseconds(n);
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(auto d, ParseDuration(text));
  if (d > std::chrono::milliseconds(1)) return InvalidArgument("must be at most 1ms");
  field = std::chrono::duration_cast<std::chrono::microseconds>(d);
  return Status::Ok();
}

// One item of a list-of-CIDR key.
Status AppendCidr(std::string_view text, std::vector<Cidr>& list) {
  ASSIGN_OR_RETURN(auto cidr, Cidr::Parse(text));
  list.push_back(cidr);
  return Status::Ok();
}

// A rate-limit interval: at most a day; 0 turns the limit off.
Status SetInterval(std::string_view text, std::chrono::milliseconds& field) {
  ASSIGN_OR_RETURN(auto d, ParseDuration(text));
  if (d > std::chrono::hours(24)) return InvalidArgument("must be at most 24h");
  field = d;
  return Status::Ok();
}

const Key kKeys[] = {
    {"state_dir", "--state-dir", "Directory for the state database and runtime files",
     [](Config& c, std::string_view v) {
       if (v.empty()) return InvalidArgument("must not be empty");
       c.state_dir = std::string(v);
       return Status::Ok();
     },
     nullptr},
    {"log.format", "--log-format", "Log format: text or json",
     [](Config& c, std::string_view v) {
       ASSIGN_OR_RETURN(c.log.format, log::ParseFormat(v));
       return Status::Ok();
     },
     nullptr},
    {"log.level", "--log-level", "Log level: trace, debug, info, warn, error, critical, off",
     [](Config& c, std::string_view v) {
       ASSIGN_OR_RETURN(c.log.level, log::ParseLevel(v));
       return Status::Ok();
     },
     nullptr},
    {"dns.listen", "--dns-listen", "DNS address ip:port or [ipv6]:port (UDP+TCP; repeatable)",
     [](Config& c, std::string_view v) {
       ASSIGN_OR_RETURN(auto a, SocketAddress::Parse(v, kDefaultDnsPort));
       c.dns.listen.push_back(a);
       return Status::Ok();
     },
     [](Config& c) { c.dns.listen.clear(); }, /*non_empty=*/true},
    {"dns.workers", "--dns-workers", "DNS worker threads (0 = one per core)",
     [](Config& c, std::string_view v) { return SetUnsigned(v, 0, 1024, c.dns.workers); },
     nullptr},
    {"dns.forward", "--dns-forward", "Upstream resolver ip or ip:port (repeatable; 'none': no forwarding)",
     [](Config& c, std::string_view v) {
       if (v == "none") return Status::Ok();  // the list was emptied: authoritative only
       ASSIGN_OR_RETURN(auto a, SocketAddress::Parse(v, kDefaultDnsPort));
       c.dns.forward->push_back(a);
       return Status::Ok();
     },
     [](Config& c) { c.dns.forward.emplace(); }},
    {"dns.allow_recursion", "--allow-recursion", "CIDR allowed recursion (repeatable)",
     [](Config& c, std::string_view v) { return AppendCidr(v, c.dns.allow_recursion); },
     [](Config& c) { c.dns.allow_recursion.clear(); }},
    {"dns.cache_size", "--dns-cache-size", "Answer cache size in entries (0 disables)",
     [](Config& c, std::string_view v) { return SetUnsigned(v, 0, 100'000'000, c.dns.cache_size); },
     nullptr},
    {"dns.tcp.idle_timeout", "--dns-tcp-idle-timeout", "Idle TCP connection timeout (10s, 500ms)",
     [](Config& c, std::string_view v) {
       ASSIGN_OR_RETURN(auto d, ParseDuration(v));
       if (d.count() <= 0 || d > std::chrono::hours(1)) {
         return InvalidArgument("must be more than 0 and at most 1h");
       }
       c.dns.tcp.idle_timeout = d;
       return Status::Ok();
     },
     nullptr},
    {"dns.tcp.max_connections", "--dns-tcp-max-connections", "Concurrent TCP connections",
     [](Config& c, std::string_view v) {
       return SetUnsigned(v, 1, 1'000'000, c.dns.tcp.max_connections);
     },
     nullptr},
    {"dns.tcp.coalesce", "--dns-tcp-coalesce", "Longest pause after a TCP wakeup under load (100us, 0 = off)",
     [](Config& c, std::string_view v) { return SetPause(v, c.dns.tcp.coalesce); }, nullptr},
    {"dns.edns_udp_size", "--dns-edns-udp-size", "EDNS UDP payload size (512-4096)",
     [](Config& c, std::string_view v) { return SetUnsigned(v, 512, 4096, c.dns.edns_udp_size); },
     nullptr},
    {"dns.udp_coalesce", "--dns-udp-coalesce", "Longest pause after a partial UDP batch under load (400us, 0 = off)",
     [](Config& c, std::string_view v) { return SetPause(v, c.dns.udp_coalesce); }, nullptr},
    {"dns.udp_gso", "--dns-udp-gso", "Send UDP answers to one client as GSO sends (true, false)",
     [](Config& c, std::string_view v) {
       ASSIGN_OR_RETURN(c.dns.udp_gso, ParseBool(v));
       return Status::Ok();
     },
     nullptr},
    {"api.listen", "--api-listen", "HTTP API address ip:port (\"\" disables)",
     [](Config& c, std::string_view v) {
       if (v.empty()) {
         c.api.listen.reset();
         return Status::Ok();
       }
       ASSIGN_OR_RETURN(c.api.listen, SocketAddress::Parse(v, kDefaultApiPort));
       return Status::Ok();
     },
     nullptr},
    {"api.socket", "--api-socket", "Unix socket path for the CLI (\"\" disables)",
     [](Config& c, std::string_view v) {
       c.api.socket = std::string(v);
       return Status::Ok();
     },
     nullptr},
    {"api.tls_cert", "--api-tls-cert", "PEM certificate chain for TLS on api.listen",
     [](Config& c, std::string_view v) {
       c.api.tls_cert = std::string(v);
       return Status::Ok();
     },
     nullptr},
    {"api.tls_key", "--api-tls-key", "PEM private key for TLS on api.listen",
     [](Config& c, std::string_view v) {
       c.api.tls_key = std::string(v);
       return Status::Ok();
     },
     nullptr},
    {"api.insecure", "--insecure-api", "Allow a non-loopback api.listen without TLS",
     [](Config& c, std::string_view v) {
       ASSIGN_OR_RETURN(c.api.insecure, ParseBool(v));
       return Status::Ok();
     },
     nullptr, false, /*boolean=*/true},
    {"dyndns.ttl", "--dyndns-ttl", "TTL of the records dyndns2 writes (seconds)",
     [](Config& c, std::string_view v) { return SetUnsigned(v, 0, 604800, c.dyndns.ttl); },
     nullptr},
    {"dyndns.max_hosts", "--dyndns-max-hosts", "Hostnames one dyndns2 request may name (more: numhost)",
     [](Config& c, std::string_view v) { return SetUnsigned(v, 1, 1000, c.dyndns.max_hosts); },
     nullptr},
    {"dyndns.trusted_proxies", "--dyndns-trusted-proxy", "CIDR of a reverse proxy whose X-Forwarded-For dyndns2 believes (repeatable)",
     [](Config& c, std::string_view v) { return AppendCidr(v, c.dyndns.trusted_proxies); },
     [](Config& c) { c.dyndns.trusted_proxies.clear(); }},
    {"dyndns.change_burst", "--dyndns-change-burst", "dyndns2 requests that change DNS a user may make at once",
     [](Config& c, std::string_view v) { return SetUnsigned(v, 1, 1'000'000, c.dyndns.per_user_changes.burst); },
     nullptr},
    {"dyndns.change_every", "--dyndns-change-every", "Then one more change per this (5s; 0: no limit)",
     [](Config& c, std::string_view v) { return SetInterval(v, c.dyndns.per_user_changes.refill); },
     nullptr},
    {"dyndns.request_burst", "--dyndns-request-burst", "dyndns2 requests (nochg too) a user may make at once",
     [](Config& c, std::string_view v) { return SetUnsigned(v, 1, 1'000'000, c.dyndns.per_user_requests.burst); },
     nullptr},
    {"dyndns.request_every", "--dyndns-request-every", "Then one more request per this (1s; 0: no limit)",
     [](Config& c, std::string_view v) { return SetInterval(v, c.dyndns.per_user_requests.refill); },
     nullptr},
    {"dyndns.bad_auth_burst", "--dyndns-bad-auth-burst", "Failed dyndns2 logins a client address may make at once",
     [](Config& c, std::string_view v) { return SetUnsigned(v, 1, 1'000'000, c.dyndns.bad_auth_per_client.burst); },
     nullptr},
    {"dyndns.bad_auth_every", "--dyndns-bad-auth-every", "Then one more failed login per this (1m; 0: no limit)",
     [](Config& c, std::string_view v) { return SetInterval(v, c.dyndns.bad_auth_per_client.refill); },
     nullptr},
    {"networks.enabled", "--networks", "Manage container networks (bridges, veths, nftables) on this host",
     [](Config& c, std::string_view v) {
       ASSIGN_OR_RETURN(c.networks.enabled, ParseBool(v));
       return Status::Ok();
     },
     nullptr, false, /*boolean=*/true},
    {"networks.default_subnet", "--default-subnet", "Subnet of the default network (default: a free pool subnet)",
     [](Config& c, std::string_view v) {
       ASSIGN_OR_RETURN(auto cidr, Cidr::Parse(v));
       c.networks.default_subnet = cidr;
       return Status::Ok();
     },
     nullptr},
    {"networks.nft_table", "--nft-table", "Name of berth's nftables table (family inet)",
     [](Config& c, std::string_view v) {
       if (v.empty() || v.size() > 64) return InvalidArgument("must have 1-64 characters");
       for (char ch : v) {
         if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_') return InvalidArgument("may only hold letters, digits and '_'");
       }
       c.networks.nft_table = std::string(v);
       return Status::Ok();
     },
     nullptr},
    // No inline flag for the admin token: argv is visible to every local user.
    {"auth.admin_token", "", "Admin token (file only; prefer _file or _env)",
     [](Config& c, std::string_view v) { return SetAdminToken(c, std::string(v), std::nullopt, std::nullopt); },
     nullptr},
    {"auth.admin_token_file", "--admin-token-file", "File holding the admin API token",
     [](Config& c, std::string_view v) { return SetAdminToken(c, std::nullopt, std::string(v), std::nullopt); },
     nullptr},
    {"auth.admin_token_env", "--admin-token-env", "Environment variable holding the admin API token",
     [](Config& c, std::string_view v) { return SetAdminToken(c, std::nullopt, std::nullopt, std::string(v)); },
     nullptr},
    {"ddns_only", "--ddns-only", "Run only the DDNS updater (and the API)",
     [](Config& c, std::string_view v) {
       ASSIGN_OR_RETURN(c.ddns_only, ParseBool(v));
       return Status::Ok();
     },
     nullptr, false, /*boolean=*/true},
    {"zones", "--zone", "Zone from a file, NAME=FILE (repeatable)",
     [](Config& c, std::string_view v) {
       size_t eq = v.find('=');
       if (eq == std::string_view::npos) return InvalidArgument("want NAME=FILE");
       ZoneConfig z;
       z.file = std::string(v.substr(eq + 1));
       return AddZone(c, v.substr(0, eq), std::move(z), /*need_file=*/true);
     },
     [](Config& c) { c.zones.clear(); }},
};

// Mappings that only group other keys.
constexpr std::string_view kSections[] = {"log", "dns", "dns.tcp", "api", "dyndns", "auth", "networks"};
// Lists of credential mappings under auth:, parsed by YamlReader::Credentials.
constexpr std::string_view kCredentialLists[] = {"auth.tokens", "auth.users", "auth.tsig_keys"};

const Key* FindKey(std::string_view path) {
  for (const auto& k : kKeys) {
    if (k.path == path) return &k;
  }
  return nullptr;
}

bool IsSection(std::string_view path) {
  for (auto s : kSections) {
    if (s == path) return true;
  }
  return false;
}

// ---- YAML walker ------------------------------------------------------------------------

class YamlReader {
 public:
  explicit YamlReader(std::string_view source) : source_(source) {}

  Status Error(const YAML::Mark& mark, std::string_view key, std::string_view reason) const {
    std::string msg = source_;
    if (!mark.is_null()) {
      msg += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
    }
    msg += ": ";
    if (!key.empty()) msg += "key '" + std::string(key) + "': ";
    msg += reason;
    return InvalidArgument(std::move(msg));
  }

  // Walks a mapping whose keys live under `prefix` ("" at the top).
  Status Map(const YAML::Node& node, const YAML::Mark& mark, const std::string& prefix,
             Config& c) {
    if (!node.IsMap()) return Error(mark, prefix, "expected a mapping of keys");
    for (auto it = node.begin(); it != node.end(); ++it) {
      const YAML::Node key_node = it->first;  // copies: `it->` yields a temporary proxy
      const YAML::Node value = it->second;
      if (!key_node.IsScalar()) return Error(key_node.Mark(), prefix, "keys must be plain names");
      std::string path = prefix.empty() ? key_node.Scalar() : prefix + "." + key_node.Scalar();
      YAML::Mark value_mark = value.Mark().is_null() ? key_node.Mark() : value.Mark();
      if (value.IsNull()) {
        if (!IsSection(path) && FindKey(path) == nullptr &&
            std::find(std::begin(kCredentialLists), std::end(kCredentialLists), path) == std::end(kCredentialLists) &&
            path != "ddns") {
          return Error(key_node.Mark(), path, "unknown key");
        }
        continue;  // "key:" with no value keeps the default
      }
      if (IsSection(path)) {
        RETURN_IF_ERROR(Map(value, value_mark, path, c));
      } else if (path == "zones") {
        RETURN_IF_ERROR(Zones(value, value_mark, c));
      } else if (path == "ddns") {
        ddns::YamlContext ctx{[this](const YAML::Mark& m, std::string_view k, std::string_view why) { return Error(m, k, why); },
                              ParseDuration};
        ASSIGN_OR_RETURN(c.ddns, ddns::ParseDdnsConfig(value, ctx));
      } else if (path == "auth.tokens") {
        RETURN_IF_ERROR(Credentials(value, value_mark, path, auth::CredentialKind::kToken, c));
      } else if (path == "auth.users") {
        RETURN_IF_ERROR(Credentials(value, value_mark, path, auth::CredentialKind::kUser, c));
      } else if (path == "auth.tsig_keys") {
        RETURN_IF_ERROR(Credentials(value, value_mark, path, auth::CredentialKind::kTsigKey, c));
      } else if (const Key* key = FindKey(path)) {
        RETURN_IF_ERROR(Leaf(*key, value, value_mark, c));
      } else {
        return Error(key_node.Mark(), path, "unknown key");
      }
    }
    return Status::Ok();
  }

 private:
  Status Leaf(const Key& key, const YAML::Node& value, const YAML::Mark& mark, Config& c) {
    if (key.clear == nullptr) {
      if (!value.IsScalar()) return Error(mark, key.path, "expected a single value");
      Status s = key.apply(c, value.Scalar());
      return s.ok() ? s : Error(mark, key.path, s.message());
    }
    key.clear(c);
    if (value.IsScalar()) {  // a single item may be written without brackets
      Status s = key.apply(c, value.Scalar());
      return s.ok() ? s : Error(mark, key.path, s.message());
    }
    if (!value.IsSequence()) return Error(mark, key.path, "expected a list");
    if (key.non_empty && value.size() == 0) return Error(mark, key.path, "must not be empty");
    for (size_t i = 0; i < value.size(); ++i) {
      const YAML::Node& item = value[i];
      std::string item_key = std::string(key.path) + "[" + std::to_string(i) + "]";
      if (!item.IsScalar()) return Error(item.Mark(), item_key, "expected a single value");
      Status s = key.apply(c, item.Scalar());
      if (!s.ok()) return Error(item.Mark(), item_key, s.message());
    }
    return Status::Ok();
  }

  // A scalar or a list of scalars, as strings.
  Status Strings(const YAML::Node& value, const YAML::Mark& mark, const std::string& key,
                 std::vector<std::string>* out) {
    out->clear();
    if (value.IsScalar()) {
      out->push_back(value.Scalar());
      return Status::Ok();
    }
    if (!value.IsSequence()) return Error(mark, key, "expected a list");
    for (size_t i = 0; i < value.size(); ++i) {
      if (!value[i].IsScalar()) return Error(value[i].Mark(), key + "[" + std::to_string(i) + "]", "expected a single value");
      out->push_back(value[i].Scalar());
    }
    return Status::Ok();
  }

  Status Zones(const YAML::Node& value, const YAML::Mark& mark, Config& c) {
    if (!value.IsSequence()) return Error(mark, "zones", "expected a list of {name, file}");
    c.zones.clear();
    for (size_t i = 0; i < value.size(); ++i) {
      const YAML::Node& item = value[i];
      std::string prefix = "zones[" + std::to_string(i) + "]";
      if (!item.IsMap()) return Error(item.Mark(), prefix, "expected a mapping {name, file}");
      std::string name;
      ZoneConfig zone;
      YAML::Mark name_mark = item.Mark();
      for (auto it = item.begin(); it != item.end(); ++it) {
        std::string field = it->first.IsScalar() ? it->first.Scalar() : "";
        std::string path = prefix + "." + field;
        const YAML::Node v = it->second;
        YAML::Mark vmark = v.Mark().is_null() ? it->first.Mark() : v.Mark();
        if (field == "notify" || field == "allow_transfer") {
          std::vector<std::string> items;
          RETURN_IF_ERROR(Strings(v, vmark, path, &items));
          if (field == "allow_transfer") {
            auto acl = dns::transfer::TransferAcl::Parse(items);
            if (!acl.ok()) return Error(vmark, path, acl.status().message());
            zone.allow_transfer = std::move(items);
            continue;
          }
          for (size_t k = 0; k < items.size(); ++k) {
            auto a = SocketAddress::Parse(items[k], kDefaultDnsPort);
            if (!a.ok()) return Error(vmark, path + "[" + std::to_string(k) + "]", a.status().message());
            zone.notify.push_back(*a);
          }
          continue;
        }
        if (field != "name" && field != "file") {
          return Error(it->first.Mark(), path, "unknown key (want name, file, notify, allow_transfer)");
        }
        if (!v.IsScalar()) return Error(it->first.Mark(), path, "expected a single value");
        (field == "name" ? name : zone.file) = v.Scalar();
        if (field == "name") name_mark = v.Mark();
      }
      if (name.empty()) return Error(item.Mark(), prefix + ".name", "missing");
      Status s = AddZone(c, name, std::move(zone), /*need_file=*/false);
      if (!s.ok()) return Error(name_mark, prefix + ".name", s.message());
    }
    return Status::Ok();
  }

  // YAML scope rules -> the JSON form auth::ScopeFromJson reads, one rule at a time so that an
  // error points at its rule.
  Result<auth::Scope> Scope(const YAML::Node& value, const YAML::Mark& mark, const std::string& key) {
    if (!value.IsSequence()) return Error(mark, key, "expected a list of {zone, names, types, access}");
    auth::Scope scope;
    for (size_t i = 0; i < value.size(); ++i) {
      const YAML::Node& rule = value[i];
      std::string rkey = key + "[" + std::to_string(i) + "]";
      if (!rule.IsMap()) return Error(rule.Mark(), rkey, "expected a mapping {zone, names, types, access}");
      nlohmann::json j = nlohmann::json::object();
      for (auto it = rule.begin(); it != rule.end(); ++it) {
        std::string field = it->first.IsScalar() ? it->first.Scalar() : "";
        if (it->second.IsScalar() && (field == "zone" || field == "access")) {
          j[field] = it->second.Scalar();
        } else {
          std::vector<std::string> items;
          RETURN_IF_ERROR(Strings(it->second, it->second.Mark(), rkey + "." + field, &items));
          j[field] = items;
        }
      }
      if (!j.contains("zone")) return Error(rule.Mark(), rkey + ".zone", "missing");
      if (!j.contains("access")) return Error(rule.Mark(), rkey + ".access", "missing (read or write)");
      auto parsed = auth::ScopeFromJson(nlohmann::json::array({j}));
      if (!parsed.ok()) {
        std::string msg = parsed.status().message();
        if (msg.starts_with("scope[0]: ")) msg = msg.substr(10);
        return Error(rule.Mark(), rkey, msg);
      }
      scope.push_back(std::move(parsed->front()));
    }
    return scope;
  }

  // auth.tokens / auth.users / auth.tsig_keys: lists of {name, <secret source>, scope}.
  Status Credentials(const YAML::Node& value, const YAML::Mark& mark, const std::string& key,
                     auth::CredentialKind kind, Config& c) {
    if (!value.IsSequence()) return Error(mark, key, "expected a list of {name, secret, scope}");
    using K = auth::CredentialKind;
    // The secret's key stem: "secret" for tokens and keys, "password" for users.
    const std::string stem = kind == K::kUser ? "password" : "secret";
    if (kind == K::kToken) c.auth.tokens.clear();
    if (kind == K::kUser) c.auth.users.clear();
    if (kind == K::kTsigKey) c.auth.tsig_keys.clear();
    for (size_t i = 0; i < value.size(); ++i) {
      const YAML::Node& item = value[i];
      std::string prefix = key + "[" + std::to_string(i) + "]";
      if (!item.IsMap()) return Error(item.Mark(), prefix, "expected a mapping {name, " + stem + ", scope}");
      std::string name, algorithm = "hmac-sha256";
      std::optional<std::string> inline_secret, file, env, hash;
      auth::Scope scope;
      YAML::Mark secret_mark = item.Mark();
      for (auto it = item.begin(); it != item.end(); ++it) {
        std::string field = it->first.IsScalar() ? it->first.Scalar() : "";
        std::string path = prefix + "." + field;
        const YAML::Node v = it->second;
        YAML::Mark vmark = v.Mark().is_null() ? it->first.Mark() : v.Mark();
        if (field == "scope") {
          auto s = Scope(v, vmark, path);
          if (!s.ok()) return s.status();
          scope = std::move(*s);
          continue;
        }
        std::optional<std::string>* slot = nullptr;
        if (field == stem) slot = &inline_secret;
        else if (field == stem + "_file") slot = &file;
        else if (field == stem + "_env") slot = &env;
        else if (field == stem + "_hash" && kind != K::kTsigKey) slot = &hash;
        else if (field != "name" && !(field == "algorithm" && kind == K::kTsigKey)) {
          return Error(it->first.Mark(), path,
                       "unknown key (want name, " + stem + ", " + stem + "_file, " + stem + "_env, " +
                           (kind == K::kTsigKey ? "algorithm" : stem + "_hash") + ", scope)");
        }
        if (!v.IsScalar()) return Error(vmark, path, "expected a single value");
        if (slot != nullptr) {
          *slot = v.Scalar();
          secret_mark = vmark;
        } else {
          (field == "name" ? name : algorithm) = v.Scalar();
        }
      }
      if (name.empty()) return Error(item.Mark(), prefix + ".name", "missing");
      if (kind != K::kTsigKey) {
        Status s = auth::ValidateCredentialName(name);
        if (!s.ok()) return Error(item.Mark(), prefix + ".name", s.message());
      }
      auth::Secret secret;
      if (hash) {
        if (inline_secret || file || env) {
          return Error(secret_mark, prefix, "give " + stem + "_hash or a plain " + stem + ", not both");
        }
        auto h = auth::Secret::CryptHash(*hash);
        if (!h.ok()) return Error(secret_mark, prefix + "." + stem + "_hash", h.status().message());
        secret = std::move(*h);
      } else {
        auto plain = auth::ReadSecret(stem, inline_secret, file, env);
        if (!plain.ok()) return Error(secret_mark, prefix, plain.status().message());
        secret = auth::Secret::Plain(std::move(*plain));
      }
      switch (kind) {
        case K::kToken:
          if (secret.kind() == auth::Secret::Kind::kPlain && secret.plain().size() < 16) {
            return Error(secret_mark, prefix + ".secret", "a token secret must be at least 16 characters");
          }
          c.auth.tokens.push_back({name, std::move(secret), std::move(scope)});
          break;
        case K::kUser:
          c.auth.users.push_back({name, std::move(secret), std::move(scope)});
          break;
        case K::kTsigKey: {
          auto k = dns::TsigKey::Make(name, algorithm, secret.plain());
          if (!k.ok()) return Error(secret_mark, prefix, k.status().message());
          c.auth.tsig_keys.push_back({std::move(*k), std::move(scope)});
          break;
        }
      }
    }
    // Duplicate names are caught here so the error has a place.
    std::vector<std::string> names;
    if (kind == K::kToken) for (const auto& t : c.auth.tokens) names.push_back(t.name);
    if (kind == K::kUser) for (const auto& u : c.auth.users) names.push_back(u.name);
    if (kind == K::kTsigKey) for (const auto& k : c.auth.tsig_keys) names.push_back(k.key.name.Lowercased().ToText());
    for (size_t i = 0; i < names.size(); ++i)
      for (size_t j = 0; j < i; ++j)
        if (names[i] == names[j]) return Error(value[i].Mark(), key + "[" + std::to_string(i) + "].name",
                                               "'" + names[i] + "' is listed twice");
    return Status::Ok();
  }

  std::string source_;
};

Status ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("reading " + path, errno);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return IoError("reading " + path, errno);
  *out = std::move(buf).str();
  return Status::Ok();
}

#ifndef BERTH_VERSION
#define BERTH_VERSION "unknown"
#endif

}  // namespace

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  std::string_view unit = text.substr(digits);
  int64_t scale_ms = 0;
  if (unit.empty() || unit == "s") scale_ms = 1000;
  else if (unit == "ms") scale_ms = 1;
  else if (unit == "m") scale_ms = 60'000;
  else if (unit == "h") scale_ms = 3'600'000;
  auto n = ParseInteger(text.substr(0, digits), 0, int64_t{1} << 40);
  if (digits == 0 || scale_ms == 0 || !n.ok()) {
    return InvalidArgument("bad duration '" + std::string(text) +
                           "' (want a number with ms, s, m or h; plain numbers are seconds)");
  }
  return std::chrono::milliseconds(*n * scale_ms);
}

Result<Config> ParseConfigText(std::string_view yaml, std::string_view source_name) {
  YamlReader reader(source_name);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return reader.Error(e.mark, "", "YAML syntax error: " + e.msg);
  }
  Config config;
  if (root.IsNull()) return config;  // an empty file means all defaults
  try {
    RETURN_IF_ERROR(reader.Map(root, root.Mark(), "", config));
  } catch (const YAML::Exception& e) {
    return reader.Error(e.mark, "", e.msg);
  }
  // A file that only sets up DDNS (no dns, no zones) is the home-router case: run just that.
  const YAML::Node& top = root;  // const: lookups must not add keys
  if (top.IsMap() && top["ddns"].IsDefined() && !top["dns"].IsDefined() && !top["zones"].IsDefined()) {
    config.ddns_only = true;
  }
  return config;
}

Status ValidateConfig(const Config& c) {
  if (c.api.tls_cert.empty() != c.api.tls_key.empty()) {
    return InvalidArgument("api.tls_cert and api.tls_key must be given together");
  }
  if (c.api.listen && !c.api.listen->ip().IsLoopback() && c.api.tls_cert.empty() && !c.api.insecure) {
    return InvalidArgument("api.listen " + c.api.listen->ToString() +
                           " is not a loopback address: set api.tls_cert and api.tls_key, or pass "
                           "--insecure-api to serve the API (and its tokens) in clear text");
  }
  return Status::Ok();
}

Result<Config> LoadConfigFile(const std::string& path) {
  std::string text;
  RETURN_IF_ERROR(ReadFile(path, &text).WithContext("config file"));
  return ParseConfigText(text, path);
}

Result<Config> ConfigFromArgs(int argc, const char* const* argv) {
  CLI::App app{"berthd: DNS server and private-cloud network daemon", "berthd"};
  app.set_version_flag("--version", "berthd " BERTH_VERSION);
  std::string config_path;
  app.add_option("--config", config_path, "YAML configuration file (flags override it)");
  struct FlagValue {
    const Key* key;
    std::vector<std::string> values;
    CLI::Option* option;
  };
  std::vector<FlagValue> flags;
  flags.reserve(std::size(kKeys));
  for (const Key& key : kKeys) {
    if (key.flag.empty()) continue;  // file-only keys
    flags.push_back({&key, {}, nullptr});
    FlagValue& f = flags.back();
    std::string help(key.help);
    help += " [" + std::string(key.path) + "]";
    if (key.boolean) {
      f.values = {"true"};
      f.option = app.add_flag(std::string(key.flag))->description(help);
    } else if (key.clear != nullptr) {
      f.option = app.add_option(std::string(key.flag), f.values, help);
    } else {
      f.values.resize(1);
      f.option = app.add_option(std::string(key.flag), f.values[0], help);
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    Config c;
    c.print_and_exit = app.help();
    return c;
  } catch (const CLI::CallForAllHelp&) {
    Config c;
    c.print_and_exit = app.help("", CLI::AppFormatMode::All);
    return c;
  } catch (const CLI::CallForVersion& e) {
    Config c;
    c.print_and_exit = std::string(e.what()) + "\n";
    return c;
  } catch (const CLI::ParseError& e) {
    return InvalidArgument(std::string("command line: ") + e.what());
  }

  Config config;
  if (!config_path.empty()) {
    ASSIGN_OR_RETURN(config, LoadConfigFile(config_path));
  }
  for (const FlagValue& f : flags) {
    if (f.option->count() == 0) continue;
    if (f.key->clear != nullptr) f.key->clear(config);
    for (const auto& v : f.values) {
      Status s = f.key->apply(config, v);
      if (!s.ok()) {
        return InvalidArgument("flag " + std::string(f.key->flag) + " '" + v + "': " +
                               s.message());
      }
    }
  }
  RETURN_IF_ERROR(ValidateConfig(config));
  return config;
}

Result<std::vector<SocketAddress>> ResolvConfNameservers(const std::string& path) {
  std::string text;
  RETURN_IF_ERROR(ReadFile(path, &text));
  std::vector<SocketAddress> servers;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string keyword, address;
    if (!(words >> keyword) || keyword != "nameserver" || !(words >> address)) continue;
    auto ip = IpAddress::Parse(address);  // "fe80::1%eth0" and junk fail and are skipped
    if (ip.ok()) servers.emplace_back(*ip, kDefaultDnsPort);
  }
  return servers;
}

}  // namespace berth::config
