#include "auth/scope.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "dns/wire/types.h"

namespace berth::auth {
namespace {

Result<NamePattern> ParsePattern(const dns::Name& zone, std::string_view text) {
  NamePattern p;
  p.text = std::string(text);
  auto bad = [&](std::string_view why) {
    return InvalidArgument("name pattern '" + std::string(text) + "': " + std::string(why));
  };
  if (text.empty()) return bad("empty");
  if (text.back() == '.') return bad("names are relative to the zone (use '@' for the apex)");
  if (text == "*") {
    p.kind = NamePattern::Kind::kAny;
    p.name = zone;
    return p;
  }
  std::string_view rest = text;
  p.kind = NamePattern::Kind::kExact;
  if (text.starts_with("*.")) {
    p.kind = NamePattern::Kind::kBelow;
    rest = text.substr(2);
  }
  if (rest.find('*') != std::string_view::npos) return bad("'*' may only be the whole first label");
  auto name = dns::Name::FromText(rest, &zone);
  if (!name.ok()) return bad(name.status().message());
  p.name = name->Lowercased();
  return p;
}

}  // namespace

std::string_view AccessName(Access access) { return access == Access::kWrite ? "write" : "read"; }

Result<ScopeRule> ScopeRule::Make(std::string_view zone, const std::vector<std::string>& names,
                                  const std::vector<std::string>& types, std::string_view access) {
  ScopeRule rule;
  std::string zone_text(zone);
  if (zone_text.empty()) return InvalidArgument("scope rule has no zone");
  if (zone_text.back() != '.') zone_text += '.';
  auto z = dns::Name::FromText(zone_text);
  if (!z.ok()) return InvalidArgument("bad zone '" + std::string(zone) + "': " + z.status().message());
  rule.zone = z->Lowercased();
  for (const auto& n : names.empty() ? std::vector<std::string>{"*"} : names) {
    ASSIGN_OR_RETURN(NamePattern p, ParsePattern(rule.zone, n));
    rule.names.push_back(std::move(p));
  }
  bool all_types = types.empty();
  for (const auto& t : types) {
    if (t == "*") {
      all_types = true;
      continue;
    }
    auto type = dns::TypeFromText(t);
    if (!type || *type == 0 || dns::IsMetaType(*type)) return InvalidArgument("unknown record type '" + t + "'");
    rule.types.push_back(*type);
  }
  if (all_types) rule.types.clear();
  if (access == "read") {
    rule.access = Access::kRead;
  } else if (access == "write") {
    rule.access = Access::kWrite;
  } else {
    return InvalidArgument("access must be 'read' or 'write', not '" + std::string(access) + "'");
  }
  return rule;
}

bool ScopeRule::CoversName(const dns::Name& owner) const {
  if (!owner.IsSubdomainOf(zone)) return false;
  for (const auto& p : names) {
    switch (p.kind) {
      case NamePattern::Kind::kAny: return true;
      case NamePattern::Kind::kExact:
        if (owner == p.name) return true;
        break;
      case NamePattern::Kind::kBelow:
        if (owner.IsSubdomainOf(p.name) && !(owner == p.name)) return true;
        break;
    }
  }
  return false;
}

bool ScopeRule::CoversType(uint16_t type) const {
  return types.empty() || std::find(types.begin(), types.end(), type) != types.end();
}

bool ScopeRule::CoversWholeZone() const {
  if (!types.empty()) return false;
  return std::any_of(names.begin(), names.end(), [](const NamePattern& p) { return p.kind == NamePattern::Kind::kAny; });
}

bool ScopeMayRead(const Scope& scope, const dns::Name& zone) {
  return std::any_of(scope.begin(), scope.end(), [&](const ScopeRule& r) { return r.zone == zone; });
}

bool ScopeMayReadRecord(const Scope& scope, const dns::Name& zone, const dns::Name& owner, uint16_t type) {
  return std::any_of(scope.begin(), scope.end(), [&](const ScopeRule& r) {
    return r.zone == zone && r.CoversName(owner) && r.CoversType(type);
  });
}

bool ScopeMayWrite(const Scope& scope, const dns::Name& zone, const dns::Name& owner, uint16_t type) {
  return std::any_of(scope.begin(), scope.end(), [&](const ScopeRule& r) {
    return r.access == Access::kWrite && r.zone == zone && r.CoversName(owner) && r.CoversType(type);
  });
}

bool ScopeMayManageZone(const Scope& scope, const dns::Name& zone) {
  return std::any_of(scope.begin(), scope.end(), [&](const ScopeRule& r) {
    return r.access == Access::kWrite && r.zone == zone && r.CoversWholeZone();
  });
}

nlohmann::json ScopeToJson(const Scope& scope) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : scope) {
    nlohmann::json names = nlohmann::json::array();
    for (const auto& p : r.names) names.push_back(p.text);
    nlohmann::json rule = {{"zone", r.zone.ToText()}, {"names", names}, {"access", AccessName(r.access)}};
    if (!r.types.empty()) {
      nlohmann::json types = nlohmann::json::array();
      for (uint16_t t : r.types) types.push_back(dns::TypeToText(t));
      rule["types"] = types;
    }
    out.push_back(std::move(rule));
  }
  return out;
}

Result<Scope> ScopeFromJson(const nlohmann::json& json) {
  if (!json.is_array()) return InvalidArgument("scope must be a list of rules");
  Scope scope;
  for (size_t i = 0; i < json.size(); ++i) {
    const auto& item = json[i];
    std::string where = "scope[" + std::to_string(i) + "]";
    if (!item.is_object()) return InvalidArgument(where + ": expected an object {zone, names, types, access}");
    std::string zone, access = "read";
    std::vector<std::string> names, types;
    for (const auto& [key, value] : item.items()) {
      if (key == "zone" || key == "access") {
        if (!value.is_string()) return InvalidArgument(where + "." + key + ": expected a string");
        (key == "zone" ? zone : access) = value.get<std::string>();
      } else if (key == "names" || key == "types") {
        auto& list = key == "names" ? names : types;
        if (value.is_string()) {
          list.push_back(value.get<std::string>());
          continue;
        }
        if (!value.is_array()) return InvalidArgument(where + "." + key + ": expected a list of strings");
        for (const auto& v : value) {
          if (!v.is_string()) return InvalidArgument(where + "." + key + ": expected a list of strings");
          list.push_back(v.get<std::string>());
        }
      } else {
        return InvalidArgument(where + ": unknown key '" + key + "' (want zone, names, types, access)");
      }
    }
    auto rule = ScopeRule::Make(zone, names, types, access);
    if (!rule.ok()) return InvalidArgument(where + ": " + rule.status().message());
    scope.push_back(std::move(*rule));
  }
  return scope;
}

}  // namespace berth::auth
