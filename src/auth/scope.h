// Scopes: what a credential may read or change, as a list of rules {zone, names, types,
// access}. Names are relative to the rule's zone ("@" apex, "*" any name in the zone,
// "*.dyn" any name strictly below dyn.<zone>, "home" exactly home.<zone>); write implies read.
// A rule applies to its zone only (never to a child zone served separately).
// Values built once and then only read: thread-compatible; the functions are pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/status.h"
#include "dns/wire/name.h"

namespace berth::auth {

enum class Access : uint8_t { kRead, kWrite };
// "read" / "write".
std::string_view AccessName(Access access);

// One name pattern of a rule, resolved against the rule's zone.
struct NamePattern {
  enum class Kind : uint8_t { kAny, kExact, kBelow };
  Kind kind = Kind::kAny;
  dns::Name name;    // kExact: the name; kBelow: strict descendants of it; kAny: the zone
  std::string text;  // as written, for listings
};

struct ScopeRule {
  dns::Name zone;                  // absolute, lower-case
  std::vector<NamePattern> names;  // never empty
  std::vector<uint16_t> types;     // empty: every type
  Access access = Access::kRead;

  // Parses one rule. An empty `names` means ["*"]; an empty `types` or one holding "*" means
  // every type; `access` is "read" or "write". kInvalidArgument naming the bad part (zone name,
  // absolute or malformed pattern, '*' other than as the whole first label, unknown type).
  static Result<ScopeRule> Make(std::string_view zone, const std::vector<std::string>& names,
                                const std::vector<std::string>& types, std::string_view access);

  // True when `owner` (inside the zone or not) matches one of the name patterns.
  bool CoversName(const dns::Name& owner) const;
  bool CoversType(uint16_t type) const;
  // Every name and every type ("*", all types).
  bool CoversWholeZone() const;
};

using Scope = std::vector<ScopeRule>;

// Any rule for exactly `zone` (read or write).
bool ScopeMayRead(const Scope& scope, const dns::Name& zone);
// A rule for `zone` covering owner and type (read or write).
bool ScopeMayReadRecord(const Scope& scope, const dns::Name& zone, const dns::Name& owner, uint16_t type);
// A write rule for `zone` covering owner and type; false when owner is outside the zone.
bool ScopeMayWrite(const Scope& scope, const dns::Name& zone, const dns::Name& owner, uint16_t type);
// A write rule for `zone` covering every name and type: may create or delete that zone.
bool ScopeMayManageZone(const Scope& scope, const dns::Name& zone);

// JSON form: [{"zone": "a.internal.", "names": ["*"], "types": ["A"], "access": "write"}]
// ("types" omitted means all). ScopeFromJson: kInvalidArgument naming the bad element.
nlohmann::json ScopeToJson(const Scope& scope);
Result<Scope> ScopeFromJson(const nlohmann::json& json);

}  // namespace berth::auth
