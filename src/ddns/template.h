// Templates for webhook providers and notifications: "{{name}}" is replaced by a variable's
// value, "{{name|url}}" percent-encodes it, "{{name|json}}" escapes it for the inside of a JSON
// string, "{{name|raw}}" inserts it as is. Pure functions: thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace berth::ddns {

using TemplateVars = std::map<std::string, std::string, std::less<>>;

// How a bare "{{name}}" is escaped: raw in bodies, url-encoded in URLs.
enum class Escape : uint8_t { kRaw, kUrl, kJson };

// Checks a template against the variables it may use. kInvalidArgument naming the first
// unknown variable, unknown filter, or unclosed "{{".
Status ValidateTemplate(std::string_view tmpl, const std::vector<std::string_view>& known);

// Renders `tmpl`. kInvalidArgument as ValidateTemplate (a variable missing from `vars`).
Result<std::string> RenderTemplate(std::string_view tmpl, const TemplateVars& vars, Escape bare = Escape::kRaw);

// The variables a provider webhook may use, and those a notification may use.
const std::vector<std::string_view>& WebhookVariables();   // address, name, zone, type, ttl, job
const std::vector<std::string_view>& NotifyVariables();    // + event, previous, names, error, failures

}  // namespace berth::ddns
