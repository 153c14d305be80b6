// Process-wide logging setup: configures spdlog's default logger to write text or JSON lines to
// stderr. Call sites log with spdlog directly (spdlog::info("zone {} loaded", name)).
// Init() replaces the default logger and is meant for startup; Reconfigure() changes it in
// place at any time; logging itself is thread-safe (the sink is a mutex-guarded stderr sink).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/formatter.h>

#include "core/status.h"

namespace berth::log {

enum class Format { kText, kJson };
enum class Level { kTrace, kDebug, kInfo, kWarn, kError, kCritical, kOff };

// Installs a stderr logger with the given format and minimum level as spdlog's default.
// Startup only: other threads must not be logging yet.
void Init(Format format, Level level);
// Changes the format and level of the logger Init installed, while other threads log
// (berthd's SIGHUP). Thread-safe.
void Reconfigure(Format format, Level level);
// "trace", "debug", "info", "warn"/"warning", "error", "critical", "off" (case-insensitive);
// kInvalidArgument otherwise.
Result<Level> ParseLevel(std::string_view text);
// "text" or "json" (case-insensitive); kInvalidArgument otherwise.
Result<Format> ParseFormat(std::string_view text);
// The canonical lower-case name of a level ("info") / format ("json").
std::string_view LevelName(Level level);
std::string_view FormatName(Format format);

// The spdlog formatter behind Format::kJson: one object per line with "ts" (UTC, millisecond
// RFC 3339), "level", "msg" and "logger" (when the logger is named), all JSON-escaped.
// Exposed so tests and other sinks (e.g. a file) can reuse it.
std::unique_ptr<spdlog::formatter> MakeJsonFormatter();

// Appends `text` to `out` as the inside of a JSON string (quotes, backslashes, control
// characters escaped; invalid UTF-8 bytes replaced by U+FFFD so the line stays valid JSON).
void AppendJsonEscaped(std::string_view text, std::string& out);

}  // namespace berth::log
