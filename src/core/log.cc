#include "core/log.h"

#include <cctype>
#include <chrono>
#include <ctime>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace berth::log {
namespace {

spdlog::level::level_enum ToSpd(Level level) {
  switch (level) {
    case Level::kTrace: return spdlog::level::trace;
    case Level::kDebug: return spdlog::level::debug;
    case Level::kInfo: return spdlog::level::info;
    case Level::kWarn: return spdlog::level::warn;
    case Level::kError: return spdlog::level::err;
    case Level::kCritical: return spdlog::level::critical;
    case Level::kOff: return spdlog::level::off;
  }
  return spdlog::level::info;
}

std::string_view SpdLevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != b[i]) return false;
  }
  return true;
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not valid.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t len;
  uint32_t min;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) { len = 2; min = 0x80; }
  else if ((c & 0xF0) == 0xE0) { len = 3; min = 0x800; }
  else if ((c & 0xF8) == 0xF0) { len = 4; min = 0x10000; }
  else return 0;
  if (i + len > s.size()) return 0;
  uint32_t cp = c & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) {
    auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are invalid UTF-8.
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line;
    line.reserve(64 + msg.payload.size());
    line += "{\"ts\":\"";
    AppendTimestamp(msg.time, line);
    line += "\",\"level\":\"";
    line += SpdLevelName(msg.level);
    line += "\",\"msg\":\"";
    AppendJsonEscaped(std::string_view(msg.payload.data(), msg.payload.size()), line);
    line += '"';
    if (msg.logger_name.size() > 0) {
      line += ",\"logger\":\"";
      AppendJsonEscaped(std::string_view(msg.logger_name.data(), msg.logger_name.size()), line);
      line += '"';
    }
    line += "}\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }

 private:
  static void AppendTimestamp(spdlog::log_clock::time_point tp, std::string& out) {
    auto since = tp.time_since_epoch();
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(since);
    auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since - secs).count();
    std::time_t t = secs.count();
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(buf + n, sizeof(buf) - n, ".%03dZ", static_cast<int>(millis));
    out += buf;
  }
};

}  // namespace

void AppendJsonEscaped(std::string_view text, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    switch (c) {
      case '"': out += "\\\""; ++i; continue;
      case '\\': out += "\\\\"; ++i; continue;
      case '\n': out += "\\n"; ++i; continue;
      case '\r': out += "\\r"; ++i; continue;
      case '\t': out += "\\t"; ++i; continue;
      default: break;
    }
    if (c < 0x20 || c == 0x7F) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
      ++i;
      continue;
    }
    size_t len = Utf8SequenceLength(text, i);
    if (len == 0) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    out.append(text.substr(i, len));
    i += len;
  }
}

std::unique_ptr<spdlog::formatter> MakeJsonFormatter() { return std::make_unique<JsonFormatter>(); }

namespace {

std::unique_ptr<spdlog::formatter> FormatterFor(Format format) {
  if (format == Format::kJson) return MakeJsonFormatter();
  // UTC timestamps in both formats so text and JSON logs line up.
  return std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%eZ %l %v",
                                                     spdlog::pattern_time_type::utc);
}

}  // namespace

void Init(Format format, Level level) {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  sink->set_formatter(FormatterFor(format));
  auto logger = std::make_shared<spdlog::logger>("", std::move(sink));
  logger->set_level(ToSpd(level));
  // Warnings and errors reach the terminal at once even if the process then dies.
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
}

void Reconfigure(Format format, Level level) {
  // In place: the default logger may be in use on other threads, so it is never replaced here.
  // Its level is atomic and each sink swaps its formatter under the sink's own mutex.
  spdlog::logger* logger = spdlog::default_logger_raw();
  for (auto& sink : logger->sinks()) sink->set_formatter(FormatterFor(format));
  logger->set_level(ToSpd(level));
}

Result<Level> ParseLevel(std::string_view text) {
  static constexpr std::pair<std::string_view, Level> kNames[] = {
      {"trace", Level::kTrace}, {"debug", Level::kDebug}, {"info", Level::kInfo},
      {"warn", Level::kWarn},   {"warning", Level::kWarn}, {"error", Level::kError},
      {"critical", Level::kCritical}, {"off", Level::kOff}};
  for (const auto& [name, level] : kNames) {
    if (EqualsIgnoreCase(text, name)) return level;
  }
  return InvalidArgument("unknown log level '" + std::string(text) +
                         "' (want trace, debug, info, warn, error, critical or off)");
}

Result<Format> ParseFormat(std::string_view text) {
  if (EqualsIgnoreCase(text, "text")) return Format::kText;
  if (EqualsIgnoreCase(text, "json")) return Format::kJson;
  return InvalidArgument("unknown log format '" + std::string(text) + "' (want text or json)");
}

std::string_view LevelName(Level level) { return SpdLevelName(ToSpd(level)); }

std::string_view FormatName(Format format) { return format == Format::kJson ? "json" : "text"; }

}  // namespace berth::log
