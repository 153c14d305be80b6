// Templated HTTP hooks: the request a webhook provider or a notification sends, rendered from
// ddns/template.h variables. Thread-safe (each call uses its own HTTP client).
#pragma once

#include <chrono>
#include <string_view>

#include "core/status.h"
#include "ddns/ddns_config.h"
#include "ddns/template.h"

namespace berth::ddns {

// Renders hook (URL values url-encoded, headers and body raw unless filtered) and sends it.
// kInvalidArgument for a template error; Fetch's errors; kUnavailable for a non-2xx answer
// (with the start of its body). `what` prefixes every message.
Status SendHook(const HookRequest& hook, const TemplateVars& vars, std::chrono::milliseconds timeout,
                std::string_view what);

}  // namespace berth::ddns
